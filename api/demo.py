"""``kuma demo``: a fresh archive built from the bundled sample testimonies, end to end.

The demo runs the steps below in order; each area adds its part in its own
``api/commands/<area>.py`` ``demo_step(demo)``.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from api import context
from api.commands import anonymize, archive_cmds, episodes, feeds, server, transcripts
from archive.db import Archive
from archive.settings import Settings

SAMPLES = Path(__file__).with_name("demo_data")

STEPS = (archive_cmds, transcripts, anonymize, episodes, feeds, server)


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
    for step in STEPS:
        step.demo_step(demo)
    demo.console.rule("[bold green]Démonstration terminée")
    return demo
