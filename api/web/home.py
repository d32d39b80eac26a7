"""The studio's home page: who is signed in, and what waits for the team."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from anonymization.stage import review_queue
from api.deps import get_archive, get_session, pipeline_runner
from api.users import SignedIn
from api.web import render
from api.web.auth import signed_in, staff
from archive.db import Archive
from archive.models import Role

router = APIRouter()
ROLE_LABELS = {Role.ADMIN: "administration", Role.PRODUCER: "production", Role.ADVOCATE: "plaidoyer"}


@router.get("/")
def home(request: Request, user: SignedIn = Depends(signed_in), session: Session = Depends(get_session)) -> Response:
    waiting = [entry.as_dict() for entry in review_queue(session)] if user.role != Role.ADVOCATE else []
    return render(request, "home.html", {"user": user, "role_label": ROLE_LABELS[user.role], "waiting": waiting})


@router.get("/suivi")
def follow(request: Request, user: SignedIn = Depends(staff), archive: Archive = Depends(get_archive)) -> Response:
    """The background pipeline pass (started by an upload, a build, a publication), as it goes."""
    runner = pipeline_runner(request, archive)
    results = [{"stage": r.stage.value, "ref": r.testimony or r.ref.rsplit("/", 1)[-1], "state": r.state.value,
                "reason": r.reason or ""} for r in runner.last]
    return render(request, "follow.html", {"user": user, "running": runner.running, "stage": runner.stage,
                                           "ref": runner.ref, "results": results, "error": runner.error})
