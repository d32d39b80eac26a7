"""What every CLI command shares: the opened archive, the console, JSON output."""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from rich.console import Console

from archive.db import Archive, open_archive
from archive.settings import Settings

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


@lru_cache
def settings() -> Settings:
    return Settings()


@lru_cache
def archive() -> Archive:
    return open_archive(settings())


def reset() -> None:
    """Forget the cached settings and archive (tests, demo)."""
    if archive.cache_info().currsize:
        archive().dispose()
    archive.cache_clear()
    settings.cache_clear()


def emit_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
