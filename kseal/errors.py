"""The error vocabulary of kseal.

Every failure kseal reports is a :class:`KsealError`: a one-line message, optional hint lines and an
exit code. Only the CLI turns them into text on stderr and a process exit status. Messages and hints
are built from metadata (paths, key fingerprints, recipient strings, rule names), never from secret
values, data keys or private keys.

Exit codes follow the sops table for the situations sops defines, so scripts written for sops keep
working; the full table is in docs/cli.md.
"""

from __future__ import annotations

from collections.abc import Iterable


class KsealError(Exception):
    """Base class: ``message`` is one line, ``hints`` are extra advice lines."""

    exit_code = 1

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

    exit_code = 2


class OutputError(KsealError):
    """The output could not be written (sops: CouldNotWriteOutputFile)."""

    exit_code = 3


class EmitError(KsealError):
    """The tree cannot be written in the requested format (sops: ErrorDumpingTree)."""

    exit_code = 4


class ConflictError(KsealError):
    """Options that cannot be used together (sops: ErrorConflictingParameters)."""

    exit_code = 8


class EncryptError(KsealError):
    """A value could not be encrypted (sops: ErrorEncryptingTree)."""

    exit_code = 23


class DecryptError(KsealError):
    """A value is malformed or failed authentication (sops: ErrorDecryptingTree)."""

    exit_code = 25


class MacError(KsealError):
    """The document MAC is missing, undecryptable or wrong (sops: MacMismatch)."""

    exit_code = 51


class TreePathError(KsealError):
    """A ``["a"][0]`` path is malformed or names nothing (sops: InvalidTreePathFormat)."""

    exit_code = 91


class PathNotFoundError(TreePathError):
    """A well-formed tree path names nothing in the file (sops: a generic error, exit 1, for
    ``--extract`` and ``unset``)."""

    exit_code = 1


class NoDocumentError(KsealError):
    """The input holds no document (sops: NeedAtLeastOneDocument)."""

    exit_code = 92


class NoFileError(KsealError):
    """The named file does not exist (sops: NoFileSpecified)."""

    exit_code = 100


class DecryptionOrderError(KsealError):
    """``--decryption-order`` or ``SOPS_DECRYPTION_ORDER`` names a key type twice (sops:
    DuplicateDecryptionKeyType)."""

    exit_code = 112


class KeyRetrievalError(KsealError):
    """No identity could unwrap the data key (sops: CouldNotRetrieveKey)."""

    exit_code = 128


class AlreadyEncryptedError(KsealError):
    """Refusing to encrypt a file that already carries sops metadata (sops: FileAlreadyEncrypted)."""

    exit_code = 203


class ConfigError(KsealError):
    """``.sops.yaml`` is unreadable or has no rule for the file."""

    exit_code = 1


class MetadataError(KsealError):
    """The ``sops`` metadata block is missing or malformed."""

    exit_code = 1


class NotEncryptedError(MetadataError):
    """The file has no ``sops`` metadata at all."""


class NoMatchingRuleError(ConfigError):
    """``.sops.yaml`` has rules, but none matches the file."""


class KeyMaterialError(KsealError):
    """A recipient or identity is malformed or unusable."""

    exit_code = 1


class ClusterError(KsealError):
    """The Kubernetes API or the controller could not be reached or refused a request."""

    exit_code = 1


class InternalError(KsealError):
    """kseal caught its own mistake before it did harm (e.g. a rewrite that would not decrypt)."""

    exit_code = 3
