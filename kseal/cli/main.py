"""The ``kseal`` entry point: turns the command line into one command run and errors into
one-line messages. Typer and the command modules load only when a command needs them:
``kseal --version`` imports neither."""

from __future__ import annotations

import os
import sys
from typing import Any, NoReturn

from kseal.errors import ExitCode, KsealError


def _usage(exc: BaseException, fallback: str) -> KsealError | None:
    """A click usage error (Typer vendors click, so matched by shape, not by class) as one
    ``kseal: error:`` line with hints: "did you mean", and where the usage is."""
    fmt = getattr(exc, "format_message", None)
    code = getattr(exc, "exit_code", None)
    if not callable(fmt) or not isinstance(code, int):
        return None
    hints: list[str] = []
    option = getattr(exc, "option_name", None)
    possibilities = getattr(exc, "possibilities", None)
    if isinstance(option, str) and possibilities is not None:
        message = f"no such option: {option}"
        if possibilities:
            hints.append(f"did you mean {_either(sorted(possibilities))}?")
    else:
        message, _, guess = str(fmt()).partition(". Did you mean ")
        if guess:
            hints.append(f"did you mean {_either(guess.rstrip('?').split(', '))}?")
    message = message.strip().rstrip(".")
    message = message[:1].lower() + message[1:]
    ctx = getattr(exc, "ctx", None)
    path = getattr(ctx, "command_path", None) or fallback  # some parser errors carry no context
    if isinstance(path, str) and path:
        command = path.partition(" ")[2]
        if command:
            message = f"{command}: {message}"
        hints.append(f"run '{path} -h' for its usage")
    return KsealError(
        message, hints=hints, exit_code=ExitCode.USAGE if code == ExitCode.USAGE else code
    )


def _either(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _command_path(args: list[str], commands: list[str]) -> str:
    """``kseal COMMAND`` for the first command name in ``args`` (``kseal`` when none)."""
    named = next((a for a in args if a in commands), None)
    return f"kseal {named}" if named else "kseal"


def _only_version(args: list[str]) -> bool:
    """``kseal --version``, perhaps with global flags: answered without loading the CLI."""
    from kseal.cli.commands import GLOBAL_FLAGS

    rest = [a for a in args if a not in GLOBAL_FLAGS]
    return rest == ["--version"]


def run(argv: list[str] | None = None) -> NoReturn:
    args = list(sys.argv[1:] if argv is None else argv)
    if _only_version(args):
        from kseal import __version__

        sys.stdout.write(f"kseal {__version__}\n")
        raise SystemExit(ExitCode.OK)
    from kseal.cli.commands import COMMANDS

    debug = "--debug" in args or os.environ.get("KSEAL_DEBUG") == "1"
    commands = list(COMMANDS)
    _interrupt_past_typer()
    try:
        code = _invoke(args, commands)
    except KsealError as err:
        if debug:
            import traceback

            traceback.print_exc()
        from kseal.cli.ui import fail

        fail(err)
    except BaseException as exc:
        _unexpected(exc, args, commands, debug)
    raise SystemExit(code if isinstance(code, int) else ExitCode.OK)


class _Interrupted(BaseException):
    """Ctrl-C. Not a KeyboardInterrupt, which Typer turns into a silent exit 130: this one
    reaches :func:`_unexpected`, which says so in one line (``finally`` blocks run either way)."""


def _interrupt_past_typer() -> None:
    import signal

    def interrupted(_signum: int, _frame: object) -> None:
        raise _Interrupted

    try:
        signal.signal(signal.SIGINT, interrupted)
    except ValueError:  # not the main thread (kseal run from a thread, e.g. in a test): leave it
        pass


def _invoke(args: list[str], commands: list[str]) -> Any:
    from kseal.cli.argv import normalize
    from kseal.cli.private import remove_dead_runs

    remove_dead_runs()  # plaintext of edit/exec-file runs that were SIGKILLed
    normal = normalize(args, commands)
    for note in normal.notes:
        sys.stderr.write(f"kseal: note: {note}\n")
    from kseal.cli.app import root

    return root().main(normal.args, prog_name="kseal", standalone_mode=False)


def _unexpected(exc: BaseException, args: list[str], commands: list[str], debug: bool) -> NoReturn:
    """Everything but a :class:`KsealError`: click's exits and usage errors, interrupts, a closed
    pipe, and kseal's own bugs (one line; a traceback with ``--debug``)."""
    import typer

    if isinstance(exc, SystemExit):
        raise exc
    if isinstance(exc, typer.Exit):
        raise SystemExit(exc.exit_code) from None
    if isinstance(exc, (KeyboardInterrupt, _Interrupted, typer.Abort)):
        sys.stderr.write("kseal: error: interrupted\n")
        raise SystemExit(ExitCode.INTERRUPTED) from None
    if isinstance(exc, BrokenPipeError):
        raise SystemExit(ExitCode.BROKEN_PIPE) from None
    if not isinstance(exc, Exception):
        raise exc
    if type(exc).__name__ == "NoArgsIsHelpError":
        exc.show()  # type: ignore[attr-defined]
        raise SystemExit(ExitCode.USAGE) from None
    from kseal.cli.argv import normalize

    try:
        normal_args = normalize(args, commands).args
    except KsealError:
        normal_args = args
    usage = _usage(exc, _command_path(normal_args, commands))
    if usage is not None:
        from kseal.cli.ui import fail

        fail(usage)
    if debug:
        raise exc
    sys.stderr.write(
        "kseal: error: unexpected internal error (rerun with --debug for a traceback)\n"
    )
    raise SystemExit(ExitCode.INTERNAL) from None


def precommit() -> NoReturn:
    """The ``kseal-precommit`` console script: ``kseal check`` on the files pre-commit passes."""
    run(["check", *sys.argv[1:]])
