"""CLI commands for this area (filled in by its issue)."""
from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this area's commands to the `kuma` app."""


def demo_step(demo) -> None:
    """This area's part of `kuma demo` (see api/demo.py)."""
