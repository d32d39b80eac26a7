"""Intake: a field worker uploads one or several recordings with the consent form.

The form has every sidecar field (``ingest.sidecar.IntakeMetadata``: scopes, identity, voice and its
disguise, who collected the consent and how, sensitive terms, themes, place, route, dates). It is
validated by the same model as a sidecar file; each problem is shown beside its field and nothing is
kept. Valid, each recording is dropped into the inbox with its sidecar (``ingest.inbox.drop``) and a
pipeline pass starts in the background (``pipeline.Runner``): the same ingest code as
``kuma ingest``, then cleanup, transcription, anonymization. The follow-up page shows the pass as it
goes (``/studio/suivi``: it reloads itself every few seconds while the pass runs; no script).
"""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from api.deps import get_archive, get_session, pipeline_runner
from api.users import SignedIn
from api.web import PREFIX, render
from api.web.auth import check_csrf, staff
from api.web.testimony import IDENTITY, MODES, SCOPES, VOICE
from archive import audit
from archive.db import Archive
from archive.models import TermKind, Theme
from ingest import inbox
from ingest.sidecar import IntakeMetadata

router = APIRouter(prefix="/depot")
TEXT_FIELDS = ("pseudonym", "recorded_at", "place", "language", "expelled_from", "route", "interviewer", "notes")
CONSENT_TEXT = ("collected_by", "method")
TERM_KINDS = {"name": "nom", "place": "lieu", "phone": "numéro", "other": "autre"}
MAX_FILES = 20


def _themes(session: Session) -> list[Theme]:
    return list(session.scalars(select(Theme).order_by(Theme.label)))


def _page(request: Request, user: SignedIn, session: Session, values: dict, errors: dict[str, str],
          status_code: int = 200) -> Response:
    return render(request, "intake.html", {
        "user": user, "values": values, "errors": errors, "themes": _themes(session), "scopes": SCOPES,
        "identity": IDENTITY, "voice": VOICE, "modes": MODES, "kinds": TERM_KINDS}, status_code=status_code)


@router.get("")
def intake_form(request: Request, user: SignedIn = Depends(staff), session: Session = Depends(get_session)) -> Response:
    defaults = {"identity": "anonymous", "voice": "disguise", "voice_mode": "standard", "language": "fr",
                "collected_by": user.name, "themes": [], "terms": ""}
    return _page(request, user, session, defaults, {})


def metadata_from(form) -> tuple[dict, dict]:
    """(the sidecar dict, the form's values to show again) from the posted form."""
    values = {name: str(form.get(name) or "").strip() for name in (*TEXT_FIELDS, *CONSENT_TEXT)}
    values.update({name: str(form.get(name) or "") for name in ("identity", "voice", "voice_mode")})
    values.update({scope: form.get(scope) == "oui" for scope in SCOPES})
    values["themes"] = [str(t) for t in form.getlist("themes")]
    values["terms"] = str(form.get("terms") or "")
    terms = []
    for line in values["terms"].splitlines():
        kind, _, term = line.partition(":")
        if term and kind.strip().lower() in TERM_KINDS.values():
            kind_value = next(k for k, label in TERM_KINDS.items() if label == kind.strip().lower())
            terms.append({"term": term.strip(), "kind": kind_value})
        elif line.strip():
            terms.append({"term": line.strip(), "kind": TermKind.NAME.value})
    metadata = {name: values[name] for name in TEXT_FIELDS if values[name]}
    metadata["themes"] = values["themes"]
    metadata["sensitive_terms"] = terms
    metadata["consent"] = {**{scope: values[scope] for scope in SCOPES},
                           **{name: values[name] for name in ("identity", "voice", "voice_mode")},
                           **{name: values[name] for name in CONSENT_TEXT if values[name]}}
    return metadata, values


def problems(metadata: dict, vocabulary: set[str]) -> dict[str, str]:
    """Field name -> the problem, in French, as the sidecar check words it."""
    errors: dict[str, str] = {}
    try:
        IntakeMetadata.model_validate(metadata)
    except ValidationError as exc:
        for error in exc.errors():
            location = [str(part) for part in error["loc"]]
            field = location[-1] if location[0] == "consent" else location[0]
            errors.setdefault(field, error["msg"].removeprefix("Value error, "))
    unknown = [t for t in metadata.get("themes", []) if t not in vocabulary]
    if unknown:
        errors["themes"] = f"thème inconnu : {', '.join(unknown)}"
    if not metadata["consent"]["archive"]:
        errors["archive"] = "sans accord pour conserver l'enregistrement, il ne peut pas être déposé"
    return errors


@router.post("")
async def intake(request: Request, user: SignedIn = Depends(staff), archive: Archive = Depends(get_archive),
                 session: Session = Depends(get_session)) -> Response:
    form = await request.form(max_files=MAX_FILES)
    check_csrf(user, form.get("csrf"))
    metadata, values = metadata_from(form)
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    errors = problems(metadata, {theme.slug for theme in _themes(session)})
    if not uploads:
        errors["files"] = "choisissez au moins un enregistrement"
    if errors:
        return _page(request, user, session, values, errors, status_code=422)
    dropped = []
    for upload in uploads:
        try:
            dropped.append(inbox.drop(archive.settings.inbox_path, upload.filename, upload.file, metadata).name)
        except Exception:
            for name in dropped:  # all or nothing: what was dropped before a failure goes again
                (archive.settings.inbox_path / name).unlink(missing_ok=True)
            raise
    audit.record(session, user.actor, "intake.upload", files=dropped)
    session.commit()
    pipeline_runner(request, archive).start()
    return RedirectResponse(f"{PREFIX}/suivi", status_code=303)
