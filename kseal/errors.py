"""The error vocabulary of kseal.

Every failure kseal reports is a :class:`KsealError`: a one-line message, optional hint lines and an
exit code. Only the CLI turns them into text on stderr and a process exit status. Messages and hints
are built from metadata (paths, key fingerprints, recipient strings, rule names), never from secret
values, data keys or private keys.

Exit codes follow the sops table for the situations sops defines, so scripts written for sops keep
working; :class:`ExitCode` is the one table of them (docs/cli.md is generated from it).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum


class ExitCode(IntEnum):
    """Every exit status kseal uses; sops's numbers where sops defines the situation."""

    OK = 0
    GENERIC = 1
    INPUT = 2
    USAGE = 2  # a command-line usage error: click's code, which sops's CouldNotReadInputFile shares
    OUTPUT = 3
    INTERNAL = 3  # kseal caught its own mistake, or an unexpected error
    EMIT = 4
    SET_PATH = 7  # sops's ErrorInvalidSetFormat: a malformed set/unset path
    CONFLICT = 8
    ENCRYPT = 23
    DECRYPT = 25
    MAC = 51
    TREE_PATH = 91
    NO_DOCUMENT = 92
    NO_FILE = 100
    DECRYPTION_ORDER = 112
    KEY_RETRIEVAL = 128
    INTERRUPTED = 130
    BROKEN_PIPE = 141
    NOT_MODIFIED = 200
    ALREADY_ENCRYPTED = 203


# What each code means, for the table in docs/cli.md (aliases share their value's row).
MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "success",
    ExitCode.GENERIC: "generic error: no matching `.sops.yaml` rule, sops metadata missing or "
    "malformed, bad recipient; an `--extract`/`unset` path that names nothing; `filestatus` of "
    "a missing file; `diff`: the files differ; `check`: findings at error level",
    ExitCode.INPUT: "the input cannot be read or parsed; also a command-line usage error "
    "(unknown command or option, missing argument, bad value)",
    ExitCode.OUTPUT: "the output cannot be written; an unexpected internal error (rerun with "
    "`--debug`)",
    ExitCode.EMIT: "the tree cannot be written in the requested format",
    ExitCode.CONFLICT: "conflicting options (`-i` with `--output`, `-i` with stdin, two "
    "selection rules)",
    ExitCode.ENCRYPT: "a value could not be encrypted",
    ExitCode.DECRYPT: "a value is malformed or failed authentication (tampered, or moved to "
    "another path)",
    ExitCode.MAC: "the MAC is missing, cannot be decrypted, or does not match",
    ExitCode.SET_PATH: "malformed `set`/`unset` path (as sops)",
    ExitCode.TREE_PATH: "malformed `--extract` path",
    ExitCode.NO_DOCUMENT: "the input holds no document",
    ExitCode.NO_FILE: "the named file does not exist",
    ExitCode.DECRYPTION_ORDER: "`--decryption-order` or `SOPS_DECRYPTION_ORDER` names a key "
    "type twice",
    ExitCode.KEY_RETRIEVAL: "no identity could decrypt the data key (the hints list what was "
    "tried)",
    ExitCode.INTERRUPTED: "interrupted (143 for SIGTERM, 129 for SIGHUP during `edit`)",
    ExitCode.BROKEN_PIPE: "the output pipe was closed by its reader",
    ExitCode.NOT_MODIFIED: "`edit`: the file was not changed, nothing written",
    ExitCode.ALREADY_ENCRYPTED: "the file is already encrypted",
}

SIGNAL_BASE = 128  # a process killed by signal N exits with SIGNAL_BASE + N, as shells report it


def killed_by(signum: int) -> int:
    """The exit status of a process ended by signal ``signum``."""
    return SIGNAL_BASE + signum


class KsealError(Exception):
    """Base class: ``message`` is one line, ``hints`` are extra advice lines."""

    exit_code: int = ExitCode.GENERIC

    def __init__(self, message: str, *, hints: Iterable[str] = (), exit_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.hints = tuple(hints)
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


def text_position(text: str, index: int) -> str:
    """`` at line L, column C`` (1-based) for the character ``index`` of ``text``, for a parse error.

    Parsers report the end of the input as a position after the final line break, on a line the
    file does not have; that position is reported at the end of the last line instead.
    """
    index = max(0, min(index, len(text)))
    if index == len(text) and text.endswith("\n"):
        index -= 1
    line_start = text.rfind("\n", 0, index) + 1
    return f" at line {text.count(chr(10), 0, index) + 1}, column {index - line_start + 1}"


class InputError(KsealError):
    """The input could not be read or parsed (sops: CouldNotReadInputFile)."""

    exit_code = ExitCode.INPUT


class OutputError(KsealError):
    """The output could not be written (sops: CouldNotWriteOutputFile)."""

    exit_code = ExitCode.OUTPUT


class EmitError(KsealError):
    """The tree cannot be written in the requested format (sops: ErrorDumpingTree)."""

    exit_code = ExitCode.EMIT


class ConflictError(KsealError):
    """Options that cannot be used together (sops: ErrorConflictingParameters)."""

    exit_code = ExitCode.CONFLICT


class EncryptError(KsealError):
    """A value could not be encrypted (sops: ErrorEncryptingTree)."""

    exit_code = ExitCode.ENCRYPT


class DecryptError(KsealError):
    """A value is malformed or failed authentication (sops: ErrorDecryptingTree)."""

    exit_code = ExitCode.DECRYPT


class MacError(KsealError):
    """The document MAC is missing, undecryptable or wrong (sops: MacMismatch)."""

    exit_code = ExitCode.MAC


class TreePathError(KsealError):
    """A ``["a"][0]`` path is malformed or names nothing (sops: InvalidTreePathFormat)."""

    exit_code = ExitCode.TREE_PATH


class PathNotFoundError(TreePathError):
    """A well-formed tree path names nothing in the file (sops: a generic error, exit 1, for
    ``--extract`` and ``unset``)."""

    exit_code = ExitCode.GENERIC


class NoDocumentError(KsealError):
    """The input holds no document (sops: NeedAtLeastOneDocument)."""

    exit_code = ExitCode.NO_DOCUMENT


class NoFileError(KsealError):
    """The named file does not exist (sops: NoFileSpecified)."""

    exit_code = ExitCode.NO_FILE


class DecryptionOrderError(KsealError):
    """``--decryption-order`` or ``SOPS_DECRYPTION_ORDER`` names a key type twice (sops:
    DuplicateDecryptionKeyType)."""

    exit_code = ExitCode.DECRYPTION_ORDER


class KeyRetrievalError(KsealError):
    """No identity could unwrap the data key (sops: CouldNotRetrieveKey)."""

    exit_code = ExitCode.KEY_RETRIEVAL


class AlreadyEncryptedError(KsealError):
    """Refusing to encrypt a file that already carries sops metadata (sops: FileAlreadyEncrypted)."""

    exit_code = ExitCode.ALREADY_ENCRYPTED


class ConfigError(KsealError):
    """``.sops.yaml`` is unreadable or has no rule for the file."""

    exit_code = ExitCode.GENERIC


class MetadataError(KsealError):
    """The ``sops`` metadata block is missing or malformed."""

    exit_code = ExitCode.GENERIC


class NotEncryptedError(MetadataError):
    """The file has no ``sops`` metadata at all."""


class NoMatchingRuleError(ConfigError):
    """``.sops.yaml`` has rules, but none matches the file."""


class KeyMaterialError(KsealError):
    """A recipient or identity is malformed or unusable."""

    exit_code = ExitCode.GENERIC


class ClusterError(KsealError):
    """The Kubernetes API or the controller could not be reached or refused a request."""

    exit_code = ExitCode.GENERIC


class InternalError(KsealError):
    """kseal caught its own mistake before it did harm (e.g. a rewrite that would not decrypt)."""

    exit_code = ExitCode.INTERNAL
