"""What partner stations report back, and what the archive concludes from it (issue 19).

After each sync a station's ``kuma-station`` client POSTs a receipt to ``/radio/<token>/receipt``:
the episodes it holds (with their sha256), the takedowns it executed, "aired at" lines from its
playout log. :func:`record` keeps it; :func:`status` compares it with what is published now:

- a held episode is current (its sha256 is one of the episode's published renditions), outdated
  (an older build), or to delete (the episode is on the takedown list);
- a takedown is confirmed when the station reported executing it (for this listing: an episode can
  leave the air, come back and leave again) and no longer holds it; pending otherwise; overdue when
  still pending ``takedown_confirm_days`` after it was published. A station registered after a
  takedown never had the episode in its feed: that takedown does not concern it.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from archive import audit
from archive.errors import NotFound
from archive.models import RadioStation, StationAiring, StationReceipt, StationTakedown, as_utc, utcnow
from feeds import catalog as catalog_module
from feeds.catalog import Catalog, TakenDown
from feeds import radios
from feeds.radios import is_token_shaped, token_sha256

RECEIPTS_KEPT = 50  # per station; the latest one is what the status reads


@dataclass(frozen=True)
class Held:
    guid: str
    slug: str
    sha256: str
    file: str
    size: int


@dataclass(frozen=True)
class Executed:
    guid: str
    slug: str
    listed_at: datetime  # the takedown's date in takedown.json
    executed_at: datetime
    files_deleted: tuple[str, ...] = ()


@dataclass(frozen=True)
class Aired:
    guid: str
    slug: str
    at: datetime


@dataclass(frozen=True)
class Report:
    client: str
    synced_at: datetime | None
    held: tuple[Held, ...] = ()
    takedowns: tuple[Executed, ...] = ()
    aired: tuple[Aired, ...] = ()
    problems: tuple[str, ...] = ()


def station_for_token(session: Session, token: str) -> RadioStation | None:
    """The active station this token opens, or None (unknown and revoked look the same)."""
    if not is_token_shaped(token):
        return None
    station = session.scalar(select(RadioStation).where(RadioStation.token_sha256 == token_sha256(token)))
    return station if station is not None and station.active else None


def record(session: Session, station: RadioStation, report: Report, *, now: datetime | None = None) -> StationReceipt:
    """Keep a receipt, the takedowns it confirms and the airings it reports (idempotent for both)."""
    now = now or utcnow()
    receipt = StationReceipt(station_id=station.id, received_at=now, synced_at=as_utc(report.synced_at),
                             client=report.client[:64], problems=list(report.problems),
                             held=[{"guid": h.guid, "slug": h.slug, "sha256": h.sha256, "file": h.file, "size": h.size}
                                   for h in report.held])
    session.add(receipt)
    session.flush()
    _prune(session, station)
    for executed in report.takedowns:
        _confirm(session, station, executed, now)
    _add_airings(session, station, report.aired, now)
    return receipt


def _prune(session: Session, station: RadioStation) -> None:
    kept = select(StationReceipt.id).where(StationReceipt.station_id == station.id) \
        .order_by(StationReceipt.received_at.desc(), StationReceipt.id.desc()).limit(RECEIPTS_KEPT)
    session.execute(delete(StationReceipt).where(StationReceipt.station_id == station.id,
                                                 StationReceipt.id.not_in(list(session.scalars(kept)))))


def _confirm(session: Session, station: RadioStation, executed: Executed, now: datetime) -> None:
    row = _takedown_row(session, station, executed.guid)
    listed_at = as_utc(executed.listed_at)
    if row.listed_at is not None and row.listed_at >= listed_at and row.confirmed_by is None:
        return  # already confirmed by the station itself (a confirmation by hand gives way to it)
    row.slug, row.listed_at, row.executed_at = executed.slug, listed_at, as_utc(executed.executed_at)
    row.received_at, row.files_deleted, row.confirmed_by = now, list(executed.files_deleted), None
    audit.record(session, f"radio:{station.slug}", "radio.takedown_confirmed", target=executed.slug,
                 files_deleted=len(executed.files_deleted))


def confirm_by_hand(session: Session, station_slug: str, episode_slug: str, *, actor: str,
                    note: str | None = None, now: datetime | None = None) -> StationTakedown:
    """A person of the team confirms a takedown for a station (they called it): the flag clears
    even though the station's own receipts cannot say so (revoked token, broken client)."""
    now = now or utcnow()
    station = radios.get(session, station_slug)
    item = next((t for t in catalog_module.load(session, now=now).taken_down if t.slug == episode_slug.strip()), None)
    if item is None:
        raise NotFound(f"aucun retrait en cours pour l'épisode {episode_slug}")
    row = _takedown_row(session, station, item.guid)
    row.slug, row.listed_at, row.executed_at, row.received_at = item.slug, as_utc(item.taken_down_at), now, now
    row.files_deleted, row.confirmed_by = [], actor
    audit.record(session, actor, "radio.takedown_confirmed_by_hand", target=item.slug, station=station.slug,
                 note=note or "")
    return row


def _takedown_row(session: Session, station: RadioStation, guid: str) -> StationTakedown:
    """The station's confirmation row for this episode, made (pending the caller's values) when new."""
    row = session.scalar(select(StationTakedown).where(StationTakedown.station_id == station.id,
                                                       StationTakedown.guid == guid))
    if row is None:
        row = StationTakedown(station_id=station.id, guid=guid)
        session.add(row)
    return row


def _add_airings(session: Session, station: RadioStation, aired: Iterable[Aired], now: datetime) -> None:
    wanted = {(a.guid, as_utc(a.at).replace(microsecond=0)): a for a in aired}
    if not wanted:
        return
    known = {(guid, as_utc(at)) for guid, at in session.execute(
        select(StationAiring.guid, StationAiring.aired_at).where(StationAiring.station_id == station.id,
                                                                 StationAiring.guid.in_({g for g, _ in wanted})))}
    for (guid, at), item in sorted(wanted.items(), key=lambda kv: kv[0][1]):
        if (guid, at) not in known:
            session.add(StationAiring(station_id=station.id, guid=guid, slug=item.slug, aired_at=at, received_at=now))


# --- status -------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeldEpisode:
    slug: str
    guid: str
    file: str
    state: str  # "current" | "outdated" | "taken_down" | "unknown"


@dataclass(frozen=True)
class TakedownState:
    slug: str
    guid: str
    taken_down_at: datetime
    reason: str
    state: str  # "confirmed" | "pending" | "overdue"
    confirmed_at: datetime | None = None  # when the archive received the confirmation
    confirmed_by: str | None = None  # a person who confirmed it by hand; None: the station's receipt


@dataclass
class StationStatus:
    slug: str
    name: str
    active: bool
    created_at: datetime
    revoked_at: datetime | None = None
    last_contact: datetime | None = None
    client: str | None = None
    problems: list[str] = field(default_factory=list)
    held: list[HeldEpisode] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # radio episodes it holds no current copy of (slugs)
    takedowns: list[TakedownState] = field(default_factory=list)
    airings: int = 0

    @property
    def current(self) -> int:
        return sum(1 for h in self.held if h.state == "current")

    def takedowns_in(self, state: str) -> list[TakedownState]:
        return [t for t in self.takedowns if t.state == state]

    @property
    def unconfirmed(self) -> list[TakedownState]:
        """Pending and overdue takedowns."""
        return [t for t in self.takedowns if t.state != "confirmed"]

    @property
    def flagged(self) -> bool:
        return bool(self.takedowns_in("overdue"))


STATE_LABELS = {
    "current": "à jour", "outdated": "ancienne version", "taken_down": "à supprimer", "unknown": "inconnu",
    "confirmed": "confirmé", "pending": "en attente", "overdue": "non confirmé",
}


def status(session: Session, *, confirm_days: float, now: datetime | None = None,
           station: str | None = None) -> list[StationStatus]:
    """Every station (revoked ones too: they may still hold withdrawn episodes), by slug; or only
    the one whose slug is ``station``."""
    now = now or utcnow()
    catalog = catalog_module.load(session, now=now)
    query = select(RadioStation).order_by(RadioStation.slug)
    if station is not None:
        query = query.where(RadioStation.slug == station.strip().lower())
    stations = list(session.scalars(query))
    ids = [s.id for s in stations]
    latest = _latest_receipts(session, ids)
    confirmed = _confirmations(session, ids)
    airings = _airing_counts(session, ids)
    found = []
    for radio in stations:
        receipt = latest.get(radio.id)
        entry = StationStatus(slug=radio.slug, name=radio.name, active=radio.active,
                              created_at=radio.created_at, revoked_at=radio.revoked_at,
                              airings=airings.get(radio.id, 0))
        held_guids: set[str] = set()
        if receipt is not None:
            entry.last_contact, entry.client, entry.problems = receipt.received_at, receipt.client, list(receipt.problems)
            entry.held = [_held_state(item, catalog) for item in receipt.held]
            held_guids = {item["guid"] for item in receipt.held}
        current = {h.guid for h in entry.held if h.state == "current"}
        entry.missing = [e.slug for e in catalog.radio if e.guid not in current] if receipt is not None else []
        entry.takedowns = [
            _takedown_state(item, confirmed.get((radio.id, item.guid)), item.guid in held_guids, now, confirm_days)
            for item in catalog.taken_down if _concerns(radio, item)
        ]
        found.append(entry)
    return found


def holders(statuses: list[StationStatus]) -> dict[str, list[str]]:
    """episode slug -> the stations whose latest receipt holds its current build."""
    found: dict[str, list[str]] = {}
    for entry in statuses:
        for held in entry.held:
            if held.state == "current":
                found.setdefault(held.slug, []).append(entry.slug)
    return found


def _latest_receipts(session: Session, station_ids: list[int]) -> dict[int, StationReceipt]:
    latest: dict[int, StationReceipt] = {}
    for receipt in session.scalars(select(StationReceipt).where(StationReceipt.station_id.in_(station_ids))
                                   .order_by(StationReceipt.received_at, StationReceipt.id)):
        latest[receipt.station_id] = receipt
    return latest


def _confirmations(session: Session, station_ids: list[int]) -> dict[tuple[int, str], StationTakedown]:
    rows = session.scalars(select(StationTakedown).where(StationTakedown.station_id.in_(station_ids)))
    return {(row.station_id, row.guid): row for row in rows}


def _airing_counts(session: Session, station_ids: list[int]) -> dict[int, int]:
    return dict(session.execute(
        select(StationAiring.station_id, func.count()).where(StationAiring.station_id.in_(station_ids))
        .group_by(StationAiring.station_id)).all())


def _held_state(item: dict, catalog: Catalog) -> HeldEpisode:
    guid = item.get("guid", "")
    if any(t.guid == guid for t in catalog.taken_down):
        state = "taken_down"
    else:
        episode = next((e for e in catalog.radio if e.guid == guid), None)
        if episode is None:
            state = "unknown"
        else:
            state = "current" if item.get("sha256") in {m.sha256 for m in episode.audio()} else "outdated"
    return HeldEpisode(slug=item.get("slug", ""), guid=guid, file=item.get("file", ""), state=state)


def _concerns(station: RadioStation, item: TakenDown) -> bool:
    return as_utc(station.created_at) < as_utc(item.taken_down_at)


def _takedown_state(item: TakenDown, row: StationTakedown | None, still_held: bool, now: datetime,
                    confirm_days: float) -> TakedownState:
    listed = as_utc(item.taken_down_at).replace(microsecond=0)
    if row is not None and as_utc(row.listed_at) >= listed and (row.confirmed_by or not still_held):
        return TakedownState(item.slug, item.guid, item.taken_down_at, item.reason, "confirmed", row.received_at,
                             row.confirmed_by)
    overdue = now - as_utc(item.taken_down_at) > timedelta(days=confirm_days)
    return TakedownState(item.slug, item.guid, item.taken_down_at, item.reason, "overdue" if overdue else "pending")

