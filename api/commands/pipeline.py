"""The processing pipeline, written once and in order.

Ingest has its own command (it takes files); after it, each stage runs over every testimony
that is not up to date. Every stage is idempotent and resumable, so ``kuma process`` can be run
again at any time (after a crash, after new ingests, after a consent change): it does only what is
missing. Review is a human step: the pipeline stops at it and says what is waiting.
"""
from __future__ import annotations

from collections.abc import Callable

import typer

from api.commands import anonymize, transcripts
from api.context import console
from archive.errors import StageError

PIPELINE: tuple[tuple[str, Callable[[], None]], ...] = (
    ("transcription", lambda: transcripts.transcribe(ids=None, pending=True, force=False, batch_size=None)),
    ("anonymisation", lambda: anonymize.anonymize(ids=None, pending=True)),
)


def register(app: typer.Typer) -> None:
    app.command("process")(process)


def process() -> None:
    """Lancer toutes les étapes de traitement, dans l'ordre, sur les témoignages qui ne sont pas à jour."""
    failures = []
    for name, run in PIPELINE:
        console.rule(name)
        try:
            run()
        except StageError as exc:  # recorded per testimony; the next stages still run for the others
            failures.append(f"{name} : {exc}")
    console.print("Relecture humaine : `kuma review show ID` puis `kuma review approve ID`.")
    if failures:
        raise StageError(" ; ".join(failures))


def demo_step(demo) -> None:
    """The demo runs each stage itself, to show its output."""
