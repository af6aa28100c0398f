"""The ``kseal`` entry point: builds the Typer app and turns errors into one-line messages."""

from __future__ import annotations

import os
import sys
from typing import Annotated, NoReturn

import typer

from kseal import __version__
from kseal.errors import KsealError

app = typer.Typer(
    name="kseal",
    help="Keep Kubernetes Secrets safe in Git: SOPS-compatible encryption with age.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kseal {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show a traceback for unexpected errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Keep Kubernetes Secrets safe in Git: SOPS-compatible encryption with age."""


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


def _click_error(exc: BaseException) -> int | None:
    """Show a click usage error (Typer vendors click, so match by shape, not by class)."""
    show = getattr(exc, "show", None)
    code = getattr(exc, "exit_code", None)
    if callable(show) and isinstance(code, int):
        show()
        return code
    return None


def run(argv: list[str] | None = None) -> NoReturn:
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("KSEAL_DEBUG") == "1"
    _register()
    command = typer.main.get_command(app)
    try:
        from kseal.cli.private import remove_dead_runs

        remove_dead_runs()  # plaintext of edit/exec-file runs that were SIGKILLed
        code = command.main(args, prog_name="kseal", standalone_mode=False)
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
        usage = _click_error(exc)
        if usage is not None:
            raise SystemExit(usage) from None
        if debug:
            raise
        sys.stderr.write(
            "kseal: error: unexpected internal error (rerun with --debug for a traceback)\n"
        )
        raise SystemExit(3) from None
    raise SystemExit(code if isinstance(code, int) else 0)
