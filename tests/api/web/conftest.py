"""Fixtures for the web studio: accounts, and a browser-like client that signs in through the form."""
from __future__ import annotations

import re

import pytest

from api import users

PASSWORD = "un mot de passe assez long"


@pytest.fixture
def client(archive):
    """The studio over https, as it is served (its cookies are Secure: a plain-http client would not send them)."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(archive.settings, archive=archive), base_url="https://testserver") as test_client:
        yield test_client


@pytest.fixture
def account(archive):
    """account(name, role) -> name: a person's account with PASSWORD."""

    def _account(name: str = "awa", role: str = "producer") -> str:
        with archive.session() as session:
            users.create_user(session, name, role, PASSWORD, "test")
        return name

    return _account


def form_csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def sign_in(client, name: str, password: str = PASSWORD, suite: str = "/studio/"):
    page = client.get("/studio/connexion")
    return client.post("/studio/connexion", data={"name": name, "password": password, "csrf": form_csrf(page.text),
                                                  "suite": suite}, follow_redirects=False)


@pytest.fixture
def to_review(archive, seed_testimony):
    """A testimony with names, a place and a phone number spoken, anonymized, waiting for review."""
    from anonymization import stage
    from tests.anonymization.test_anonymize import CONSENT, TEXT

    public_id = seed_testimony(consent=CONSENT, text=TEXT, approved=False, seconds=12.0,
                               sensitive_terms=["Moussa Diarra", {"term": "Kayes", "kind": "place"}])
    assert stage.anonymize(archive, public_id).status == "created"
    return public_id


@pytest.fixture
def producer(client, account):
    """The client, signed in as a producer (awa)."""
    account("awa", "producer")
    sign_in(client, "awa")
    return client
