"""The partner radios (team only): their stations with what each last reported (``kuma-station``
receipts: last contact, episodes held, takedowns confirmed or pending, flagged when overdue), the
feed addresses, a new station's token (shown once), revocation. The same functions as
``kuma radios add|list|revoke|status``; the feeds are published again at once, as the command line
does, so a new token works and a revoked one stops now."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from api.deps import get_archive, get_session
from api.users import SignedIn
from api.web import PREFIX, render
from api.web.auth import check_csrf, staff
from archive.db import Archive
from archive.errors import NotFound
from feeds import radios, receipts
from feeds.build import LOWBAND, PUBLIC, Urls
from feeds.publish import publish

router = APIRouter(prefix="/radios")


def _page(request: Request, user: SignedIn, archive: Archive, session: Session, **extra) -> Response:
    urls = Urls(archive.settings)
    return render(request, "stations.html", {"user": user, "stations": _statuses(archive, session),
                                             "public_feed": urls.feed(PUBLIC), "lowband_feed": urls.feed(LOWBAND),
                                             "client_url": f"{urls.base}/station/kuma-station.pyz",
                                             "days": archive.settings.takedown_confirm_days, **extra})


def _statuses(archive: Archive, session: Session) -> list[receipts.StationStatus]:
    return receipts.status(session, confirm_days=archive.settings.takedown_confirm_days)


@router.get("")
def stations_page(request: Request, fait: str | None = None, user: SignedIn = Depends(staff),
                  archive: Archive = Depends(get_archive), session: Session = Depends(get_session)) -> Response:
    return _page(request, user, archive, session, revoked=fait == "revoquee")


@router.get("/{slug}")
def station_page(slug: str, request: Request, user: SignedIn = Depends(staff), archive: Archive = Depends(get_archive),
                 session: Session = Depends(get_session)) -> Response:
    found = receipts.status(session, confirm_days=archive.settings.takedown_confirm_days, station=slug)
    if not found:
        raise NotFound(f"radio inconnue : {slug}")
    return render(request, "station.html", {"user": user, "station": found[0], "labels": receipts.STATE_LABELS,
                                            "days": archive.settings.takedown_confirm_days})


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


@router.post("/{slug}/retraits/{episode}/confirmer")
def confirm_takedown(slug: str, episode: str, csrf: str = Form(""), note: str = Form(""),
                     user: SignedIn = Depends(staff), session: Session = Depends(get_session)) -> Response:
    check_csrf(user, csrf)
    receipts.confirm_by_hand(session, slug, episode, actor=user.actor, note=note or None)
    return RedirectResponse(f"{PREFIX}/radios/{slug}", status_code=303)


@router.post("/{slug}/revoquer")
def revoke_station(slug: str, csrf: str = Form(""), user: SignedIn = Depends(staff),
                   archive: Archive = Depends(get_archive), session: Session = Depends(get_session)) -> Response:
    check_csrf(user, csrf)
    radios.revoke(session, slug, actor=user.actor)
    session.commit()
    publish(archive, actor=user.actor)
    return RedirectResponse(f"{PREFIX}/radios?fait=revoquee", status_code=303)
