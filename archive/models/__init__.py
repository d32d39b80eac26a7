"""SQLAlchemy 2.0 table models. API schemas live in api/, never here.

One module per area; each area's tables are created by its own Alembic revision.
"""
from archive.models.base import Base, as_utc, utcnow
from archive.models.testimony import (
    AuditEvent,
    ConsentRecord,
    Identity,
    MediaAsset,
    MediaKind,
    SensitiveTerm,
    StageName,
    StageState,
    StageStatus,
    TermKind,
    Testimony,
    Theme,
    VoiceForm,
    VoiceMode,
    testimony_themes,
)
from archive.models.transcript import Segment, ThemeSuggestion, Transcript, TranscriptSource, Word
from archive.models.anonymization import Rendition, ReviewStatus
from archive.models.episode import Episode, EpisodeTestimony
from archive.models import feed as feed  # noqa: F401  (tables registered on import)
from archive.models.feed import RadioStation, StationAiring, StationReceipt, StationTakedown
from archive.models import access as access  # noqa: F401
from archive.models.access import PEOPLE_ROLES, ApiKey, Role, SearchAccess, SearchSegment, User, WebSession

__all__ = [
    "ApiKey", "AuditEvent", "as_utc", "Base", "ConsentRecord", "Episode", "EpisodeTestimony", "Identity", "MediaAsset",
    "MediaKind", "RadioStation", "StationAiring", "StationReceipt", "StationTakedown", "Rendition", "ReviewStatus", "PEOPLE_ROLES", "Role", "SearchAccess", "SearchSegment", "Segment", "SensitiveTerm", "StageName", "StageState", "StageStatus",
    "TermKind", "Testimony", "Theme", "ThemeSuggestion", "Transcript", "TranscriptSource", "User", "VoiceForm", "WebSession", "VoiceMode", "Word", "testimony_themes", "utcnow",
]
