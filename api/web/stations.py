"""The partner radios (team only): their stations, the feed addresses, a new station's token (shown
once), revocation. The same functions as ``kuma radios add|list|revoke``; the feeds are published
again at once, as the command line does, so a new token works and a revoked one stops now."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from api.deps import get_archive, get_session
from api.users import SignedIn
from api.web import PREFIX, render
from api.web.auth import check_csrf, staff
from archive.db import Archive
from feeds import radios
from feeds.build import LOWBAND, PUBLIC, Urls
from feeds.publish import publish

router = APIRouter(prefix="/radios")


def _page(request: Request, user: SignedIn, archive: Archive, session: Session, **extra) -> Response:
    urls = Urls(archive.settings)
    return render(request, "stations.html", {"user": user, "stations": radios.stations(session),
                                             "public_feed": urls.feed(PUBLIC), "lowband_feed": urls.feed(LOWBAND),
                                             **extra})


@router.get("")
def stations_page(request: Request, fait: str | None = None, user: SignedIn = Depends(staff),
                  archive: Archive = Depends(get_archive), session: Session = Depends(get_session)) -> Response:
    return _page(request, user, archive, session, revoked=fait == "revoquee")


@router.post("")
def add_station(request: Request, name: str = Form(""), slug: str = Form(""), csrf: str = Form(""),
                user: SignedIn = Depends(staff), archive: Archive = Depends(get_archive),
                session: Session = Depends(get_session)) -> Response:
    check_csrf(user, csrf)
    station, token = radios.add(session, name, slug=slug or None, actor=user.actor)
    session.commit()
    publish(archive, actor=user.actor)
    response = _page(request, user, archive, session, created=station, feed_url=radios.feed_url(archive.settings, token))
    response.headers["Cache-Control"] = "no-store"  # the token is on this page only
    return response


@router.post("/{slug}/revoquer")
def revoke_station(slug: str, csrf: str = Form(""), user: SignedIn = Depends(staff),
                   archive: Archive = Depends(get_archive), session: Session = Depends(get_session)) -> Response:
    check_csrf(user, csrf)
    radios.revoke(session, slug, actor=user.actor)
    session.commit()
    publish(archive, actor=user.actor)
    return RedirectResponse(f"{PREFIX}/radios?fait=revoquee", status_code=303)
