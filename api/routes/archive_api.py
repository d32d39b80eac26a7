"""The advocates' archive API (issue 7): testimonies, search, themes, clips, episodes, health.

Every route that returns testimony content asks the consent policy for the caller's use (see
``api.deps.TESTIMONY_ACCESS``) and writes an audit event. A testimony the policy hides is
answered like an unknown one (404): a withdrawn testimony simply disappears.
"""
from __future__ import annotations

from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, Response
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from api import access, schemas
from api.deps import Caller, get_archive, get_caller, get_session, reads_testimonies
from archive import audit, clips, search
from archive.consent import Use, decide, preferred_transcript
from archive.db import Archive
from archive.errors import InputError
from archive.models import Episode, Role, Testimony
from archive.timecode import format_timecode

ERRORS = {status: {"model": schemas.ErrorOut} for status in (400, 401, 403, 404)} | {
    422: {"model": schemas.UnprocessableOut, "description": "Invalid parameters (FastAPI's list of problems, "
          "or a Kuma error body such as a clip end before its start)."}}
MAX_PAGE = 100
MAX_OFFSET = 100_000
MAX_SECONDS = 24 * 3600.0

router = APIRouter(prefix="/api", responses=ERRORS)


# --- helpers ------------------------------------------------------------------------------


async def _filters(theme: str | None = Query(None, max_length=64, description="Theme slug, e.g. refoulement."),
             expelled_from: str | None = Query(None, max_length=2, description="ISO 3166 country code."),
             route: str | None = Query(None, max_length=256),
             language: str | None = Query(None, max_length=8, description="ISO 639 code."),
             place: str | None = Query(None, max_length=256),
             recorded_from: datetime | None = Query(None, description="Recorded at or after (ISO 8601)."),
             recorded_to: datetime | None = Query(None, description="Recorded at or before (ISO 8601)."),
             has_transcript: bool | None = Query(None)) -> search.Filters:
    # async: no I/O here, and a sync dependency costs a thread-pool hop per request
    if any("\x00" in value for value in (theme, expelled_from, route, language, place) if value):
        raise InputError("caractère NUL interdit dans un filtre")  # PostgreSQL refuses it in text
    return search.Filters(theme=theme, expelled_from=expelled_from, route=route, language=language, place=place,
                          recorded_from=recorded_from, recorded_to=recorded_to, has_transcript=has_transcript)


# --- routes -------------------------------------------------------------------------------


@router.get("/health", response_model=schemas.Health, tags=["service"])
def health(session: Session = Depends(get_session)) -> dict:
    session.execute(text("SELECT 1"))
    return {"status": "ok", "database": session.get_bind().dialect.name, "search": search.backend(session)}


@router.get("/testimonies", response_model=schemas.Page[schemas.TestimonySummary], tags=["testimonies"])
def list_testimonies(filters: search.Filters = Depends(_filters),
                     limit: int = Query(20, ge=1, le=MAX_PAGE), offset: int = Query(0, ge=0, le=MAX_OFFSET),
                     caller: Caller = Depends(reads_testimonies), session: Session = Depends(get_session)) -> dict:
    """Testimonies the caller may see, filtered, most recent recordings first."""
    use, _ = caller.testimony_access
    page = search.browse(session, use=use, filters=filters, limit=limit, offset=offset)
    data = [access.summary(t, caller, decide(t, use)) for t in page.items]
    audit.record(session, caller.actor, "testimony.list", target="testimonies",
                 ids=[t.public_id for t in page.items])
    return {"data": data, "count": page.count}


@router.get("/testimonies/{public_id}", response_model=schemas.TestimonyDetail, tags=["testimonies"])
def testimony_detail(public_id: str, caller: Caller = Depends(reads_testimonies),
                     session: Session = Depends(get_session)) -> dict:
    """Metadata allowed by consent and role, with the transcript: redacted for advocates."""
    testimony, decision = access.visible(session, caller, public_id)
    _use, redacted = caller.testimony_access
    detail = access.summary(testimony, caller, decision)
    transcript = preferred_transcript(session, testimony.id)
    if redacted:
        segments = [dict(idx=s["idx"], start=s["start"], end=s["end"], text=s["text"])
                    for s in decision.rendition.redacted_segments]
        detail.update(text_form="redacted", segments=segments)
    elif transcript is not None:
        segments = [dict(idx=s.idx, start=s.start, end=s.end, text=s.text) for s in transcript.segments]
        detail.update(text_form="raw", segments=segments)
    else:
        detail.update(text_form="none")
    if transcript is not None:
        detail.update(transcript_source=transcript.source, transcript_version=transcript.version)
    if caller.role == Role.ADMIN:
        detail["restricted"] = _restricted(testimony)
    audit.record(session, caller.actor, "testimony.read", testimony=testimony, text_form=detail["text_form"])
    return detail


def _restricted(testimony: Testimony) -> dict:
    consent = testimony.consent
    return dict(
        pseudonym=testimony.pseudonym, interviewer=testimony.interviewer, notes=testimony.notes,
        source_name=testimony.source_name, sensitive_terms=[t.term for t in testimony.sensitive_terms],
        consent=consent and {name: getattr(consent, name) for name in schemas.ConsentOut.model_fields},
    )


@router.get("/search", response_model=schemas.SearchPage, tags=["search"])
def search_segments(q: str = Query(..., min_length=1, max_length=search.MAX_QUERY_CHARS,
                                   description='Words, "quoted phrases", prefix*, OR. Accents are optional.'),
                    filters: search.Filters = Depends(_filters),
                    limit: int = Query(10, ge=1, le=MAX_PAGE), offset: int = Query(0, ge=0, le=MAX_OFFSET),
                    caller: Caller = Depends(reads_testimonies), session: Session = Depends(get_session)) -> dict:
    """Ranked transcript segments with highlighted snippets and their timecodes."""
    use, redacted = caller.testimony_access
    page = search.search(session, q, use=use, redacted=redacted, limit=limit, offset=offset, filters=filters)
    data = []
    for hit in page.items:
        t = hit.testimony
        data.append(dict(
            testimony=t.public_id, speaker=access.speaker(t, caller, hit.decision), segment=hit.idx, start=hit.start,
            end=hit.end, start_tc=format_timecode(hit.start), end_tc=format_timecode(hit.end),
            snippet=hit.snippet, score=hit.score,
            clip=f"/api/testimonies/{t.public_id}/clip?start={hit.start:.3f}&end={hit.end:.3f}",
        ))
    access.audit_search(session, caller, q, page.items)
    return {"data": data, "count": page.count, "count_capped": page.capped}


@router.get("/themes", response_model=schemas.Page[schemas.ThemeOut], tags=["testimonies"])
def themes(caller: Caller = Depends(reads_testimonies), session: Session = Depends(get_session)) -> dict:
    """The theme vocabulary with how many testimonies the caller may see under each."""
    use, _ = caller.testimony_access
    rows = search.theme_counts(session, use=use)
    return {"data": [{"slug": t.slug, "label": t.label, "count": n} for t, n in rows], "count": len(rows)}


AUDIO_RESPONSE = {200: {"content": {"audio/mpeg": {}}, "description": "MP3 clip (Range requests: 206)."},
                  206: {"description": "Partial content"}, 304: {"description": "Not modified"}}


@router.get("/testimonies/{public_id}/clip", response_class=FileResponse, responses=AUDIO_RESPONSE,
            tags=["testimonies"])
def clip(request: Request, public_id: str,
         start: float = Query(..., ge=0, le=MAX_SECONDS, description="Start, in seconds."),
         end: float = Query(..., gt=0, le=MAX_SECONDS, description="End, in seconds."),
         original: bool = Query(False, description="Original voice (admins only)."),
         caller: Caller = Depends(reads_testimonies), session: Session = Depends(get_session),
         archive: Archive = Depends(get_archive)) -> Response:
    """MP3 audio between two timecodes: the anonymized rendition, or the original for admins."""
    if end <= start:
        raise InputError("la fin de l'extrait doit être après son début")
    testimony, decision = access.visible(session, caller, public_id)
    asset = access.clip_source(testimony, caller, decision, original)
    cut = clips.cut(archive.settings, testimony.public_id, asset, archive.store.path(asset.sha256), start, end)
    audit.record(session, caller.actor, "testimony.clip", testimony=testimony, start=round(cut.start, 3),
                 end=round(cut.end, 3), original=original, range=request.headers.get("range"))
    last_modified = asset.created_at.astimezone(timezone.utc).replace(microsecond=0)
    headers = {"etag": cut.etag, "last-modified": format_datetime(last_modified, usegmt=True),
               "cache-control": "private, max-age=3600"}
    if _not_modified(request, cut.etag, last_modified):
        return Response(status_code=304, headers=headers)
    return FileResponse(cut.path, media_type="audio/mpeg", headers=headers, content_disposition_type="inline",
                        filename=f"{testimony.public_id}_{cut.start:.1f}-{cut.end:.1f}.mp3")


def _not_modified(request: Request, etag: str, last_modified: datetime) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        return etag in [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")] or if_none_match == "*"
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since:
        try:
            return last_modified <= parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
    return False


@router.get("/episodes", response_model=schemas.Page[schemas.EpisodeOut], tags=["episodes"])
def episodes(limit: int = Query(20, ge=1, le=MAX_PAGE), offset: int = Query(0, ge=0, le=MAX_OFFSET),
             caller: Caller = Depends(get_caller), session: Session = Depends(get_session)) -> dict:
    """Episodes: published public ones for anonymous callers, the radio feed's for radios, all for staff."""
    statement = select(Episode).order_by(Episode.date.desc(), Episode.id.desc())
    use = {None: Use.ONLINE, Role.RADIO: Use.BROADCAST, Role.ADVOCATE: Use.ONLINE}.get(caller.role)
    if use is not None:
        statement = statement.where(Episode.built_at.is_not(None), Episode.taken_down_at.is_(None))
        if use == Use.ONLINE:
            statement = statement.where(Episode.public.is_(True))
    visible = [e for e in session.scalars(statement) if use is None or _episode_allowed(e, use)]
    data = [schemas.EpisodeOut.model_validate(e, from_attributes=True) for e in visible[offset:offset + limit]]
    return {"data": data, "count": len(visible)}


def _episode_allowed(episode: Episode, use: Use) -> bool:
    return all(decide(link.testimony, use).allowed for link in episode.testimonies)
