"""``kseal diff`` (a Git textconv driver and a two-file differ) and ``kseal git-setup``.

Encrypted values are shown as ``<redacted:XXXXXXXX>`` markers keyed with a per-user diff key
(see :mod:`kseal.sops.redact`), so a diff tells which values changed without showing them;
``--show-values`` shows the plaintext. Plaintext only ever goes to stdout, never to a file.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kseal.cli.common import stores_for, unwrap
from kseal.errors import (
    ConflictError,
    ExitCode,
    KeyMaterialError,
    KeyRetrievalError,
    KsealError,
    MacError,
)

if TYPE_CHECKING:
    from kseal.sops.rules import Rules
    from kseal.sops.stores import Store
    from kseal.sops.tree import Branch

ShowValues = Annotated[
    bool, typer.Option("--show-values", help="Show decrypted values instead of redaction markers.")
]
MAX_SCAN_BYTES = 64 << 20  # git-setup does not look inside larger files


def _warn(message: str) -> None:
    sys.stderr.write(f"kseal: warning: {message}\n")


def diff_key_path() -> Path:
    config = os.environ.get("XDG_CONFIG_HOME", "")
    base = Path(config) if os.path.isabs(config) else Path.home() / ".config"
    return base / "kseal" / "diff.key"


def load_diff_key() -> bytes:
    """This user's diff key, made on first use (0600 in a 0700 directory)."""
    from kseal.sops.redact import DIFF_KEY_SIZE

    path = diff_key_path()
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        key = _create_diff_key(path)
    except OSError as exc:
        raise KeyMaterialError(f"{path}: cannot read the diff key: {exc.strerror}") from None
    if len(key) != DIFF_KEY_SIZE:
        raise KeyMaterialError(
            f"{path}: not a kseal diff key ({DIFF_KEY_SIZE} bytes expected)",
            hints=["delete it and a new one is made (redaction markers will all change)"],
        )
    return key


def _create_diff_key(path: Path) -> bytes:
    """Write a new key under a temporary name, then link it into place. Unlike a rename, a link
    never replaces a key another process made meanwhile, so concurrent first uses agree."""
    import secrets
    import tempfile

    from kseal.sops.redact import DIFF_KEY_SIZE

    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".diff.key.")  # mode 0600
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(secrets.token_bytes(DIFF_KEY_SIZE))
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another process won: use its key
            except OSError:
                os.replace(tmp, path)  # no hard links on this file system
        finally:
            if os.path.lexists(tmp):
                os.unlink(tmp)
        return path.read_bytes()
    except OSError as exc:
        raise KeyMaterialError(f"{path}: cannot create the diff key: {exc.strerror}") from None


@dataclass
class _Side:
    """One file as the differ sees it: its bytes, and, when it could be read as a document, its
    (decrypted) trees with the selection rules of its sops metadata (None: not encrypted)."""

    data: bytes
    store: Store
    docs: list[Branch] | None = None
    source: object | None = None
    rules: Rules | None = None


def _open_side(path: str, *, lenient: bool) -> _Side:
    from kseal.fileio import read_input
    from kseal.sops import engine

    data = read_input(path)
    store, _ = stores_for(path)
    try:
        loaded = store.load(data)
    except (KsealError, ValueError):
        return _Side(data, store)
    if loaded.metadata is None:
        return _Side(data, store, loaded.docs, loaded.source)
    try:
        try:
            dec = engine.decrypt_tree(data, store, unwrap=unwrap, ignore_mac=False)
        except MacError as err:
            _warn(f"{path}: {err.message}; showing it anyway")
            dec = engine.decrypt_tree(data, store, unwrap=unwrap, ignore_mac=True)
    except KsealError as err:
        if not lenient:
            raise
        nokey = isinstance(err, KeyRetrievalError)
        why = "no identity can decrypt it" if nokey else f"cannot decrypt it ({err.message})"
        _warn(f"{path}: {why}; showing the ciphertext")
        return _Side(data, store)
    return _Side(data, store, dec.docs, dec.source, dec.metadata.rules)


def _render(side: _Side, rules: Rules | None, show_values: bool) -> bytes:
    """``side`` as text, every value ``rules`` select redacted (unless ``show_values``). A file
    that is not encrypted and has no rules to apply is shown as it is."""
    if side.docs is None or (rules is None and side.rules is None):
        return side.data
    if rules is not None and not show_values:
        from kseal.sops.redact import hmac_marker, redact

        redact(side.docs, rules, hmac_marker(load_diff_key()))
    return side.store.emit(side.docs, None, source=side.source, indent=None)


def view(path: str, show_values: bool, *, lenient: bool) -> bytes:
    """FILE decrypted in its own format, redacted unless ``show_values``. A file that is not
    sops-encrypted is returned as is. With ``lenient`` (textconv), a file that cannot be
    decrypted is returned as is, with a warning on stderr, instead of raising."""
    side = _open_side(path, lenient=lenient)
    return _render(side, side.rules, show_values)


def _views(path_a: str, path_b: str, show_values: bool) -> tuple[bytes, bytes]:
    """Both files alike: when only one is encrypted, the other (its plaintext counterpart) is
    redacted with the same rules, so equal values give equal markers and nothing leaks."""
    a, b = _open_side(path_a, lenient=False), _open_side(path_b, lenient=False)
    return (
        _render(a, a.rules or b.rules, show_values),
        _render(b, b.rules or a.rules, show_values),
    )


def diff(
    files: Annotated[
        list[str],
        typer.Argument(metavar="FILE...", help="With --textconv one FILE, else two: A B."),
    ],
    textconv: Annotated[
        bool,
        typer.Option("--textconv", help="Print FILE's decrypted view (Git's textconv driver)."),
    ] = False,
    show_values: ShowValues = False,
) -> None:
    """Show decrypted changes between two files, values redacted (exit 1 if they differ)."""
    if textconv:
        if len(files) != 1:
            raise ConflictError("--textconv takes exactly one FILE")
        sys.stdout.buffer.write(view(files[0], show_values, lenient=True))
        sys.stdout.buffer.flush()
        return
    if len(files) != 2:
        raise ConflictError("kseal diff compares two files: kseal diff A B")
    a, b = _views(files[0], files[1], show_values)
    if a == b:
        return
    _print_diff(_unified(a, b, files[0], files[1]))
    raise typer.Exit(ExitCode.GENERIC)  # like diff: the files differ


def _unified(a: bytes, b: bytes, name_a: str, name_b: str) -> list[str]:
    import difflib

    def lines(data: bytes) -> list[str]:
        return data.decode("utf-8", "surrogateescape").splitlines(keepends=True)

    out = []
    for line in difflib.unified_diff(lines(a), lines(b), f"a/{name_a}", f"b/{name_b}"):
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return out


def _print_diff(lines: list[str]) -> None:
    if not sys.stdout.isatty():
        sys.stdout.buffer.write("".join(lines).encode("utf-8", "surrogateescape"))
        sys.stdout.buffer.flush()
        return
    from kseal.cli import ui

    text = "".join(lines).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    ui.print_styled(text.splitlines(), _STYLES, stderr=False)


_STYLES = (("---", "bold"), ("+++", "bold"), ("@@", "cyan"), ("+", "green"), ("-", "red"))


def git_setup(
    patterns: Annotated[
        list[str] | None,
        typer.Option(
            "--pattern", metavar="GLOB", help="Also mark files matching GLOB (repeatable)."
        ),
    ] = None,
    show_values: ShowValues = False,
) -> None:
    """Make 'git diff' show encrypted files decrypted (values redacted) in this repository."""
    import shutil

    top = Path(_git(None, "rev-parse", "--show-toplevel").decode().rstrip("\n"))
    command = "kseal diff --textconv" + (" --show-values" if show_values else "") + " --"
    _git(top, "config", "diff.kseal.textconv", command)
    # Cached textconv output is kept in git notes: that would put plaintext in the repository.
    _git(top, "config", "diff.kseal.cachetextconv", "false")
    attributes = top / ".gitattributes"
    added = _append(attributes, [f"{_quote(p)} diff=kseal" for p in patterns or ()])
    listed = _git(top, "ls-files", "-z").decode("utf-8", "surrogateescape").split("\0")
    encrypted = [f for f in listed if f and _is_encrypted(top / f)]
    uncovered = _without_kseal_diff(top, encrypted)
    added += _append(attributes, [f"{_quote('/' + _escape_glob(f))} diff=kseal" for f in uncovered])
    say = sys.stderr.write
    say(f'kseal: git config diff.kseal.textconv "{command}"; diff.kseal.cachetextconv false\n')
    for text in added:
        say(f"kseal: {attributes}: added {text}\n")
    if not added:
        say(f"kseal: {attributes}: already up to date\n")
    if shutil.which("kseal") is None:
        _warn("'kseal' is not on PATH: git will not find the textconv command")


def _git(cwd: Path | None, *args: str, stdin: bytes | None = None) -> bytes:
    import subprocess

    try:
        out = subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, check=False)
    except FileNotFoundError:
        raise KsealError("git is not installed (or not on PATH)") from None
    if out.returncode != 0:
        if args[0] == "rev-parse":
            raise KsealError(
                "not inside a Git work tree",
                hints=["run 'kseal git-setup' from inside a clone ('git init' makes one)"],
            )
        detail = out.stderr.decode("utf-8", "replace").strip().splitlines()
        raise KsealError(f"git {args[0]} failed: {detail[-1] if detail else out.returncode}")
    return out.stdout


def _without_kseal_diff(top: Path, paths: list[str]) -> list[str]:
    """The paths whose ``diff`` attribute is not already ``kseal`` (any gitattributes source)."""
    if not paths:
        return []
    query = "".join(p + "\0" for p in paths).encode("utf-8", "surrogateescape")
    fields = _git(top, "check-attr", "-z", "--stdin", "diff", stdin=query).split(b"\0")
    done = {fields[i] for i in range(0, len(fields) - 2, 3) if fields[i + 2] == b"kseal"}
    return [p for p in paths if p.encode("utf-8", "surrogateescape") not in done]


def _escape_glob(path: str) -> str:
    """A literal path as a gitattributes (wildmatch) pattern."""
    return "".join("\\" + c if c in "\\*?[" else c for c in path)


def _quote(pattern: str) -> str:
    """``pattern`` C-quoted when gitattributes would otherwise split or misread it."""
    if pattern[:1] not in ('"', "#", "") and all(
        c.isprintable() and not c.isspace() for c in pattern
    ):
        return pattern
    out = (
        "\\" + c
        if c in '"\\'
        else c
        if c.isprintable()
        else "".join(f"\\{byte:03o}" for byte in c.encode("utf-8", "surrogateescape"))
        for c in pattern
    )
    return '"' + "".join(out) + '"'


def _append(path: Path, lines: list[str]) -> list[str]:
    """Append the ``lines`` not already in ``path``, atomically (mode kept); returns those added."""
    from kseal.fileio import write_atomic

    try:
        text = path.read_bytes().decode("utf-8", "surrogateescape")
    except FileNotFoundError:
        text = ""
    except OSError as exc:
        raise KsealError(f"{path}: cannot read: {exc.strerror}") from None
    present = {line.strip() for line in text.splitlines()}
    new = [line for line in dict.fromkeys(lines) if line not in present]
    if new:
        if text and not text.endswith("\n"):
            text += "\n"
        text += "".join(line + "\n" for line in new)
        write_atomic(path, text.encode("utf-8", "surrogateescape"), plaintext=False)
    return new


def _is_encrypted(path: Path) -> bool:
    """Cheaply: a regular file, not huge, mentioning "sops", whose store finds sops metadata."""
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_SCAN_BYTES:
            return False
        data = path.read_bytes()
    except OSError:
        return False
    from kseal.sops.stores import format_for_path
    from kseal.sopsfile import has_sops_metadata

    return has_sops_metadata(data, format_for_path(str(path)))


def register(app: typer.Typer) -> None:
    app.command("diff")(diff)
    app.command("git-setup")(git_setup)
