"""What a caller may see of a testimony, shared by the JSON API (``api/routes``) and the web studio
(``api/web``): the policy's decision for the caller's role, the speaker's label, the audio a clip is
cut from, and the audit events of a search. A caller is anything with ``role``, ``actor`` and
``testimony_access`` (an API key's :class:`api.deps.Caller`, a signed-in :class:`api.users.SignedIn`).
A testimony the policy hides is answered like an unknown one (404).
"""
from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.orm import Session

from archive import search
from archive.consent import current_rendition, decide
from archive.errors import Forbidden, NotFound, ReviewRequired
from archive.models import AuditEvent, MediaAsset, MediaKind, Role, Testimony
from archive.testimonies import get as get_testimony


def visible(session: Session, caller, public_id: str) -> tuple[Testimony, object]:
    """The testimony and the policy's decision for the caller, or 404 when it may not be seen."""
    use, _redacted = caller.testimony_access
    testimony = get_testimony(session, public_id)
    decision = decide(testimony, use)
    if not decision.allowed:
        raise NotFound(f"témoignage inconnu : {public_id}")
    return testimony, decision


def speaker(testimony: Testimony, caller, decision) -> str:
    if caller.role == Role.ADMIN and testimony.pseudonym:
        return testimony.pseudonym
    return decision.speaker_label(testimony.pseudonym)


def summary(testimony: Testimony, caller, decision) -> dict:
    return dict(
        id=testimony.public_id, speaker=speaker(testimony, caller, decision), recorded_at=testimony.recorded_at,
        language=testimony.language, expelled_from=testimony.expelled_from, route=testimony.route,
        place=testimony.place, themes=[t.slug for t in testimony.themes], duration=testimony.duration,
    )


def audit_search(session: Session, caller, q: str, hits: list[search.Hit]) -> None:
    """One ``testimony.search`` event per testimony returned (as ``audit.record`` writes them),
    all in one executemany: a page is up to 100 testimonies and one INSERT each showed in latency."""
    segments: dict[int, list[int]] = {}
    testimonies: dict[int, Testimony] = {}
    for hit in hits:
        segments.setdefault(hit.testimony.id, []).append(hit.idx)
        testimonies[hit.testimony.id] = hit.testimony
    if segments:
        session.execute(insert(AuditEvent), [
            dict(actor=caller.actor, action="testimony.search", testimony_id=testimony_id,
                 target=testimonies[testimony_id].public_id, detail={"query": q, "segments": idxs})
            for testimony_id, idxs in segments.items()])


def clip_source(testimony: Testimony, caller, decision, original: bool) -> MediaAsset:
    if original:
        if caller.role != Role.ADMIN:
            raise Forbidden("seuls les administrateurs peuvent écouter la voix originale")
        asset = testimony.asset(MediaKind.WORKING) or testimony.asset(MediaKind.ORIGINAL)
    else:
        rendition = decision.rendition if decision.rendition is not None else current_rendition(testimony)
        if rendition is None:
            raise ReviewRequired("aucune version anonymisée de ce témoignage n'existe encore")
        asset = rendition.audio
    if asset is None:
        raise NotFound("aucun fichier audio pour ce témoignage")
    return asset
