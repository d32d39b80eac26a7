"""A testimony's page for the team: its stages, its consent and the history of it, consent changes
and withdrawal (with confirmation; their effects, takedowns included, follow through
``pipeline.change_consent`` / ``pipeline.withdraw``), the anonymized text with its redactions
highlighted, and the transcript, correctable (a correction is a new human version, as
``kuma transcript import``; the rendition is made again and goes back to review).

Team only. The page exists for every testimony the archive holds, so that a withdrawal stays
visible; its content (transcript, anonymized text) only while ``decide(testimony, Use.PROCESS)``
allows it. Each view is in the audit log (``testimony.view``).
"""
from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

import pipeline
from anonymization.patterns import PLACEHOLDERS
from api.deps import get_archive, get_session, pipeline_runner
from api.users import SignedIn
from api.web import PREFIX, render
from api.web.auth import check_csrf, staff
from archive import audit
from archive.consent import Use, current_rendition, decide, preferred_transcript
from archive.db import Archive
from archive.errors import InputError
from archive.models import Identity, VoiceForm, VoiceMode
from archive.testimonies import get
from transcripts.formats import Cue
from transcripts.versions import store_human

router = APIRouter(prefix="/temoignages")
SCOPES = {"archive": "conserver dans l'archive", "advocacy": "plaidoyer (avocats, associations)",
          "broadcast": "diffusion radio", "online": "publication en ligne"}
IDENTITY = {"anonymous": "anonyme", "pseudonym": "pseudonyme", "named": "nom"}
VOICE = {"disguise": "voix déguisée", "original": "voix d'origine"}
MODES = {"light": "légère", "standard": "standard", "strong": "forte"}
PLACEHOLDER = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS.values()) + r"|\[[A-ZÉ-]+\]")
CONFIRM = "Cochez la case de confirmation : rien n'a été changé."


def highlight_redactions(text: str) -> Markup:
    """The redacted text escaped, each placeholder ([NOM], [LIEU]…) marked."""
    parts, last = [], 0
    for found in PLACEHOLDER.finditer(text):
        parts += [str(escape(text[last:found.start()])), f"<mark>{escape(found.group())}</mark>"]
        last = found.end()
    return Markup("".join(parts + [str(escape(text[last:]))]))


@router.get("/{public_id}")
def testimony_page(request: Request, public_id: str, user: SignedIn = Depends(staff),
                   session: Session = Depends(get_session)) -> Response:
    testimony = get(session, public_id)
    decision = decide(testimony, Use.PROCESS)
    audit.record(session, user.actor, "testimony.view", testimony=testimony, page="témoignage")
    context = {"user": user, "testimony": testimony, "decision": decision, "consent": testimony.consent,
               "history": list(reversed(testimony.consents)), "stages": testimony.stages, "scopes": SCOPES,
               "identity": IDENTITY, "voice": VOICE, "modes": MODES, "notes": request.query_params.getlist("note"),
               "transcript": None, "redacted": None}
    if decision.allowed:
        transcript = preferred_transcript(session, testimony.id)
        rendition = current_rendition(testimony)
        context.update(transcript=transcript, redacted=[
            {**segment, "html": highlight_redactions(segment["text"])} for segment in
            (rendition.redacted_segments if rendition is not None else [])])
    return render(request, "testimony.html", context)


def _back(public_id: str, notes: list[str]) -> RedirectResponse:
    from urllib.parse import urlencode

    return RedirectResponse(f"{PREFIX}/temoignages/{public_id}?" + urlencode([("note", n) for n in notes]),
                            status_code=303)


@router.post("/{public_id}/consentement")
async def change_consent(request: Request, public_id: str, user: SignedIn = Depends(staff),
                         archive: Archive = Depends(get_archive)) -> Response:
    form = await request.form()
    check_csrf(user, form.get("csrf"))
    if form.get("confirm") != "oui":
        raise InputError(CONFIRM)
    changes = {scope: form.get(scope) == "oui" for scope in SCOPES}
    for name, allowed in (("identity", Identity), ("voice", VoiceForm), ("voice_mode", VoiceMode)):
        value = form.get(name)
        if value not in {member.value for member in allowed}:
            raise InputError(f"valeur inconnue pour {name} : {value!r}")
        changes[name] = value
    note = str(form.get("note") or "").strip()
    if note:
        changes["note"] = note[:2000]
    change = pipeline.change_consent(archive, public_id, user.actor, changes)
    return _back(change.public_id, [f"Consentement enregistré (version {change.version})."] + change.notes)


@router.post("/{public_id}/retrait")
async def withdraw(request: Request, public_id: str, user: SignedIn = Depends(staff),
                   archive: Archive = Depends(get_archive), session: Session = Depends(get_session)) -> Response:
    form = await request.form()
    check_csrf(user, form.get("csrf"))
    testimony = get(session, public_id)
    if str(form.get("confirm_id") or "").strip().upper() != testimony.public_id:
        raise InputError(f"Pour confirmer le retrait, tapez l'identifiant {testimony.public_id} : rien n'a été retiré.")
    session.commit()
    change = pipeline.withdraw(archive, testimony.public_id, user.actor, str(form.get("note") or "").strip() or None)
    return _back(change.public_id, [f"Consentement retiré (version {change.version})."] + change.notes)


@router.post("/{public_id}/transcription")
async def correct_transcript(request: Request, public_id: str, user: SignedIn = Depends(staff),
                             archive: Archive = Depends(get_archive), session: Session = Depends(get_session)) -> Response:
    """The team's corrections: every segment's text as edited, same timings, as a new human version."""
    form = await request.form()
    check_csrf(user, form.get("csrf"))
    testimony = get(session, public_id)
    decide(testimony, Use.PROCESS).require()
    transcript = preferred_transcript(session, testimony.id)
    if transcript is None:
        raise InputError(f"{testimony.public_id} : aucune transcription à corriger")
    cues = [Cue(s.idx, s.start, s.end, str(form.get(f"segment-{s.idx}", s.text)).strip(), s.speaker)
            for s in transcript.segments]
    if [c.text for c in cues] == [s.text for s in transcript.segments]:
        return _back(testimony.public_id, ["Aucune correction : la transcription est inchangée."])
    cues = [c for c in cues if c.text]
    if not cues:
        raise InputError("la transcription corrigée est vide")
    version = store_human(session, testimony, cues, actor=user.actor,
                          origin={"edited_in": "studio", "from_version": transcript.version})
    audit.record(session, user.actor, "transcript.edit", testimony=testimony, version=version.version)
    session.commit()
    pipeline_runner(request, archive).start((pipeline.ANONYMIZE,))
    return _back(testimony.public_id, [f"Transcription corrigée (version {version.version}) : la version anonymisée "
                                       "est refaite en arrière-plan, puis repasse en relecture."])
