"""``kseal bootstrap``: decrypt SOPS-encrypted Secrets in memory and apply them, all or nothing.

Every file is read, decrypted, MAC-checked and validated (``kseal.bootstrap``) before the first
request to the cluster; the cluster side is ``kseal.cluster.apply``. Nothing decrypted is ever
written to disk or printed: plans, diffs and summaries name kinds, objects and key names only.
On GitHub Actions the values are masked (``::add-mask::``) before any other output.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kseal.errors import ConflictError, InputError, KsealError, NoFileError, NotEncryptedError

if TYPE_CHECKING:
    from kseal.bootstrap import Change, Item
    from kseal.ci import Ci, Row
    from kseal.cluster.apply import Cluster

_MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


def bootstrap(
    paths: Annotated[
        list[str],
        typer.Argument(
            metavar="FILE|DIR...",
            help="SOPS-encrypted manifests (YAML, multi-document, or JSON); a directory is "
            "read for *.yaml, *.yml and *.json files.",
        ),
    ],
    allow_kind: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-kind",
            help="Also apply this kind (repeatable), e.g. ConfigMap or SecretStore.",
        ),
    ] = None,
    namespace: Annotated[
        str | None,
        typer.Option("-n", "--namespace", help="Namespace for documents that name none."),
    ] = None,
    create_namespace: Annotated[
        bool, typer.Option("--create-namespace", help="Create missing namespaces.")
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Decrypt and validate offline, print the plan; no cluster contact."
        ),
    ] = False,
    diff: Annotated[
        bool,
        typer.Option(
            "--diff", help="Compare with the cluster: print added/changed/removed key names only."
        ),
    ] = False,
    age_key_file: Annotated[
        list[str] | None,
        typer.Option(
            "--age-key-file", help="An age identity file (repeatable), added to the usual ones."
        ),
    ] = None,
    kubeconfig: Annotated[str | None, typer.Option("--kubeconfig", help="Kubeconfig file.")] = None,
    context: Annotated[str | None, typer.Option("--context", help="Kubeconfig context.")] = None,
) -> None:
    """Decrypt SOPS-encrypted Secrets in memory and apply them to the cluster, all or nothing."""
    from kseal import bootstrap as plan
    from kseal import ci as ci_mod

    if dry_run and diff:
        raise ConflictError(
            "--dry-run and --diff cannot be used together",
            hints=["--dry-run stays offline; --diff reads the cluster"],
        )
    env = _identity_env(os.environ, age_key_file or [])
    items = plan.build(_documents(paths, env), allowed_kinds=allow_kind or [], namespace=namespace)
    ci = ci_mod.detect(os.environ)
    _emit(ci_mod.mask_lines(ci, plan.values(items)))
    rows: list[Row]
    if dry_run:
        rows = _dry_run(items)
    else:
        cluster = _connect(kubeconfig, context)
        rows = []
        try:
            _against(cluster, items, rows, create_namespace=create_namespace, diff=diff)
        except KsealError as exc:
            if rows:  # what was applied before the failure, for the CI log
                _finish(ci, rows, "kseal bootstrap (failed)")
                exc.hints = (*exc.hints, f"{len(rows)} object(s) were handled before this error")
            raise
    _finish(ci, rows, "kseal bootstrap" + (" (dry run)" if dry_run else " (diff)" if diff else ""))


def _emit(lines: Sequence[str]) -> None:
    if lines:
        sys.stdout.write("".join(f"{line}\n" for line in lines))
        sys.stdout.flush()


# ---- reading and decrypting (in memory) -----------------------------------------------------


def _identity_env(env: Mapping[str, str], key_files: Sequence[str]) -> dict[str, str]:
    """The environment identities are discovered from, with ``--age-key-file`` contents added
    to ``KSEAL_AGE_KEY`` (in this process's memory only)."""
    out = dict(env)
    texts = [out.get("KSEAL_AGE_KEY", "")]
    for name in key_files:
        try:
            texts.append(Path(name).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise NoFileError(f"{name}: no such age identity file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(
                f"{name}: cannot read the age identity file ({type(exc).__name__})"
            ) from None
    if key_files:
        out["KSEAL_AGE_KEY"] = "\n".join(t for t in texts if t)
    return out


def _files(paths: Sequence[str]) -> list[tuple[Path, bool]]:
    """(file, named explicitly) for every argument; directories give their manifests."""
    from kseal.filewalk import files_under

    out: list[tuple[Path, bool]] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            out += [
                (f, False) for f in files_under(path) if f.name.lower().endswith(_MANIFEST_SUFFIXES)
            ]
        elif path.is_file():
            out.append((path, True))
        else:
            raise NoFileError(f"{name}: no such file or directory")
    if not out:
        raise InputError("no manifests found in " + ", ".join(paths))
    return out


def _documents(paths: Sequence[str], env: Mapping[str, str]) -> list[tuple[str, object]]:
    """Every document of every file, decrypted and MAC-checked, as plain data."""
    out: list[tuple[str, object]] = []
    for path, explicit in _files(paths):
        docs = _decrypt(path, env, explicit)
        out += [(str(path), doc) for doc in docs]
    return out


def _decrypt(path: Path, env: Mapping[str, str], explicit: bool) -> list[object]:
    from kseal.cli.common import ask_passphrase
    from kseal.identities import unwrap_data_key
    from kseal.sops.engine import decrypt_tree
    from kseal.sops.stores import format_for_path, get_store
    from kseal.sops.tree import to_plain

    fmt = format_for_path(path.name)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({type(exc).__name__})") from None
    try:
        dec = decrypt_tree(
            data,
            get_store(fmt),
            unwrap=lambda meta: unwrap_data_key(meta, env, Path.home(), ask_passphrase),
            ignore_mac=False,
        )
    except NotEncryptedError:
        if not explicit and not _mentions_secret(data, fmt):
            return []  # a kustomization.yaml or other plain manifest next to the secrets
        raise InputError(
            f"{path}: not SOPS-encrypted; bootstrap applies only encrypted files, so that no "
            "value sits in Git in clear",
            hints=[f"encrypt it: kseal encrypt -i {path}"],
        ) from None
    except KsealError as exc:
        raise type(exc)(
            f"{path}: {exc.message}", hints=exc.hints, exit_code=exc.exit_code
        ) from None
    return [to_plain(doc) for doc in dec.docs]


def _mentions_secret(data: bytes, fmt: str) -> bool:
    from kseal.sops.stores import get_store
    from kseal.sops.tree import to_plain

    try:
        docs = [to_plain(d) for d in get_store(fmt).load(data).docs]
    except (KsealError, ValueError):
        return False
    return any(isinstance(d, dict) and d.get("kind") == "Secret" for d in docs)


# ---- the cluster -----------------------------------------------------------------------------


def _connect(kubeconfig: str | None, context: str | None) -> Cluster:
    from kseal.cluster import connect
    from kseal.cluster.apply import Cluster

    return Cluster(connect(kubeconfig, context, offline_hint="--dry-run checks the files offline"))


def _against(
    cluster: Cluster, items: Sequence[Item], rows: list[Row], *, create_namespace: bool, diff: bool
) -> None:
    """``--diff``: compare each object; otherwise write the changed ones; a row each in ``rows``."""
    from kseal.cluster.apply import missing_namespace

    cluster.resolve(items)
    missing = cluster.missing_namespaces(items)
    if missing and not diff and not create_namespace:
        raise missing_namespace(missing[0])
    for ns in [] if diff else missing:
        cluster.create_namespace(ns)
    for item in items:
        absent = cluster.namespace(item) in missing
        current = None if absent else cluster.current(item)
        if diff:
            rows.append(_diff_row(item, current))
        else:
            rows.append(_row(item, cluster.write(item, current)))


def _row(item: Item, result: str) -> Row:
    from kseal.ci import Row

    return Row(item.kind, item.namespace, item.name, item.keys, result)


def _diff_row(item: Item, current: dict[str, Any] | None) -> Row:
    from kseal.bootstrap import compare

    change = compare(item, current)
    result = (
        "would leave unchanged"
        if change.unchanged
        else "would update"
        if change.exists
        else "would create"
    )
    _emit([f"{item.label}: {result}", *_change_lines(change)])
    return _row(item, result)


def _change_lines(change: Change) -> list[str]:
    lines = [f"  + {k}" for k in change.added]
    lines += [f"  ~ {k}" for k in change.changed]
    lines += [f"  - {k}" for k in change.removed]
    if change.exists and change.metadata:
        lines.append("  ~ (type, labels or annotations)")
    return lines


def _dry_run(items: Sequence[Item]) -> list[Row]:
    for item in items:
        _emit([f"{item.label} (from {item.source}): keys {', '.join(item.keys) or '-'}"])
    return [_row(item, "would apply") for item in items]


def _finish(ci: Ci | None, rows: Sequence[Row], title: str) -> None:
    from kseal.ci import summary_markdown, summary_text

    sys.stdout.write(summary_text(rows))
    sys.stdout.flush()
    if ci is not None and ci.summary_path:
        with open(ci.summary_path, "a", encoding="utf-8") as out:
            out.write(summary_markdown(rows, title))


def register(app: typer.Typer) -> None:
    app.command("bootstrap")(bootstrap)
