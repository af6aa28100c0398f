"""The ``kseal`` entry point: builds the Typer app and turns errors into one-line messages."""

from __future__ import annotations

import os
import sys
import textwrap
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from kseal import __version__
from kseal.errors import KsealError

SUMMARY = (
    "Keep Kubernetes Secrets safe in Git, two ways: encrypt Secrets (and any YAML, JSON, dotenv, "
    "INI or binary file) in the SOPS format with age keys, byte-compatible with the sops binary; "
    "and seal Secrets into SealedSecrets for the Bitnami Sealed Secrets controller, like kubeseal."
)
HELP = f"""{SUMMARY}

Scripts written for sops work too: 'kseal -d FILE' is 'kseal decrypt FILE' (and -e, -r, with -i
and sops's options); the global options below may also follow the command.
"""

# Commands that decrypt a file: sops checks SOPS_DECRYPTION_ORDER for them.
DECRYPTING = {"decrypt", "edit", "exec-env", "exec-file", "rotate", "set", "unset", "diff"}

USAGE_EXIT = 2  # docs/cli.md: a command-line usage error


class _Group(TyperGroup):
    """Command summaries in full (wrapped), never cut with "...": a summary is one sentence."""

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is None or command.hidden:
                continue
            text = command.short_help or (command.help or "").split("\n\n")[0]
            rows.append((name, " ".join(text.split())))
        if not rows:
            return
        with formatter.section("Commands"):
            indent = " " * formatter.current_indent
            first = max(len(name) for name, _ in rows) + 2
            width = max(formatter.width - formatter.current_indent - first, 20)
            for name, text in rows:
                lines = textwrap.wrap(
                    text, width, break_on_hyphens=False, break_long_words=False
                ) or [""]
                formatter.write(f"{indent}{name:<{first}}{lines[0]}\n")
                formatter.write("".join(f"{indent}{'':<{first}}{line}\n" for line in lines[1:]))


app = typer.Typer(
    name="kseal",
    help=HELP,
    cls=_Group,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kseal {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show a traceback for unexpected errors.")
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option("--verbose", help="List every file in a bulk summary, not only problems."),
    ] = False,
    decryption_order: Annotated[
        str | None,
        typer.Option(
            "--decryption-order",
            metavar="TYPES",
            help="sops's comma-separated key types to try (checked; kseal has only age keys). "
            "[env: SOPS_DECRYPTION_ORDER]",
        ),
    ] = None,
    disable_version_check: Annotated[
        bool,
        typer.Option(
            "--disable-version-check", help="Accepted for sops; kseal never checks for updates."
        ),
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    from kseal.cli.common import SETTINGS
    from kseal.cli.common import decryption_order as parse_order

    SETTINGS.verbose = verbose
    if decryption_order is not None:
        parse_order(decryption_order)
    elif ctx.invoked_subcommand in DECRYPTING:
        parse_order(os.environ.get("SOPS_DECRYPTION_ORDER", ""))



def _register() -> None:
    from kseal.cli import (
        check_run,
        diff,
        edit,
        keygen,
        keys_cmds,
        reseal,
        run_cmds,
        seal,
        sops_cmds,
        tree_cmds,
    )

    sops_cmds.register(app)
    edit.register(app)
    diff.register(app)
    run_cmds.register(app)
    check_run.register(app)
    keys_cmds.register(app)
    tree_cmds.register(app)
    keygen.register(app)
    seal.register(app)
    reseal.register(app)


def report(err: KsealError) -> None:
    """The one-line error and its hints, on stderr."""
    sys.stderr.write(f"kseal: error: {err.message}\n")
    for hint in err.hints:
        sys.stderr.write(f"kseal: hint: {hint}\n")
    sys.stderr.flush()


def fail(err: KsealError) -> NoReturn:
    report(err)
    raise SystemExit(err.exit_code)


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
    return KsealError(message, hints=hints, exit_code=USAGE_EXIT if code == 2 else code)


def _either(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _command_path(args: list[str], commands: list[str]) -> str:
    """``kseal COMMAND`` for the first command name in ``args`` (``kseal`` when none)."""
    named = next((a for a in args if a in commands), None)
    return f"kseal {named}" if named else "kseal"


def run(argv: list[str] | None = None) -> NoReturn:
    from kseal.cli.argv import Normalized, normalize

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("KSEAL_DEBUG") == "1"
    _register()
    command = typer.main.get_command(app)
    commands = list(getattr(command, "commands", {}))
    normal = Normalized(args)
    try:
        from kseal.cli.private import remove_dead_runs

        remove_dead_runs()  # plaintext of edit/exec-file runs that were SIGKILLed
        normal = normalize(args, commands)
        for note in normal.notes:
            sys.stderr.write(f"kseal: note: {note}\n")
        code = command.main(normal.args, prog_name="kseal", standalone_mode=False)
    except KsealError as err:
        if debug:
            import traceback

            traceback.print_exc()
        fail(err)
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except (KeyboardInterrupt, typer.Abort):
        sys.stderr.write("kseal: error: interrupted\n")
        raise SystemExit(130) from None
    except BrokenPipeError:
        raise SystemExit(141) from None
    except Exception as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":
            exc.show()  # type: ignore[attr-defined]
            raise SystemExit(USAGE_EXIT) from None
        usage = _usage(exc, _command_path(normal.args, commands))
        if usage is not None:
            fail(usage)
        if debug:
            raise
        sys.stderr.write(
            "kseal: error: unexpected internal error (rerun with --debug for a traceback)\n"
        )
        raise SystemExit(3) from None
    raise SystemExit(code if isinstance(code, int) else 0)
