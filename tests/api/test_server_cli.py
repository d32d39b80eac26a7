"""`kuma keys`, `kuma audit`, `kuma reindex` and the demo step, through the real Typer commands."""
from __future__ import annotations

import json
import re

import pytest
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api import context
from api.app import create_app
from api.commands import server
from tests.api.web.conftest import sign_in


@pytest.fixture
def cli(sqlite_settings, monkeypatch):
    monkeypatch.setenv("KUMA_HOME", str(sqlite_settings.home))
    monkeypatch.setenv("KUMA_SECRET_KEY", "test-secret")
    monkeypatch.setenv("KUMA_ACTOR", "awa")
    context.reset()
    app = typer.Typer()
    server.register(app)
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, list(args), catch_exceptions=False)
    context.reset()


def test_keys_lifecycle(cli):
    created = cli("keys", "create", "maitre-diallo", "--role", "advocate", "--json")
    assert created.exit_code == 0, created.output
    token = json.loads(created.output)["key"]
    listed = json.loads(cli("keys", "list", "--json").output)
    assert [(k["name"], k["role"], k["created_by"], k["revoked_at"]) for k in listed] == [
        ("maitre-diallo", "advocate", "awa", None)]
    assert token.startswith(listed[0]["prefix"]) and token not in cli("keys", "list").output
    client = TestClient(create_app(context.settings(), archive=context.archive()))
    assert client.get("/api/themes", headers={"X-API-Key": token}).status_code == 200
    assert cli("keys", "revoke", listed[0]["prefix"]).exit_code == 0
    assert client.get("/api/themes", headers={"X-API-Key": token}).status_code == 401
    assert json.loads(cli("keys", "list", "--json").output)[0]["revoked_at"] is not None
    assert cli("keys", "create", "x", "--role", "king").exit_code != 0


def test_audit_lists_api_reads(cli):
    from archive import audit

    with context.archive().session() as session:
        audit.record(session, "api:maitre-diallo", "testimony.read", target="T-000001", text_form="redacted")
        audit.record(session, "awa", "consent.set", target="T-000002")
    rows = json.loads(cli("audit", "--json").output)
    assert [(r["actor"], r["action"], r["target"]) for r in rows] == [
        ("awa", "consent.set", "T-000002"), ("api:maitre-diallo", "testimony.read", "T-000001")]
    only = json.loads(cli("audit", "--json", "--testimony", "t-000001").output)
    assert len(only) == 1 and only[0]["detail"] == {"text_form": "redacted"}
    assert "testimony.read" in cli("audit", "--action", "testimony.read").output
    assert cli("reindex").exit_code == 0


def test_demo_step_prints_serve_key_and_snippets(archive, seed_testimony, capsys):
    from rich.console import Console

    from api.demo import Demo

    seed_testimony(text="nous avons été refoulés à la frontière")
    seed_testimony(text="le désert était immense")
    console = Console(force_terminal=False, width=200)
    server.demo_step(Demo(home=archive.settings.home, archive=archive, console=console))
    out = capsys.readouterr().out
    assert "kuma serve" in out and "Bearer kuma_" in out
    account = re.search(r"compte de démonstration \(rôle producer\) : (\S+), mot de passe (\S+)", out)
    assert account and account.group(1) == "demo-production"  # a person's account for the web studio, that works:
    with TestClient(create_app(archive.settings, archive=archive), base_url="https://testserver") as client:
        assert sign_in(client, account.group(1), account.group(2)).status_code == 303
    assert out.count("$ curl") == 2
    assert "refoulés à la frontière" in out and "désert était" in out and "T-000001" in out
