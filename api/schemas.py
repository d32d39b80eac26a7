"""API schemas (pydantic), separate from the table models: no ORM row ever leaves the API."""
from __future__ import annotations

from datetime import date, datetime
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    data: list[T]
    count: int = Field(description="Total number of matching items (before pagination).")


class ErrorOut(BaseModel):
    error: str = Field(description="Machine-readable code, e.g. not_found, invalid_query.")
    detail: str = Field(description="Human-readable message (French).")


class ValidationProblem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorOut(BaseModel):
    """FastAPI's request validation body."""

    detail: list[ValidationProblem]


UnprocessableOut = ValidationErrorOut | ErrorOut


class Health(BaseModel):
    status: Literal["ok"]
    database: str
    search: str


class SegmentOut(BaseModel):
    idx: int
    start: float
    end: float
    text: str


class TestimonySummary(BaseModel):
    id: str = Field(description="Public id, e.g. T-000001.")
    speaker: str = Field(description="How the speaker may be named (pseudonym or « témoin anonyme »).")
    recorded_at: datetime | None = None
    language: str | None = None
    expelled_from: str | None = None
    route: str | None = None
    place: str | None = None
    themes: list[str] = []
    duration: float


class ConsentOut(BaseModel):
    version: int
    archive: bool
    advocacy: bool
    broadcast: bool
    online: bool
    identity: str
    voice: str
    voice_mode: str = Field(description="How strongly the voice is disguised: light, standard or strong.")
    withdrawn_at: datetime | None = None


class RestrictedOut(BaseModel):
    """Only for admins: what never leaves the association."""

    pseudonym: str | None = None
    interviewer: str | None = None
    notes: str | None = None
    source_name: str
    consent: ConsentOut | None = None
    sensitive_terms: list[str] = []


class TestimonyDetail(TestimonySummary):
    text_form: Literal["redacted", "raw", "none"] = Field(
        description="redacted: the approved anonymized rendition's text; raw: the preferred transcript.")
    transcript_source: str | None = None
    transcript_version: int | None = None
    segments: list[SegmentOut] = []
    restricted: RestrictedOut | None = None


class SearchHit(BaseModel):
    testimony: str = Field(description="Public id of the testimony.")
    speaker: str
    segment: int = Field(description="Index of the matching segment in the transcript.")
    start: float = Field(description="Start of the matching segment, in seconds.")
    end: float = Field(description="End of the matching segment, in seconds.")
    start_tc: str = Field(description="Start as HH:MM:SS.mmm.")
    end_tc: str = Field(description="End as HH:MM:SS.mmm.")
    snippet: str = Field(description="Text around the match, matching words between <mark> and </mark>.")
    score: float = Field(description="Relevance (higher is better; comparable within one query only).")
    clip: str = Field(description="Path of the audio clip of this segment.")


class SearchPage(Page[SearchHit]):
    count: int = Field(description="Matching segments before pagination, counted up to 1000 (or up to the "
                                   "requested page's end, offset + limit, when that is further).")
    count_capped: bool = Field(False, description="True when more segments match than `count` "
                                                  "(show it as « 1000+ »).")


class ThemeOut(BaseModel):
    slug: str
    label: str
    count: int


class EpisodeOut(BaseModel):
    slug: str
    programme: str
    number: int
    season: int | None = None
    title: str
    date: date
    language: str
    description: str
    duration: float | None = None
    public: bool


class StageResultOut(BaseModel):
    stage: str
    ref: str
    state: str
    changed: bool
    reason: str | None = None
    testimony: str | None = None


class StageOut(BaseModel):
    name: str = Field(description="The stage's name, in pipeline order.")
    pending: list[str] = Field(description="What the stage has work for: inbox files, testimony ids, rundowns, feeds.")


class PipelineOut(BaseModel):
    stages: list[StageOut]
    running: bool = Field(description="A pass is running in the background.")
    stage: str | None = Field(None, description="The stage the running pass is at.")
    ref: str | None = Field(None, description="What the running pass works on.")
    last: list[StageResultOut] = Field(default_factory=list, description="What the last pass did.")
    error: str | None = Field(None, description="Why the last pass stopped, if it did.")


# --- station receipts (issue 19) ------------------------------------------------------------

Guid = Field(max_length=80, description="The episode's item GUID in the feed (urn:uuid:…).")
EpisodeSlug = Field(max_length=128, description="The episode's slug.")


class HeldIn(BaseModel):
    guid: str = Guid
    slug: str = EpisodeSlug
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="sha256 of the file the station holds.")
    file: str = Field(max_length=255, description="Its name in the station's folder.")
    size: int = Field(ge=0)


class TakedownIn(BaseModel):
    guid: str = Guid
    slug: str = EpisodeSlug
    listed_at: datetime = Field(description="The takedown's `taken_down_at` in takedown.json.")
    executed_at: datetime = Field(description="When the station executed it (its clock).")
    files_deleted: list[str] = Field(default_factory=list, max_length=50)


class AiredIn(BaseModel):
    guid: str = Guid
    slug: str = EpisodeSlug
    at: datetime = Field(description="When the playout log says the episode aired.")


class ReceiptIn(BaseModel):
    """What a station's client reports after a sync (``kuma-station``)."""

    client: str = Field(max_length=64, description="Client name and version, e.g. kuma-station/0.1.0.")
    synced_at: datetime | None = None
    held: list[HeldIn] = Field(default_factory=list, max_length=5000)
    takedowns: list[TakedownIn] = Field(default_factory=list, max_length=5000)
    aired: list[AiredIn] = Field(default_factory=list, max_length=10000)
    problems: list[str] = Field(default_factory=list, max_length=50)


class ReceiptOut(BaseModel):
    received_at: datetime
    held: int
    takedowns_confirmed: int
    takedowns_pending: list[str] = Field(description="Slugs of takedowns the archive still waits for.")
