"""What every API route shares: the archive session, the caller (API key and role), API keys.

Keys are ``kuma_`` + 43 random URL-safe characters; only their sha256 is stored, with the first
13 characters (``prefix``) to recognise a key in listings. Callers send them as
``Authorization: Bearer <key>`` or ``X-API-Key: <key>``.
"""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.consent import Use
from archive.db import Archive
from archive.errors import Forbidden, InputError, NotFound, Unauthorized
from archive.models import ApiKey, Role, utcnow

TOKEN_PREFIX = "kuma_"
PREFIX_LENGTH = 13

# What each role reads testimonies for (the policy's use), and whether it gets redacted text only.
TESTIMONY_ACCESS: dict[Role, tuple[Use, bool]] = {
    Role.ADMIN: (Use.ARCHIVE, False),
    Role.PRODUCER: (Use.PROCESS, False),
    Role.ADVOCATE: (Use.ADVOCACY, True),
}


# --- keys ---------------------------------------------------------------------------------


def hash_key(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_key(session: Session, name: str, role: str, actor: str) -> tuple[ApiKey, str]:
    """A new key; the token is returned once and never stored."""
    if role not in {r.value for r in Role}:
        raise InputError(f"rôle inconnu : {role!r} (attendu : {', '.join(r.value for r in Role)})")
    if session.scalar(select(ApiKey).where(ApiKey.name == name)) is not None:
        raise InputError(f"une clé nommée {name!r} existe déjà")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(name=name, role=role, prefix=token[:PREFIX_LENGTH], key_hash=hash_key(token), created_by=actor)
    session.add(key)
    session.flush()
    return key, token


def revoke_key(session: Session, name_or_prefix: str) -> ApiKey:
    key = session.scalar(select(ApiKey).where(
        (ApiKey.name == name_or_prefix) | (ApiKey.prefix == name_or_prefix)))
    if key is None:
        raise NotFound(f"clé inconnue : {name_or_prefix}")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    return key


def find_key(session: Session, token: str) -> ApiKey | None:
    key = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(token)))
    return key if key is not None and key.revoked_at is None else None


# --- request dependencies -----------------------------------------------------------------


def get_archive(request: Request) -> Archive:
    return request.app.state.archive


def pipeline_runner(request: Request, archive: Archive = Depends(get_archive)):
    """The app's one background pipeline runner (``pipeline.Runner``), made on first use."""
    import pipeline

    if getattr(request.app.state, "pipeline", None) is None:
        request.app.state.pipeline = pipeline.Runner(archive, actor="api")
    return request.app.state.pipeline


def get_session(archive: Archive = Depends(get_archive)) -> Iterator[Session]:
    with archive.session() as session:
        yield session


@dataclass(frozen=True)
class Caller:
    name: str | None  # the API key's name; None for anonymous callers
    role: Role | None

    @property
    def actor(self) -> str:
        """How the caller is written in the audit log."""
        return f"api:{self.name}" if self.name else "api:anonymous"

    @property
    def testimony_access(self) -> tuple[Use, bool]:
        return TESTIMONY_ACCESS[self.role]


bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <key>`")
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="`X-API-Key: <key>`")


def get_caller(session: Session = Depends(get_session),
               credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
               header_key: str | None = Depends(api_key_header)) -> Caller:
    token = credentials.credentials if credentials else header_key
    if not token:
        return Caller(None, None)
    key = find_key(session, token)
    if key is None:
        raise Unauthorized("clé d'API invalide ou révoquée")
    return Caller(key.name, Role(key.role))


def require(*roles: Role) -> Callable[..., Caller]:
    """Dependency: a caller with one of ``roles`` (401 without a key, 403 with another role)."""

    def _dependency(caller: Caller = Depends(get_caller)) -> Caller:
        if caller.role is None:
            raise Unauthorized("clé d'API requise (Authorization: Bearer <clé> ou X-API-Key)")
        if caller.role not in roles:
            raise Forbidden(f"le rôle « {caller.role} » n'a pas accès à cette ressource")
        return caller

    return _dependency


reads_testimonies = require(*TESTIMONY_ACCESS)
