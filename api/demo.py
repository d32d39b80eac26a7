"""``kuma demo``: a fresh archive built from the bundled sample testimonies, end to end.

The demo runs every stage of ``pipeline.STAGES``, in order; :data:`VIEWS` says which command
module shows each stage (and plays the people's parts: the reviewer approves, the producer writes
the rundowns). Then the server's part says how to serve what was built.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from api import context
import pipeline
from api.commands import anonymize, archive_cmds, cleanup, episodes, feeds, server, transcripts
from api.commands import pipeline as pipeline_cmd
from archive.db import Archive
from archive.models import StageName
from archive.settings import Settings

SAMPLES = Path(__file__).with_name("demo_data")

VIEWS = {
    StageName.INGEST: archive_cmds.demo_step,
    StageName.CLEAN: cleanup.demo_step,
    StageName.TRANSCRIBE: transcripts.demo_step,
    StageName.ANONYMIZE: anonymize.demo_step,
    StageName.REVIEW: anonymize.demo_review,
    StageName.BUILD_EPISODE: episodes.demo_step,
    StageName.PUBLISH: feeds.demo_step,
}


@dataclass
class Demo:
    home: Path
    archive: Archive
    console: Console
    samples: Path = SAMPLES
    public_ids: list[str] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)  # what one step leaves for the next


def run_demo(home: str | Path) -> Demo:
    home = Path(home).resolve()
    if home.exists():
        shutil.rmtree(home)
    settings = Settings(home=home)
    context.reset()
    archive = Archive(settings)
    demo = Demo(home=home, archive=archive, console=context.console)
    demo.console.rule(f"[bold]Kuma — démonstration[/] ({home})")
    for stage in pipeline.STAGES:
        VIEWS[stage.name](demo, stage)
    for module in (server, pipeline_cmd):
        module.demo_step(demo)
    demo.console.rule("[bold green]Démonstration terminée")
    return demo
