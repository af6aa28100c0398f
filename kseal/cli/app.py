"""The root ``kseal`` command: its global options, and a group that loads a command's module only
when that command runs (``kseal --help`` lists the summaries from :mod:`kseal.cli.commands`)."""

from __future__ import annotations

import importlib
import os
import textwrap
from difflib import get_close_matches
from typing import Annotated, Any

import typer
import typer.main
from typer.core import TyperGroup

from kseal import __version__
from kseal.cli.commands import COMMANDS, DECRYPTING

SUMMARY = (
    "Keep Kubernetes Secrets safe in Git, two ways: encrypt Secrets (and any YAML, JSON, dotenv, "
    "INI or binary file) in the SOPS format with age keys, byte-compatible with the sops binary; "
    "and seal Secrets into SealedSecrets for the Bitnami Sealed Secrets controller, like kubeseal."
)
HELP = f"""{SUMMARY}

Scripts written for sops work too: 'kseal -d FILE' is 'kseal decrypt FILE' (and -e, -r, with -i
and sops's options); the global options below may also follow the command.
"""


def load(module_name: str) -> dict[str, Any]:
    """The click commands (Typer's vendored click) that ``module_name`` declares."""
    module = importlib.import_module(module_name)
    sub = typer.Typer(rich_markup_mode=None, add_completion=False)
    module.register(sub)
    sub.callback()(_no_callback)
    return dict(typer.main.get_group(sub).commands)


def _no_callback() -> None:
    """Makes a one-command module a group, so its command keeps its own name."""


class LazyGroup(TyperGroup):
    """Commands from :data:`COMMANDS`, each module imported when one of its commands runs.
    Summaries are shown in full (wrapped), never cut with "...": a summary is one sentence."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            for name, command in load(COMMANDS[cmd_name][0]).items():
                self.commands.setdefault(name, command)
        return self.commands.get(cmd_name)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        """Typer's "did you mean" for an unknown command, over every command, loaded or not."""
        try:
            return super().resolve_command(ctx, args)
        except Exception as exc:
            message = getattr(exc, "message", None)
            if isinstance(message, str) and args and "Did you mean" not in message:
                matches = get_close_matches(args[0], list(COMMANDS))
                if matches:
                    suggestions = ", ".join(f"{m!r}" for m in matches)
                    exc.message = f"{message.rstrip('.')}. Did you mean {suggestions}?"  # type: ignore[attr-defined]
            raise

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = [(name, summary) for name, (_, summary) in COMMANDS.items()]
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
    cls=LazyGroup,
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


def root() -> Any:
    """The root click group (commands load when looked up)."""
    return typer.main.get_command(app)


def full_tree() -> Any:
    """The root click group with every command loaded, for tests and the docs generator."""
    group = root()
    for name in COMMANDS:
        group.get_command(None, name)
    return group
