"""Sign-in for people: argon2 passwords, session cookie, CSRF on every form, slowed-down guessing."""
from __future__ import annotations

from datetime import timedelta
from html import unescape

from sqlalchemy import select

from api import users
from archive.models import AuditEvent, User, WebSession, utcnow
from tests.api.web.conftest import PASSWORD, form_csrf, sign_in


def test_a_page_without_a_session_leads_to_the_sign_in_form(client):
    response = client.get("/studio/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/studio/connexion?suite=/studio/"
    page = client.get("/studio/connexion")
    assert page.status_code == 200 and 'lang="fr"' in page.text
    assert '<label for="name">' in page.text and '<label for="password">' in page.text


def test_sign_in_opens_a_session_in_a_safe_cookie(client, archive, account):
    account("awa")
    response = sign_in(client, "awa")
    assert response.status_code == 303 and response.headers["location"] == "/studio/"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("kuma_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/studio" in cookie and "Secure" in cookie
    home = client.get("/studio/")
    assert home.status_code == 200 and "Bonjour awa" in home.text
    with archive.session() as session:
        token = cookie.split(";")[0].split("=", 1)[1]
        stored = session.scalar(select(WebSession))
        assert stored.token_hash != token and len(stored.token_hash) == 64  # only the hash is kept
        user = session.scalar(select(User).where(User.name == "awa"))
        assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
        assert session.scalar(select(AuditEvent).where(AuditEvent.action == "user.login")).actor == "web:awa"


def test_the_cookie_is_not_secure_only_on_plain_http(archive, account):
    from fastapi.testclient import TestClient

    from api.app import create_app

    account("awa")
    settings = archive.settings.model_copy(update={"base_url": "http://127.0.0.1:8000"})  # kuma serve on loopback
    with TestClient(create_app(settings, archive=archive)) as client:
        response = sign_in(client, "awa")
        cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("kuma_session="))
        assert "Secure" not in cookie and "HttpOnly" in cookie


def test_a_form_post_without_its_csrf_token_is_refused(client, account):
    account("awa")
    client.get("/studio/connexion")
    refused = client.post("/studio/connexion", data={"name": "awa", "password": PASSWORD, "csrf": "autre"})
    assert refused.status_code == 403 and "CSRF" in refused.text and "<html" in refused.text
    assert "kuma_session" not in refused.headers.get("set-cookie", "")
    sign_in(client, "awa")
    assert client.post("/studio/deconnexion", data={}).status_code == 403  # signed in, still no token: refused
    assert client.get("/studio/").status_code == 200  # and the session is still open


def test_sign_out_closes_the_session(client, archive, account):
    account("awa")
    sign_in(client, "awa")
    page = client.get("/studio/")
    response = client.post("/studio/deconnexion", data={"csrf": form_csrf(page.text)}, follow_redirects=False)
    assert response.status_code == 303
    with archive.session() as session:
        assert session.scalar(select(WebSession)) is None
    assert client.get("/studio/", follow_redirects=False).status_code == 303


def test_five_wrong_passwords_lock_the_account_for_a_while(client, archive, account):
    account("awa")
    for attempt in range(users.MAX_FAILURES):
        wrong = sign_in(client, "awa", "pas le bon mot de passe")
        assert wrong.status_code == 401 and users.WRONG in unescape(wrong.text)
    locked = sign_in(client, "awa")  # the right password, too soon
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert "trop de tentatives" in locked.text
    with archive.session() as session:  # half a minute later
        user = session.scalar(select(User).where(User.name == "awa"))
        assert user.locked_until - utcnow() <= timedelta(seconds=users.LOCK_S)
        user.locked_until = utcnow() - timedelta(seconds=1)
    assert sign_in(client, "awa").status_code == 303
    with archive.session() as session:
        assert session.scalar(select(User).where(User.name == "awa")).failed_logins == 0


def test_each_failure_after_the_fifth_doubles_the_wait():
    assert [users.lock_seconds(n) for n in (5, 6, 7, 20)] == [30, 60, 120, users.MAX_LOCK_S]


def test_unknown_and_disabled_accounts_get_the_same_answer(client, archive, account):
    account("awa")
    unknown = sign_in(client, "personne")
    with archive.session() as session:
        users.disable_user(session, "awa", "test")
    disabled = sign_in(client, "awa")
    assert unknown.status_code == disabled.status_code == 401
    assert users.WRONG in unescape(unknown.text) and users.WRONG in unescape(disabled.text)


def test_after_sign_in_only_a_studio_page_is_followed(client, account):
    account("awa")
    for target in ("//evil.example/", "https://evil.example/", "/studio\\..\\x"):
        client.cookies.clear()
        response = sign_in(client, "awa", suite=target)
        assert response.headers["location"] == "/studio/", target
    client.cookies.clear()
    assert sign_in(client, "awa", suite="/studio/autre").headers["location"] == "/studio/autre"


def test_names_are_shown_escaped(client, account):
    account("<script>alert(1)</script>", "advocate")
    sign_in(client, "<script>alert(1)</script>")
    page = client.get("/studio/")
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;" in page.text


def test_advocates_do_not_see_the_review_queue(client, account, seed_testimony):
    seed_testimony(approved=False)
    account("maitre", "advocate")
    sign_in(client, "maitre")
    assert "En attente" not in unescape(client.get("/studio/").text)
    client.cookies.clear()
    account("awa", "producer")
    sign_in(client, "awa")
    assert "En attente" in unescape(client.get("/studio/").text)


def test_passwords_too_short_and_unknown_roles_are_refused(archive):
    import pytest

    from archive.errors import InputError

    with archive.session() as session:
        with pytest.raises(InputError, match="trop court"):
            users.create_user(session, "awa", "producer", "court", "test")
        with pytest.raises(InputError, match="rôle inconnu"):
            users.create_user(session, "awa", "radio", PASSWORD, "test")
