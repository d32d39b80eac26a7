"""Advocate search: a query and filters, time-coded highlighted snippets, a clip player on each.

Everyone signed in may search, each with their role's use and text form (an advocate: testimonies
with advocacy consent, redacted text; ``api.deps.TESTIMONY_ACCESS``), through the same
``archive.search.search`` and ``api.access`` as ``GET /api/search``. The query is in the URL:
a search can be shared as a link (it opens for whoever has the right to see it). Every result is
in the audit log (``testimony.search``), every clip played too (``testimony.clip``).
"""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, Response
from sqlalchemy.orm import Session

from api import access
from api.deps import get_archive, get_session
from api.users import SignedIn
from api.web import render
from api.web.auth import signed_in
from archive import audit, clips, search
from archive.db import Archive
from archive.errors import InputError
from archive.timecode import format_timecode

router = APIRouter()
PAGE = 10
MAX_SECONDS = 24 * 3600.0


def _day(value: str | None, end: bool) -> datetime | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise InputError(f"date invalide : {value!r} (attendu : AAAA-MM-JJ)") from exc
    return datetime.combine(day, time.max if end else time.min, tzinfo=timezone.utc)


@router.get("/recherche")
def search_page(request: Request, q: str = Query("", max_length=search.MAX_QUERY_CHARS),
                theme: str = Query("", max_length=64), place: str = Query("", max_length=256),
                route: str = Query("", max_length=256), du: str = Query("", max_length=10),
                au: str = Query("", max_length=10), page: int = Query(1, ge=1, le=1000),
                user: SignedIn = Depends(signed_in), session: Session = Depends(get_session)) -> Response:
    use, redacted = user.testimony_access
    form = {"q": q, "theme": theme, "place": place, "route": route, "du": du, "au": au}
    context = {"user": user, "form": form, "themes": search.theme_counts(session, use=use), "hits": None}
    if any("\x00" in value for value in form.values()):
        raise InputError("caractère NUL interdit")
    if q.strip():
        filters = search.Filters(theme=theme or None, place=place or None, route=route or None,
                                 recorded_from=_day(du, False), recorded_to=_day(au, True))
        found = search.search(session, q, use=use, redacted=redacted, limit=PAGE, offset=(page - 1) * PAGE,
                              filters=filters)
        access.audit_search(session, user, q, found.items)
        context.update(hits=[_hit(hit, user) for hit in found.items], count=found.count, capped=found.capped,
                       page=page, pages=max(1, -(-found.count // PAGE)),
                       link=lambda number: "?" + urlencode({**form, "page": number}))
    return render(request, "search.html", context)


def _hit(hit: search.Hit, user: SignedIn) -> dict:
    public_id = hit.testimony.public_id
    return {"testimony": public_id, "speaker": access.speaker(hit.testimony, user, hit.decision),
            "start": format_timecode(hit.start, millis=False), "end": format_timecode(hit.end, millis=False),
            "snippet": hit.snippet, "clip": f"extrait/{public_id}?" + urlencode({"debut": f"{hit.start:.3f}",
                                                                                 "fin": f"{hit.end:.3f}"})}


@router.get("/extrait/{public_id}")
def clip(public_id: str, debut: float = Query(..., ge=0, le=MAX_SECONDS), fin: float = Query(..., gt=0, le=MAX_SECONDS),
         user: SignedIn = Depends(signed_in), archive: Archive = Depends(get_archive),
         session: Session = Depends(get_session)) -> Response:
    """The anonymized rendition between two timecodes, as MP3 (the API's clip, for a signed-in person)."""
    if fin <= debut:
        raise InputError("la fin de l'extrait doit être après son début")
    testimony, decision = access.visible(session, user, public_id)
    asset = access.clip_source(testimony, user, decision, original=False)
    cut = clips.cut(archive.settings, testimony.public_id, asset, archive.store.path(asset.sha256), debut, fin)
    audit.record(session, user.actor, "testimony.clip", testimony=testimony, start=round(cut.start, 3),
                 end=round(cut.end, 3), original=False)
    return FileResponse(cut.path, media_type="audio/mpeg", headers={"Cache-Control": "private, max-age=3600"})
