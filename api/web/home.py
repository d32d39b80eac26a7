"""The studio's home page: who is signed in, and what waits for the team."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from anonymization.stage import review_queue
from api.deps import get_session
from api.users import SignedIn
from api.web import render
from api.web.auth import signed_in
from archive.models import Role

router = APIRouter()
ROLE_LABELS = {Role.ADMIN: "administration", Role.PRODUCER: "production", Role.ADVOCATE: "plaidoyer"}


@router.get("/")
def home(request: Request, user: SignedIn = Depends(signed_in), session: Session = Depends(get_session)) -> Response:
    waiting = [entry.as_dict() for entry in review_queue(session)] if user.role != Role.ADVOCATE else []
    return render(request, "home.html", {"user": user, "role_label": ROLE_LABELS[user.role], "waiting": waiting})
