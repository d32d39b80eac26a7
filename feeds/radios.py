"""Partner radio stations: one secret token each, stored only as its SHA-256, revocable.

The token is a 192-bit random value shown once at creation; a plain SHA-256 is enough to
store it (there is nothing to brute-force in a random token, unlike a password).
"""
from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive import audit
from archive.errors import InputError, NotFound
from archive.models import RadioStation, utcnow
from archive.text import slugify

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,128}$")


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def add(session: Session, name: str, *, slug: str | None = None, actor: str = "kuma") -> tuple[RadioStation, str]:
    """Register a station; returns it and its token (the only time the token is known)."""
    if not name.strip():
        raise InputError("le nom de la radio est vide")
    slug = slugify(slug or name, fallback="radio")
    if session.scalar(select(RadioStation).where(RadioStation.slug == slug)):
        raise InputError(f"une radio « {slug} » existe déjà")
    token = secrets.token_urlsafe(24)
    station = RadioStation(slug=slug, name=name.strip(), token_sha256=token_sha256(token))
    session.add(station)
    session.flush()
    audit.record(session, actor, "radio.add", target=slug)  # never the token
    return station, token


def stations(session: Session) -> list[RadioStation]:
    return list(session.scalars(select(RadioStation).order_by(RadioStation.slug)))


def get(session: Session, slug: str) -> RadioStation:
    station = session.scalar(select(RadioStation).where(RadioStation.slug == slug.strip().lower()))
    if station is None:
        raise NotFound(f"radio inconnue : {slug}")
    return station


def revoke(session: Session, slug: str, *, actor: str = "kuma") -> RadioStation:
    station = get(session, slug)
    if station.revoked_at is None:
        station.revoked_at = utcnow()
        audit.record(session, actor, "radio.revoke", target=station.slug)
    return station


def access_map(session: Session) -> dict[str, str]:
    """token SHA-256 -> station slug, for active stations only (what the server checks)."""
    return {s.token_sha256: s.slug for s in stations(session) if s.active}


def is_token_shaped(token: str) -> bool:
    return bool(TOKEN_PATTERN.match(token))


def feed_url(settings, token: str) -> str:
    """A station's private feed address (shown once, when its token is made)."""
    from feeds.build import RADIO, TOKEN_PLACEHOLDER, Urls

    return Urls(settings).feed(RADIO).replace(TOKEN_PLACEHOLDER, token)
