"""`kuma users`: accounts created, listed, re-passworded and disabled through the real commands."""
from __future__ import annotations

import io
import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api import context
from api.app import create_app
from api.cli import app as kuma
from archive.db import Archive
from tests.api.web.conftest import PASSWORD, sign_in


@pytest.fixture
def cli(sqlite_settings, monkeypatch):
    monkeypatch.setenv("KUMA_HOME", str(sqlite_settings.home))
    monkeypatch.setenv("KUMA_SECRET_KEY", "test-secret")
    monkeypatch.setenv("KUMA_ACTOR", "awa")
    context.reset()
    runner = CliRunner()
    yield lambda *args, input=None: runner.invoke(kuma, list(args), input=input)
    context.reset()


def studio(settings):
    return TestClient(create_app(settings, archive=Archive(settings)), base_url="https://testserver")


def test_an_account_made_on_the_command_line_signs_in(cli, sqlite_settings):
    made = cli("users", "create", "fatou", "--role", "producer", "--password-stdin", input=PASSWORD + "\n")
    assert made.exit_code == 0, made.output
    listed = json.loads(cli("users", "list", "--json").output)
    assert [(u["name"], u["role"], u["created_by"]) for u in listed] == [("fatou", "producer", "awa")]
    with studio(sqlite_settings) as client:
        assert sign_in(client, "fatou").status_code == 303


def test_a_generated_password_is_shown_once_and_works(cli, sqlite_settings):
    made = cli("users", "create", "maitre", "--role", "advocate", "--generate")
    password = made.output.split("affiché une seule fois) : ")[1].strip()
    with studio(sqlite_settings) as client:
        assert sign_in(client, "maitre", password).status_code == 303


def test_a_new_password_and_a_disabled_account_close_the_sessions(cli, sqlite_settings):
    cli("users", "create", "fatou", "--role", "producer", "--password-stdin", input=PASSWORD + "\n")
    with studio(sqlite_settings) as client:
        sign_in(client, "fatou")
        assert client.get("/studio/").status_code == 200
        assert cli("users", "password", "fatou", "--password-stdin", input="un autre mot de passe\n").exit_code == 0
        assert client.get("/studio/", follow_redirects=False).status_code == 303
        client.cookies.clear()
        assert sign_in(client, "fatou", "un autre mot de passe").status_code == 303
        assert cli("users", "disable", "fatou").exit_code == 0
        assert client.get("/studio/", follow_redirects=False).status_code == 303


def test_bad_input_is_one_line_and_exit_code_2(cli, monkeypatch, capsys):
    from api.cli import main

    def run(*args: str, given: str = "") -> tuple[int, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(given))
        code = main(list(args))
        return code, capsys.readouterr().err

    code, err = run("users", "create", "fatou", "--role", "producer", "--password-stdin", given="court\n")
    assert code == 2 and "trop court" in err and len(err.strip().splitlines()) == 1
    code, err = run("users", "create", "fatou", "--role", "radio", "--password-stdin", given=PASSWORD + "\n")
    assert code == 2 and "rôle inconnu" in err
    code, err = run("users", "disable", "personne")
    assert code == 4 and "compte inconnu" in err
