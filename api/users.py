"""People's accounts for the web studio: passwords, sign-in with slowed-down guessing, sessions.

Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106's second recommended
profile); a hash made with older parameters is replaced at the next successful sign-in.
After ``MAX_FAILURES`` wrong passwords in a row an account refuses every sign-in, the right
password included, for ``LOCK_S`` seconds, doubled at each further failure (at most an hour):
guessing a password by trying becomes hopeless while the owner, who knows it, waits a minute.
A session is a random token in an HttpOnly cookie; only its sha256 is stored, with the
session's CSRF token, which every form of the studio sends back.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.deps import TESTIMONY_ACCESS
from archive import audit
from archive.errors import InputError, NotFound, TooManyAttempts, Unauthorized
from archive.models import PEOPLE_ROLES, Role, User, WebSession, utcnow

MAX_FAILURES = 5
LOCK_S = 30
MAX_LOCK_S = 3600
MIN_PASSWORD = 10
WRONG = "nom d'utilisateur ou mot de passe incorrect"

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("kuma: same work for an unknown name as for a known one")


def create_user(session: Session, name: str, role: str, password: str, actor: str) -> User:
    name = name.strip()
    if not name:
        raise InputError("nom d'utilisateur vide")
    if role not in {r.value for r in PEOPLE_ROLES}:
        raise InputError(f"rôle inconnu : {role!r} (attendu : {', '.join(r.value for r in PEOPLE_ROLES)})")
    check_password(password)
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise InputError(f"un compte nommé {name!r} existe déjà")
    user = User(name=name, role=role, password_hash=_hasher.hash(password), created_by=actor)
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.create", target=name, role=role)
    return user


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InputError(f"mot de passe trop court ({len(password)} caractères, minimum {MIN_PASSWORD})")


def set_password(session: Session, name: str, password: str, actor: str) -> User:
    user = get_user(session, name)
    check_password(password)
    user.password_hash = _hasher.hash(password)
    user.failed_logins, user.locked_until = 0, None
    end_sessions(session, user)
    audit.record(session, actor, "user.password", target=user.name)
    return user


def disable_user(session: Session, name: str, actor: str) -> User:
    user = get_user(session, name)
    if user.disabled_at is None:
        user.disabled_at = utcnow()
    end_sessions(session, user)
    audit.record(session, actor, "user.disable", target=user.name)
    return user


def get_user(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name.strip()))
    if user is None:
        raise NotFound(f"compte inconnu : {name}")
    return user


def authenticate(session: Session, name: str, password: str, *, now: datetime | None = None) -> User:
    """The account, if ``password`` is its password and it may sign in now; else Unauthorized
    (TooManyAttempts while it is locked). Every attempt is in the audit log."""
    now = now or utcnow()
    user = session.scalar(select(User).where(User.name == name.strip()))
    if user is None or user.disabled_at is not None:
        _verify(_DUMMY_HASH, password)
        audit.record(session, "web", "user.login.failed", target=name.strip()[:128] or "?")
        raise Unauthorized(WRONG)
    if user.locked_until is not None and user.locked_until > now:
        wait = int((user.locked_until - now).total_seconds()) + 1
        raise TooManyAttempts(f"trop de tentatives : réessayez dans {wait} s", wait)
    if not _verify(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until = now + timedelta(seconds=lock_seconds(user.failed_logins))
        audit.record(session, "web", "user.login.failed", target=user.name, failures=user.failed_logins)
        raise Unauthorized(WRONG)
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    audit.record(session, f"web:{user.name}", "user.login", target=user.name)
    return user


def lock_seconds(failures: int) -> int:
    return min(MAX_LOCK_S, LOCK_S * 2 ** max(0, failures - MAX_FAILURES))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# --- sessions -------------------------------------------------------------------------------

@dataclass(frozen=True)
class SignedIn:
    """The person behind a request of the web studio."""

    name: str
    role: Role
    csrf: str

    @property
    def actor(self) -> str:
        return f"web:{self.name}"

    @property
    def testimony_access(self):
        """(the policy's use, redacted text only) for this person's role, as for an API key's."""
        return TESTIMONY_ACCESS[self.role]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(session: Session, user: User, hours: float) -> str:
    """A new session for ``user``; returns the cookie's token (not stored)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    session.add(WebSession(user=user, token_hash=_hash(token), csrf_token=secrets.token_urlsafe(32),
                           expires_at=now + timedelta(hours=hours)))
    session.flush()
    return token


def find_session(session: Session, token: str | None) -> SignedIn | None:
    if not token:
        return None
    found = session.scalar(select(WebSession).where(WebSession.token_hash == _hash(token)))
    if found is None or found.expires_at <= utcnow() or found.user.disabled_at is not None:
        return None
    return SignedIn(found.user.name, Role(found.user.role), found.csrf_token)


def close_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(WebSession).where(WebSession.token_hash == _hash(token)))


def end_sessions(session: Session, user: User) -> None:
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))


def same_token(given: str | None, expected: str) -> bool:
    return bool(given) and secrets.compare_digest(given.encode(), expected.encode())
