"""The terminal: the one-line error reporter, and (imported only when drawn) rich's progress
bars, tables and coloured lines. No other module imports rich."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import NoReturn

from kseal.errors import KsealError


def report(err: KsealError) -> None:
    """The one-line error and its hints, on stderr."""
    sys.stderr.write(f"kseal: error: {err.message}\n")
    for hint in err.hints:
        sys.stderr.write(f"kseal: hint: {hint}\n")
    sys.stderr.flush()


def fail(err: KsealError) -> NoReturn:
    report(err)
    raise SystemExit(err.exit_code)


def print_styled(lines: Iterable[str], styles: Sequence[tuple[str, str]], *, stderr: bool) -> None:
    """Lines coloured by their prefix (the first of ``styles`` that matches), on a terminal."""
    from rich.console import Console
    from rich.text import Text

    console = Console(stderr=stderr, highlight=False, emoji=False, markup=False, soft_wrap=True)
    for line in lines:
        style = next((s for prefix, s in styles if line.startswith(prefix)), "")
        console.print(Text(line, style=style))


def print_table(
    columns: Sequence[str], rows: Iterable[tuple[Sequence[str], str]], footer: str
) -> None:
    """A table of ``(cells, style)`` rows on stderr, then ``footer`` (no table when no rows)."""
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True, highlight=False)
    table = Table()
    for column in columns:
        table.add_column(column)
    shown = False
    for cells, style in rows:
        table.add_row(*cells, style=style)
        shown = True
    if shown:
        console.print(table)
    console.print(footer)


class FileProgress:
    """A transient bar naming the file being processed (redrawn for each file, so a slow file
    is visible)."""

    def __init__(self, verb: str, total: int) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.bar = Progress(
            TextColumn(verb),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            transient=True,
        )
        self.bar.start()
        self.task = self.bar.add_task("", total=total)

    def show(self, path: str) -> None:
        self.bar.update(self.task, description=path)
        self.bar.refresh()

    def advance(self) -> None:
        self.bar.advance(self.task)

    def stop(self) -> None:
        self.bar.stop()


@contextmanager
def counting(label: str, total: int) -> Iterator[Callable[[], None]]:
    """A transient progress bar on stderr when it is a terminal; yields the step function."""
    from rich.console import Console
    from rich.progress import Progress

    console = Console(stderr=True)
    with Progress(console=console, transient=True, disable=not sys.stderr.isatty()) as progress:
        task = progress.add_task(label, total=total)
        yield lambda: progress.advance(task)
