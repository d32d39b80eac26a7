"""The programme (team only): the episodes built, their loudness and a preview player; the rundowns
of ``KUMA_PROGRAMME_DIR``, written or corrected here and checked on saving; build and publish,
run in the background by the pipeline (``pipeline.BUILD_EPISODE``, ``pipeline.PUBLISH``), followed
on ``/studio/suivi``."""
from __future__ import annotations

import os
import re

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

import pipeline
from api.deps import get_archive, get_session, pipeline_runner
from api.users import SignedIn
from api.web import PREFIX, render
from api.web.auth import check_csrf, staff
from archive import audit
from archive.db import Archive, ensure_private_dir
from archive.errors import InputError, NotFound, RundownError
from archive.models import Episode
from archive.yamlfile import load_yaml
from feeds import receipts
from studio.episode import episode_asset
from studio.rundown import parse_rundown

router = APIRouter(prefix="/emissions")
RUNDOWN_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,80}\.ya?ml$")
EXAMPLE = """number: 1
title: Partir, revenir
date: 2026-12-10
description: Deux voix sur le retour.
items:
  - {type: excerpt, testimony: T-000001}
"""


def _rundowns(archive: Archive) -> list[str]:
    folder = archive.settings.programme_path
    return sorted(p.name for p in folder.iterdir() if RUNDOWN_NAME.match(p.name)) if folder.is_dir() else []


def _page(request: Request, user: SignedIn, archive: Archive, session: Session, *, name: str = "", text: str = "",
          problems: list[str] | None = None, saved: str | None = None, status_code: int = 200) -> Response:
    episodes = session.scalars(select(Episode).order_by(Episode.date.desc(), Episode.number.desc())).all()
    held_by = receipts.holders(receipts.status(session, confirm_days=archive.settings.takedown_confirm_days))
    return render(request, "programme.html", {
        "user": user, "episodes": [(e, bool(episode_asset(e, "podcast"))) for e in episodes], "held_by": held_by,
        "rundowns": _rundowns(archive), "name": name, "text": text or EXAMPLE, "problems": problems or [],
        "saved": saved}, status_code=status_code)


@router.get("")
def programme(request: Request, conducteur: str | None = None, enregistre: str | None = None,
              user: SignedIn = Depends(staff), archive: Archive = Depends(get_archive),
              session: Session = Depends(get_session)) -> Response:
    name, text = "", ""
    if conducteur:
        if conducteur not in _rundowns(archive):
            raise NotFound(f"conducteur inconnu : {conducteur}")
        name, text = conducteur, (archive.settings.programme_path / conducteur).read_text(encoding="utf-8")
    return _page(request, user, archive, session, name=name, text=text,
                 saved=enregistre if enregistre in _rundowns(archive) else None)


@router.post("/conducteurs")
def save_rundown(request: Request, name: str = Form(""), text: str = Form(""), csrf: str = Form(""),
                 user: SignedIn = Depends(staff), archive: Archive = Depends(get_archive),
                 session: Session = Depends(get_session)) -> Response:
    """Check the rundown's shape (the archive checks — consent, files — come with the build) and save it."""
    check_csrf(user, csrf)
    name = name.strip().lower()
    if not name.endswith((".yaml", ".yml")):
        name += ".yaml"
    problems = [] if RUNDOWN_NAME.match(name) else [
        f"nom de fichier invalide : {name!r} (lettres sans accents, chiffres, - et _, puis .yaml)"]
    try:
        parse_rundown(load_yaml(text, name, error=RundownError), name)
    except RundownError as exc:
        problems += exc.problems
    if problems:
        return _page(request, user, archive, session, name=name, text=text, problems=problems, status_code=422)
    folder = ensure_private_dir(archive.settings.programme_path)
    temporary = folder / f".{name}.part"
    temporary.write_text(text.replace("\r\n", "\n"), encoding="utf-8")
    os.replace(temporary, folder / name)
    audit.record(session, user.actor, "rundown.save", target=name)
    return RedirectResponse(f"{PREFIX}/emissions?enregistre={name}", status_code=303)


@router.post("/construire")
def build(request: Request, csrf: str = Form(""), user: SignedIn = Depends(staff),
          archive: Archive = Depends(get_archive)) -> Response:
    check_csrf(user, csrf)
    _start(request, archive, (pipeline.BUILD_EPISODE,))
    return RedirectResponse(f"{PREFIX}/suivi", status_code=303)


@router.post("/publier")
def publish(request: Request, csrf: str = Form(""), user: SignedIn = Depends(staff),
            archive: Archive = Depends(get_archive)) -> Response:
    check_csrf(user, csrf)
    _start(request, archive, (pipeline.PUBLISH,))
    return RedirectResponse(f"{PREFIX}/suivi", status_code=303)


def _start(request: Request, archive: Archive, stages) -> None:
    if not pipeline_runner(request, archive).start(stages):
        raise InputError("un traitement est déjà en cours : attendez sa fin (page Suivi) et recommencez")


@router.get("/{slug}/ecoute")
def preview(slug: str, user: SignedIn = Depends(staff), archive: Archive = Depends(get_archive),
            session: Session = Depends(get_session)) -> Response:
    """The podcast rendition, to listen before publishing (byte ranges: the player seeks)."""
    episode = session.scalar(select(Episode).where(Episode.slug == slug))
    asset = episode_asset(episode, "podcast") if episode is not None and episode.taken_down_at is None else None
    if asset is None or not archive.store.exists(asset.sha256):
        raise NotFound(f"épisode inconnu ou retiré : {slug}")
    return FileResponse(archive.store.path(asset.sha256), media_type="audio/mpeg",
                        headers={"Cache-Control": "private, no-store"})
