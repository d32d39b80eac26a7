"""Partner stations (issue 19): what they report back (``POST /radio/<token>/receipt``) and the
client they run (``GET /station/kuma-station.pyz``, public: it holds no secret).

The station's private token is the credential, as for its feed: unknown and revoked tokens get
the same 404. The answer says which takedowns the archive still waits for from this station.
"""
from __future__ import annotations

from functools import lru_cache

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api import schemas
from api.deps import get_archive, get_session
from archive.db import Archive
from archive.errors import NotFound
from feeds import receipts
from station import __version__ as client_version, bundle

router = APIRouter(tags=["feeds"])


@router.post("/radio/{token}/receipt", status_code=201, response_model=schemas.ReceiptOut,
             responses={404: {"model": schemas.ErrorOut, "description": "Unknown or revoked token."}})
def post_receipt(token: str, body: schemas.ReceiptIn, session: Session = Depends(get_session),
                 archive: Archive = Depends(get_archive)) -> schemas.ReceiptOut:
    """A station's report after a sync: episodes held, takedowns executed, airings."""
    station = receipts.station_for_token(session, token)
    if station is None:
        raise NotFound("flux inconnu")
    receipt = receipts.record(session, station, _report(body))
    session.flush()
    [mine] = receipts.status(session, confirm_days=archive.settings.takedown_confirm_days, station=station.slug)
    return schemas.ReceiptOut(received_at=receipt.received_at, held=len(body.held),
                              takedowns_confirmed=len(mine.takedowns_in("confirmed")),
                              takedowns_pending=[t.slug for t in mine.unconfirmed])


def _report(body: schemas.ReceiptIn) -> receipts.Report:
    return receipts.Report(
        client=body.client, synced_at=body.synced_at,
        held=tuple(receipts.Held(h.guid, h.slug, h.sha256, h.file, h.size) for h in body.held),
        takedowns=tuple(receipts.Executed(t.guid, t.slug, t.listed_at, t.executed_at, tuple(t.files_deleted))
                        for t in body.takedowns),
        aired=tuple(receipts.Aired(a.guid, a.slug, a.at) for a in body.aired),
        problems=tuple(p[:300] for p in body.problems),
    )


@router.get("/station/kuma-station.pyz", response_class=Response, include_in_schema=False)
def client_bundle() -> Response:
    """The station client as one file: ``python3 kuma-station.pyz init --feed <address>``."""
    return Response(_bundle(), media_type="application/zip", headers={
        "content-disposition": 'attachment; filename="kuma-station.pyz"',
        "x-kuma-station-version": client_version, "cache-control": "public, max-age=3600"})


@lru_cache(maxsize=1)
def _bundle() -> bytes:
    return bundle.build()
