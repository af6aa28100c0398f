"""``kseal rotate`` and ``kseal updatekeys``: changing who can decrypt a file, and its data key."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kseal.cli.common import stores_for, unwrap
from kseal.cli.options import Config, InputType
from kseal.errors import ConflictError, KsealError

if TYPE_CHECKING:
    from kseal.sops.workflows import KeyUpdate

Files = Annotated[
    list[str],
    typer.Argument(
        metavar="FILE...", help="Files, directories or quoted globs.", show_default=False
    ),
]


def rotate(
    files: Files,
    in_place: Annotated[
        bool, typer.Option("-i", "--in-place", help="Write the result over FILE.")
    ] = False,
    output: Annotated[
        str | None, typer.Option("--output", help="Write the result to this file.")
    ] = None,
    add_age: Annotated[
        str | None,
        typer.Option("--add-age", help="Comma-separated age recipients to add (first group)."),
    ] = None,
    rm_age: Annotated[
        str | None, typer.Option("--rm-age", help="Comma-separated age recipients to remove.")
    ] = None,
    input_type: InputType = None,
) -> None:
    """Give FILE a new data key (re-encrypting every value), like 'sops rotate'."""
    from kseal.cli import bulk

    add = _split(add_age)
    remove = _split(rm_age)
    if bulk.is_bulk(files):
        if output:
            raise ConflictError("--output takes a single FILE")
        bulk.in_place_only(files, in_place, "rotated")
        code = bulk.run(
            "rotate",
            bulk.expand(files),
            lambda p: _rotate_one(str(p), str(p), add, remove, input_type),
            skip=bulk.NOT_ENCRYPTED,
            only_encrypted=True,
        )
        raise typer.Exit(code)
    if in_place and output:
        raise ConflictError("--in-place and --output cannot be used together")
    file = files[0]
    _rotate_one(file, file if in_place else output, add, remove, input_type)


def _split(text: str | None) -> list[str]:
    from kseal import agekey

    out = agekey.split_recipients(text or "")
    for r in out:
        agekey.parse_recipient(r)
    return out


def _rotate_one(
    file: str,
    destination: str | None,
    add: list[str],
    remove: list[str],
    input_type: str | None,
) -> str:
    from datetime import UTC, datetime

    from kseal import agekey
    from kseal.cli.common import decrypt_to_change
    from kseal.fileio import read_input, write_output
    from kseal.sops import workflows

    store, _ = stores_for(file, None, input_type, None)
    dec = decrypt_to_change(file, read_input(file), store)
    result = workflows.rotate(
        dec,
        store,
        add=add,
        remove=remove,
        wrap=agekey.wrap_key,
        random=os.urandom,
        now=datetime.now(UTC),
    )
    write_output(destination, result, plaintext=False)
    return "new data key"


def updatekeys(
    files: Files,
    yes: Annotated[bool, typer.Option("-y", "--yes", help="Do not ask for confirmation.")] = False,
    input_type: InputType = None,
    config: Config = None,
) -> None:
    """Re-wrap FILE's data key for the recipients .sops.yaml names now, like 'sops updatekeys'."""
    from kseal.cli import bulk

    if not yes and not sys.stdin.isatty():
        raise ConflictError(
            "updatekeys asks before changing a file, and stdin is not a terminal",
            hints=["pass -y to apply the changes without asking"],
        )
    targets = bulk.expand(files)
    code = bulk.run(
        "updatekeys",
        targets,
        lambda p: _update_one(p, yes, input_type, config),
        interactive=not yes,
    )
    raise typer.Exit(code)


def _update_one(path: Path, yes: bool, input_type: str | None, config: str | None) -> str:
    from kseal import agekey
    from kseal.cli.bulk import Skip
    from kseal.cli.creation import creation_rule
    from kseal.fileio import read_input, write_atomic
    from kseal.sops import workflows

    rule = creation_rule(str(path), None, config)
    if rule is None:
        raise KsealError(
            "no .sops.yaml found: updatekeys applies its creation rules",
            hints=["run it inside the repository, or pass --config"],
        )
    store, _ = stores_for(str(path), None, input_type, None)
    data = read_input(str(path))
    if b"sops" not in data:
        raise Skip("not encrypted")  # not parsed: a Helm template in a tree is no failure
    update = workflows.update_keys(
        data,
        store,
        rule.groups(),
        rule.shamir_threshold,
        unwrap=unwrap,
        wrap=agekey.wrap_key,
        random=os.urandom,
    )
    if not update.changed:
        raise Skip("already up to date")
    _show(str(path), update)
    if not yes and not _confirm():
        raise Skip("not changed (declined)")
    write_atomic(path, update.output, plaintext=False)
    return "keys updated"


def _show(name: str, update: KeyUpdate) -> None:
    lines = [f"The following changes will be made to the file's groups ({name}):"]
    for i in range(max(len(update.before), len(update.after))):
        old = update.before[i] if i < len(update.before) else []
        new = update.after[i] if i < len(update.after) else []
        lines.append(f"Group {i + 1}")
        lines += [f"    {r}" for r in new if r in old]
        lines += [f"+++ {r}" for r in new if r not in old]
        lines += [f"--- {r}" for r in old if r not in new]
    if update.threshold_before != update.threshold_after:
        lines.append(f"Shamir threshold: {update.threshold_before} -> {update.threshold_after}")
    if sys.stderr.isatty():
        from kseal.cli import ui

        ui.print_styled(lines, (("+++", "green"), ("---", "red")), stderr=True)
    else:
        sys.stderr.write("".join(f"{line}\n" for line in lines))


def _confirm() -> bool:
    sys.stderr.write("Is this okay? (y/n): ")
    sys.stderr.flush()
    answer = sys.stdin.readline().strip().lower()
    return answer in ("y", "yes")


def register(app: typer.Typer) -> None:
    app.command("rotate")(rotate)
    app.command("updatekeys")(updatekeys)
