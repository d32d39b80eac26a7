"""Progress bars for the command line: rich's ``Progress``, set up in one place."""
from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from api.context import console as default_console


def progress_bar(*, console: Console | None = None, counted: bool = False) -> Progress:
    """A transient bar: a description, the bar, then percent and time left (``counted``: "n/N")."""
    figures = [MofNCompleteColumn()] if counted else [TextColumn("{task.percentage:>3.0f} %"), TimeRemainingColumn()]
    return Progress(TextColumn("{task.description}"), BarColumn(), *figures,
                    console=console or default_console, transient=True)
