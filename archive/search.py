"""Full-text search over transcripts, and consent-filtered browsing of testimonies.

Call :func:`index_testimony` whenever what a testimony's text looks like changes: a new
transcript version (ASR or human), a rendition approved or sent back to pending, consent set or
withdrawn. It is idempotent and cheap enough to call inside the same transaction.

Engines: SQLite FTS5 (``unicode61 remove_diacritics 2``, bm25) on SQLite; PostgreSQL full-text
search (``kuma_french``: french stemming + unaccent) on PostgreSQL. Same Python API.

Each indexed segment carries two texts: the raw preferred transcript (for callers who may see
sensitive terms) and, only where the policy allows advocacy, the redacted text of the approved
rendition (for everybody else). Withdrawn testimonies keep no text in the index. The index thus
pre-filters; every result is checked again with :func:`archive.consent.decide` at query time, so
a withdrawal or any consent change hides a testimony at once.

User queries are never passed to the engine as written: :func:`parse_query` keeps only words,
"quoted phrases", a trailing ``*`` (prefix) and ``OR``, and renders them as quoted tokens.
"""
from __future__ import annotations

import re
import sqlite3
import threading
import unicodedata
from types import SimpleNamespace
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session, joinedload, selectinload

from archive.consent import Decision, Use, current_rendition, decide, preferred_transcript
from archive.errors import InputError
from archive.models import (
    ReviewStatus,
    SearchAccess,
    SearchSegment,
    Testimony,
    Theme,
    Transcript,
    testimony_themes,
    utcnow,
)

MAX_QUERY_CHARS = 500
MAX_QUERY_TERMS = 24
MARK_START, MARK_END, ELLIPSIS = "<mark>", "</mark>", "…"
SNIPPET_TOKENS = 24
FTS5_TOKENIZER = "unicode61 remove_diacritics 2"  # as migration 0006 creates search_fts
COUNT_CAP = 1000  # matches are counted up to here (or to the page's end when deeper): see Page.capped

FLAGS = {Use.ARCHIVE: "archive_ok", Use.PROCESS: "process_ok", Use.ADVOCACY: "advocacy_ok"}

_WORD = re.compile(r"[^\W_]+")
_PIECE = re.compile(r'"([^"]*)"?|(\S+)')


class QueryError(InputError):
    """A search query that cannot be made into a safe full-text query."""

    code = "invalid_query"
    http_status = 400


# --- query parsing ------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]  # one word, or a phrase
    prefix: bool = False  # the last word is a prefix


@dataclass
class Query:
    """AND of groups; each group is an OR of terms."""

    groups: list[list[Term]] = field(default_factory=list)

    def fts5(self) -> str:
        return " AND ".join("(" + " OR ".join(_fts5_term(t) for t in group) + ")" for group in self.groups)

    def tsquery(self) -> str:
        return " & ".join("(" + " | ".join(_ts_term(t) for t in group) + ")" for group in self.groups)

    @property
    def words(self) -> list[str]:
        return [w for group in self.groups for term in group for w in term.words]


def _fts5_term(term: Term) -> str:
    phrase = " ".join(term.words).replace('"', '""')
    return f'"{phrase}"' + ("*" if term.prefix else "")


def _ts_term(term: Term) -> str:
    parts = [f"'{w}'" for w in term.words]
    if term.prefix:
        parts[-1] += ":*"
    return " <-> ".join(parts)


def parse_query(raw: str) -> Query:
    """Turn what a person typed into a safe query, or raise :class:`QueryError` (HTTP 400)."""
    if raw is None or not raw.strip():
        raise QueryError("requête vide")
    if len(raw) > MAX_QUERY_CHARS:
        raise QueryError(f"requête trop longue (plus de {MAX_QUERY_CHARS} caractères)")
    query = Query()
    join_next = False
    for match in _PIECE.finditer(raw):
        quoted, bare = match.groups()
        if bare == "OR":
            join_next = bool(query.groups)
            continue
        piece = quoted if quoted is not None else bare
        words = tuple(w.lower() for w in _WORD.findall(_nfc(piece)))
        if not words:
            continue
        term = Term(words, prefix=bare is not None and bare.endswith("*"))
        if join_next:
            query.groups[-1].append(term)
        else:
            query.groups.append([term])
        join_next = False
    if not query.groups:
        raise QueryError("la requête ne contient aucun mot à chercher")
    if len(query.words) > MAX_QUERY_TERMS:
        raise QueryError(f"requête trop longue (plus de {MAX_QUERY_TERMS} mots)")
    return query


def _nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value)


# --- indexing -----------------------------------------------------------------------------


def index_testimony(session: Session, testimony: Testimony) -> None:
    """Bring the search index in step with ``testimony``'s current texts and consent."""
    session.flush()
    allowed = {use: decide(testimony, use).allowed for use in FLAGS}
    transcript = preferred_transcript(session, testimony.id) if allowed[Use.ARCHIVE] else None
    rendition = current_rendition(testimony) if transcript is not None and allowed[Use.ADVOCACY] else None
    if rendition is not None and rendition.status != ReviewStatus.APPROVED:
        rendition = None  # redacted text is indexed only where advocates may read it
    access = session.get(SearchAccess, testimony.id)
    if access is None:
        access = SearchAccess(testimony_id=testimony.id)
        session.add(access)
    texts_changed = (access.transcript_id, access.rendition_id) != (
        transcript and transcript.id, rendition and rendition.id)
    access.transcript_id = transcript.id if transcript else None
    access.rendition_id = rendition.id if rendition else None
    access.archive_ok, access.process_ok, access.advocacy_ok = (allowed[u] for u in FLAGS)
    access.indexed_at = utcnow()
    if texts_changed:
        _write_segments(session, testimony.id, transcript, rendition.redacted_segments if rendition else [])
    session.flush()


def _write_segments(session: Session, testimony_id: int, transcript: Transcript | None,
                    redacted_segments: list[dict]) -> None:
    session.execute(delete(SearchSegment).where(SearchSegment.testimony_id == testimony_id))
    if transcript is None:
        return
    redacted = {int(s["idx"]): s.get("text", "") for s in redacted_segments or []}
    session.add_all(
        SearchSegment(testimony_id=testimony_id, idx=s.idx, start=s.start, end=s.end, text=s.text,
                      redacted=redacted.get(s.idx, ""))
        for s in transcript.segments
    )


def reindex_all(session: Session, progress: Callable[[Testimony], None] | None = None) -> int:
    """Rebuild the index of every testimony (after a bulk import or a restore). Returns how many."""
    count = 0
    for testimony in session.scalars(select(Testimony).order_by(Testimony.id)):
        index_testimony(session, testimony)
        count += 1
        if progress:
            progress(testimony)
    return count


# --- searching ----------------------------------------------------------------------------


@dataclass
class Hit:
    testimony: Testimony
    idx: int
    start: float
    end: float
    snippet: str
    score: float
    decision: Decision  # the policy's answer for the search's use, asked at query time


@dataclass
class Page:
    items: list
    count: int
    capped: bool = False  # search only: more than ``count`` matches exist (counting stopped there)


@dataclass
class Filters:
    theme: str | None = None
    expelled_from: str | None = None
    route: str | None = None
    language: str | None = None
    place: str | None = None
    recorded_from: datetime | None = None
    recorded_to: datetime | None = None
    has_transcript: bool | None = None


def backend(session: Session) -> str:
    return "postgresql" if session.get_bind().dialect.name == "postgresql" else "sqlite-fts5"


def search(session: Session, raw_query: str, *, use: Use, redacted: bool, limit: int = 10, offset: int = 0,
           filters: Filters | None = None) -> Page:
    """Ranked segments matching ``raw_query`` among testimonies the policy allows for ``use``.

    ``redacted``: search and show the approved rendition's redacted text (callers who may not
    see sensitive terms) instead of the raw preferred transcript.
    """
    query = parse_query(raw_query)
    run = _search_postgres if backend(session) == "postgresql" else _search_sqlite
    for _attempt in range(2):
        rows, count = run(session, query, "redacted" if redacted else "text", limit, offset, filters or Filters())
        hits, stale = _checked_hits(session, rows, use, redacted)
        if not stale:
            break
        for testimony in stale:  # the index lagged behind a new transcript or rendition: catch up
            index_testimony(session, testimony)
    cap = _count_cap(limit, offset)
    return Page(hits, min(count, cap), capped=count > cap)


def _checked_hits(session: Session, rows, use: Use, redacted: bool) -> tuple[list[Hit], list[Testimony]]:
    testimonies = _load(session, {row.testimony_id for row in rows})
    hits, stale, verdicts = [], [], {}
    for row in rows:
        testimony = testimonies[row.testimony_id]
        if row.testimony_id not in verdicts:
            verdicts[row.testimony_id] = _still_current(session, testimony, row, use, redacted)
        verdict, decision = verdicts[row.testimony_id]
        if verdict == "stale" and testimony not in stale:
            stale.append(testimony)
        elif verdict == "ok":
            hits.append(Hit(testimony, row.idx, row.start, row.end, row.snippet, float(row.score), decision))
    return hits, stale


def _load(session: Session, ids: set[int]) -> dict[int, Testimony]:
    """The hits' testimonies with what the policy reads, in two queries instead of two per testimony.

    Consents are joined (a few versions per testimony; one query fewer), sensitive terms, which
    can be many, are loaded apart so that the join does not multiply them.
    """
    if not ids:
        return {}
    statement = (select(Testimony).where(Testimony.id.in_(ids))
                 .options(joinedload(Testimony.consents), selectinload(Testimony.sensitive_terms)))
    return {t.id: t for t in session.scalars(statement).unique()}


def _still_current(session: Session, testimony: Testimony, row, use: Use, redacted: bool) -> tuple[str, Decision]:
    """"ok", "refused" (the policy says no now) or "stale" (the index lags behind), and the decision."""
    decision = decide(testimony, use)
    if not decision.allowed:
        return "refused", decision
    if redacted:
        # a current rendition is made from the preferred transcript: same rendition, same text
        current = decision.rendition is not None and decision.rendition.id == row.rendition_id
    else:
        transcript = preferred_transcript(session, testimony.id)
        current = transcript is not None and transcript.id == row.transcript_id
    return ("ok" if current else "stale"), decision


def _filter_sql(filters: Filters, params: dict) -> str:
    clauses = []
    for name in ("expelled_from", "route", "language", "place"):
        value = getattr(filters, name)
        if value:
            clauses.append(f"lower(t.{name}) = lower(:f_{name})")
            params[f"f_{name}"] = value
    if filters.theme:
        clauses.append("EXISTS (SELECT 1 FROM testimony_themes tt WHERE tt.testimony_id = t.id "
                       "AND tt.theme_slug = :f_theme)")
        params["f_theme"] = filters.theme
    if filters.recorded_from:
        clauses.append("t.recorded_at >= :f_from")
        params["f_from"] = filters.recorded_from
    if filters.recorded_to:
        clauses.append("t.recorded_at <= :f_to")
        params["f_to"] = filters.recorded_to
    return "".join(f" AND {c}" for c in clauses)


def _search_sqlite(session, query: Query, column: str, limit: int, offset: int, filters: Filters):
    # Rank first, then make snippets for the page only: snippet() over every match is the costly part.
    params = {"match": f"{{{column}}} : ({query.fts5()})", "limit": limit, "offset": offset}
    where = "search_fts MATCH :match" + _filter_sql(filters, params)
    joins = (" JOIN search_segments s ON s.id = search_fts.rowid JOIN testimonies t ON t.id = s.testimony_id"
             if where != "search_fts MATCH :match" else "")
    ranked = session.execute(text(
        f"SELECT search_fts.rowid AS id, bm25(search_fts) AS rank FROM search_fts{joins} WHERE {where} "
        "ORDER BY rank LIMIT :limit OFFSET :offset"), params).all()
    count = _count(session, f"SELECT 1 FROM search_fts{joins} WHERE {where}", params, ranked, limit, offset)
    if not ranked:
        return [], count
    order = {row.id: row.rank for row in ranked}
    rows = session.execute(text(
        f"SELECT s.id, s.testimony_id, s.idx, s.start, s.\"end\", s.{column} AS body, a.transcript_id, a.rendition_id "
        "FROM search_segments s JOIN search_access a ON a.testimony_id = s.testimony_id "
        f"WHERE s.id IN ({', '.join(str(int(i)) for i in order)})"
    )).all()
    snippets = _snippets(query.fts5(), {row.id: row.body for row in rows})
    rows = [SimpleNamespace(**row._asdict(), snippet=snippets[row.id], score=-order[row.id])
            for row in rows if row.id in snippets]
    return sorted(rows, key=lambda row: -row.score), count


_snippet_engine = threading.local()


def _snippets(fts5_query: str, bodies: dict[int, str]) -> dict[int, str]:
    """FTS5 ``snippet()`` of the page's segments, made in a private in-memory FTS5 table.

    Same tokenizer, same query, same text: the same snippets as ``snippet(search_fts, …)``, but
    without matching the query against the whole index a second time (a prefix query merges
    thousands of doclists: up to 60 ms for ten snippets). The in-memory connection belongs to the
    thread and never touches the archive's transaction.
    """
    connection = getattr(_snippet_engine, "connection", None)
    if connection is None:
        connection = _snippet_engine.connection = sqlite3.connect(":memory:", isolation_level=None)
        connection.execute(f"CREATE VIRTUAL TABLE page USING fts5(body, tokenize='{FTS5_TOKENIZER}')")
    connection.execute("DELETE FROM page")
    connection.executemany("INSERT INTO page(rowid, body) VALUES (?, ?)", bodies.items())
    return dict(connection.execute(
        f"SELECT rowid, snippet(page, 0, '{MARK_START}', '{MARK_END}', '{ELLIPSIS}', {SNIPPET_TOKENS}) "
        "FROM page WHERE page MATCH ?", (fts5_query,)))


def _search_postgres(session, query: Query, column: str, limit: int, offset: int, filters: Filters):
    params = {"tsq": query.tsquery(), "limit": limit, "offset": offset,
              "opts": f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords={SNIPPET_TOKENS}, MinWords=8, "
                      f"FragmentDelimiter={ELLIPSIS}"}
    where = f"s.tsv_{column} @@ q.q" + _filter_sql(filters, params)
    body = (" FROM search_segments s CROSS JOIN to_tsquery('kuma_french', :tsq) AS q(q) "
            "JOIN search_access a ON a.testimony_id = s.testimony_id "
            f"JOIN testimonies t ON t.id = s.testimony_id WHERE {where}")
    rows = session.execute(text(
        "SELECT s.testimony_id, s.idx, s.start, s.\"end\", a.transcript_id, a.rendition_id, "
        f"ts_headline('kuma_french', s.{column}, q.q, :opts) AS snippet, "
        f"ts_rank_cd(s.tsv_{column}, q.q) AS score {body} "
        "ORDER BY score DESC, s.id LIMIT :limit OFFSET :offset"
    ), params).all()
    return rows, _count(session, f"SELECT 1 {body}", params, rows, limit, offset)


def _count_cap(limit: int, offset: int) -> int:
    return max(COUNT_CAP, offset + limit)


def _count(session, matches_sql: str, params: dict, page: list, limit: int, offset: int) -> int:
    """How many matches, up to one past the cap (more than the cap: the caller reports "capped").

    Counting every match cost as much as a tenth of the ranking on common words; past a
    thousand, the exact number helps nobody. A short page ends the results: no count query.
    """
    if page and len(page) < limit or not page and offset == 0:
        return offset + len(page)
    return session.execute(text(f"SELECT count(*) FROM ({matches_sql} LIMIT :count_limit) AS matches"),
                           {**params, "count_limit": _count_cap(limit, offset) + 1}).scalar_one()


# --- browsing -----------------------------------------------------------------------------


def browse(session: Session, *, use: Use, filters: Filters | None = None, limit: int = 20,
           offset: int = 0) -> Page:
    """Testimonies the policy allows for ``use``, filtered, newest recordings first."""
    statement = _browse_statement(use, filters or Filters())
    count = session.scalar(select(func.count()).select_from(statement.subquery()))
    page = session.scalars(
        statement.order_by(Testimony.recorded_at.desc().nulls_last(), Testimony.id.desc()).limit(limit).offset(offset)
    ).all()
    return Page([t for t in page if decide(t, use).allowed], count)


def _browse_statement(use: Use, filters: Filters):
    flag = getattr(SearchAccess, FLAGS[use])
    statement = (select(Testimony).outerjoin(SearchAccess, SearchAccess.testimony_id == Testimony.id)
                 .where((SearchAccess.testimony_id.is_(None)) | flag))
    for name in ("expelled_from", "route", "language", "place"):
        value = getattr(filters, name)
        if value:
            statement = statement.where(func.lower(getattr(Testimony, name)) == value.lower())
    if filters.theme:
        statement = statement.where(Testimony.id.in_(
            select(testimony_themes.c.testimony_id).where(testimony_themes.c.theme_slug == filters.theme)))
    if filters.recorded_from:
        statement = statement.where(Testimony.recorded_at >= filters.recorded_from)
    if filters.recorded_to:
        statement = statement.where(Testimony.recorded_at <= filters.recorded_to)
    if filters.has_transcript is not None:
        has = Testimony.id.in_(select(Transcript.testimony_id))
        statement = statement.where(has if filters.has_transcript else ~has)
    return statement


def theme_counts(session: Session, *, use: Use) -> list[tuple[Theme, int]]:
    """The theme vocabulary with the number of testimonies the index lets ``use`` see."""
    flag = getattr(SearchAccess, FLAGS[use])
    counts = dict(session.execute(
        select(testimony_themes.c.theme_slug, func.count())
        .join(SearchAccess, SearchAccess.testimony_id == testimony_themes.c.testimony_id)
        .where(flag).group_by(testimony_themes.c.theme_slug)
    ).all())
    return [(theme, counts.get(theme.slug, 0)) for theme in session.scalars(select(Theme).order_by(Theme.slug))]
