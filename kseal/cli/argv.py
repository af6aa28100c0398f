"""Command lines written for sops, turned into kseal's: ``kseal -d f.yaml`` is
``kseal decrypt f.yaml``, and global options may also follow the command.

Pure: a list of words in, a list of words (and notes for the user) out.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from kseal.cli.commands import GLOBAL_FLAGS, GLOBAL_WITH_VALUE
from kseal.errors import ConflictError

__all__ = ["GLOBAL_FLAGS", "GLOBAL_WITH_VALUE", "Normalized", "normalize"]


# sops's mode flags (its command line before subcommands existed).
MODES = {
    "-e": "encrypt",
    "--encrypt": "encrypt",
    "-d": "decrypt",
    "--decrypt": "decrypt",
    "-r": "rotate",
    "--rotate": "rotate",
}
SHOW_MASTER_KEYS = ("-s", "--show-master-keys")


@dataclass
class Normalized:
    args: list[str]
    notes: list[str] = field(default_factory=list)


def normalize(args: list[str], commands: Collection[str]) -> Normalized:
    """Move global options before the command, and turn a sops mode flag into its command."""
    end = args.index("--") if "--" in args else len(args)
    head, tail = args[:end], args[end:]
    hoisted: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(head):
        word = head[i]
        if word in GLOBAL_FLAGS or word.startswith(tuple(f"{o}=" for o in GLOBAL_WITH_VALUE)):
            hoisted.append(word)
        elif word in GLOBAL_WITH_VALUE:
            hoisted += head[i : i + 2]
            i += 1
        else:
            rest.append(word)
        i += 1
    legacy = _legacy(rest, commands)
    if legacy is None:
        return Normalized(hoisted + rest + tail)
    return Normalized(hoisted + legacy.args + tail, legacy.notes)


def _legacy(rest: list[str], commands: Collection[str]) -> Normalized | None:
    modes: list[str] = []
    show = False
    for word in rest:
        if word in commands:
            break  # a kseal command comes first: its own options are not sops's mode flags
        if word in MODES:
            modes.append(MODES[word])
        elif word in SHOW_MASTER_KEYS:
            show = True
    if not modes and not show:
        return None
    if len(set(modes)) > 1:
        raise ConflictError(
            "choose one of -e (--encrypt), -d (--decrypt) and -r (--rotate)",
            hints=["or name the command: kseal encrypt, kseal decrypt, kseal rotate"],
        )
    words = [w for w in rest if w not in MODES and w not in SHOW_MASTER_KEYS]
    if modes:
        # sops ignores -s outside edit mode, and so does kseal
        return Normalized([modes[0], *words])
    return Normalized(
        ["edit", *words],
        [
            "-s (--show-master-keys) is ignored: kseal edit keeps the sops metadata out of "
            "the editor; change recipients with 'kseal rotate --add-age/--rm-age' or "
            "'kseal updatekeys'"
        ],
    )
