"""Progress bars for the command line: rich's ``Progress``, set up in one place.

Every bar is transient (it disappears when done, leaving the command's own lines) and shows a
description, the bar, then one of the ``FIGURES``.
"""
from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from api.context import console as default_console



def _figures(kind: str) -> list[ProgressColumn]:
    if kind == "percent":  # share done, time left
        return [TextColumn("{task.percentage:>3.0f} %"), TimeRemainingColumn()]
    if kind == "count":  # items: n/N
        return [MofNCompleteColumn()]
    if kind == "amount":  # an amount (minutes of audio, files) done out of its total, time left
        return [TextColumn("{task.completed:.0f}/{task.total:.0f}"), TimeRemainingColumn()]
    if kind == "bytes":
        return [DownloadColumn()]
    if kind == "clock":  # audio time done/total (the task's "clock" field), time taken, time left
        return [TextColumn("{task.fields[clock]}"), TimeElapsedColumn(), TextColumn("reste"), TimeRemainingColumn()]
    raise ValueError(f"unknown progress figures {kind!r}")


def progress_bar(figures: str = "percent", *, console: Console | None = None) -> Progress:
    """A transient bar with ``figures``: percent, count, amount, bytes or clock."""
    return Progress(TextColumn("{task.description}"), BarColumn(), *_figures(figures),
                    console=console or default_console, transient=True)
