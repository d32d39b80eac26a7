"""The review pages: the queue, and one testimony's anonymized rendition with its player, every
bleep and every flag ("play from here"), the intelligibility gate, and the reviewer's operations
(add a term, ignore a false alarm, approve): the same functions as ``kuma review``.

Staff only (admin, producer). The testimony must be one the policy lets be processed
(``decide(testimony, Use.PROCESS)``), for the page and for every audio byte; each page view is in
the audit log (``testimony.view``). A term change re-opens review and starts the anonymize stage
in the background (as ``kuma review add-term`` runs it), which makes the rendition again.
"""
from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

import pipeline
from anonymization import stage
from api.deps import get_archive, get_session, pipeline_runner
from api.users import SignedIn
from api.web import PREFIX, render
from api.web.auth import check_csrf, staff
from archive import audit
from archive.consent import Use, current_rendition, decide
from archive.db import Archive
from archive.errors import InputError, NotFound, ReviewRequired
from archive.models import TermKind, Testimony
from archive.testimonies import get

router = APIRouter(prefix="/relecture")
DONE = {"approuve": "Version anonymisée approuvée : elle peut sortir de l'archive, selon le consentement.",
        "terme": "Termes mis à jour : la version anonymisée est refaite en arrière-plan, puis repasse en relecture."}
TERM_KINDS = {"name": "nom", "place": "lieu", "phone": "numéro", "other": "autre"}


def _testimony(session: Session, public_id: str) -> Testimony:
    """The testimony, if the policy lets the team work on it; a 404 otherwise (as the API)."""
    testimony = get(session, public_id)
    decision = decide(testimony, Use.PROCESS)
    if not decision.allowed:
        raise NotFound(f"{testimony.public_id} : {decision.reason}")
    return testimony


@router.get("")
def queue(request: Request, user: SignedIn = Depends(staff), session: Session = Depends(get_session)) -> Response:
    return render(request, "review_queue.html", {"user": user, "queue": [e.as_dict() for e in stage.review_queue(session)]})


@router.get("/{public_id}")
def review_page(request: Request, public_id: str, fait: str | None = None, user: SignedIn = Depends(staff),
                archive: Archive = Depends(get_archive), session: Session = Depends(get_session)) -> Response:
    testimony = _testimony(session, public_id)
    rendition = current_rendition(testimony)
    audit.record(session, user.actor, "testimony.view", testimony=testimony, page="relecture")
    context = {"user": user, "testimony": testimony, "rendition": rendition, "done": DONE.get(fait or ""),
               "kinds": TERM_KINDS, "labels": stage.FLAG_LABELS,
               "terms": sorted(testimony.sensitive_terms, key=lambda t: t.term.casefold())}
    if rendition is not None:
        context.update(items=stage.review_items(session, rendition), flags=stage.review_flags(session, rendition),
                       gate=stage.intelligibility_of(rendition, archive.settings.voice_max_wer),
                       audio=rendition.audio is not None and archive.store.exists(rendition.audio.sha256))
    return render(request, "review.html", context)


@router.get("/{public_id}/audio")
def rendition_audio(public_id: str, user: SignedIn = Depends(staff), archive: Archive = Depends(get_archive),
                    session: Session = Depends(get_session)) -> Response:
    """The whole anonymized rendition, as it will air (range requests: the player seeks)."""
    rendition = current_rendition(_testimony(session, public_id))
    if rendition is None or rendition.audio is None or not archive.store.exists(rendition.audio.sha256):
        raise NotFound(f"{public_id} : pas de version anonymisée à écouter")
    return FileResponse(archive.store.path(rendition.audio.sha256), media_type="audio/flac",
                        headers={"Cache-Control": "private, no-store"})


@router.post("/{public_id}/approuver")
def approve(public_id: str, csrf: str = Form(""), accept_unintelligible: bool = Form(False),
            user: SignedIn = Depends(staff), archive: Archive = Depends(get_archive),
            session: Session = Depends(get_session)) -> Response:
    check_csrf(user, csrf)
    testimony = _testimony(session, public_id)
    rendition = current_rendition(testimony)
    gate = stage.intelligibility_of(rendition, archive.settings.voice_max_wer)["problem"] if rendition else None
    if gate and not accept_unintelligible and rendition.status != "approved":
        raise ReviewRequired(f"{testimony.public_id} : {gate}. Écoutez la version entière, puis cochez « J'ai écouté "
                             "la version entière » pour l'approuver quand même.")
    stage.approve(archive, session, testimony, user.actor, accept_unintelligible=accept_unintelligible)
    return RedirectResponse(f"{PREFIX}/relecture/{testimony.public_id}?fait=approuve", status_code=303)


@router.post("/{public_id}/termes")
def change_term(request: Request, public_id: str, csrf: str = Form(""), term: str = Form(""),
                kind: str = Form("name"), action: str = Form("add"), user: SignedIn = Depends(staff),
                archive: Archive = Depends(get_archive), session: Session = Depends(get_session)) -> Response:
    check_csrf(user, csrf)
    testimony = _testimony(session, public_id)
    if action == "ignore":
        stage.ignore_term(session, testimony, term, user.actor)
    elif kind in {k.value for k in TermKind}:
        stage.add_term(session, testimony, term, kind, user.actor)
    else:
        raise InputError(f"type de terme inconnu : {kind!r}")
    session.commit()  # the background pass must see the change
    pipeline_runner(request, archive).start((pipeline.ANONYMIZE,))  # as ``kuma review add-term`` does
    return RedirectResponse(f"{PREFIX}/relecture/{testimony.public_id}?fait=terme", status_code=303)
