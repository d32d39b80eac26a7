"""Small helpers shared by the feed tests."""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.routes import public


def published(root: Path) -> Path:
    return root / "current"


def client_for(settings) -> TestClient:
    app = FastAPI()
    app.include_router(public.router)
    app.dependency_overrides[public.published_root] = lambda: settings.public_path / "current"
    return TestClient(app)


def feed_bytes(settings, relative: str) -> bytes:
    return (settings.public_path / "current" / relative).read_bytes()
