"""SQLAlchemy 2.0 table models. API schemas live in api/, never here.

One module per area; each area's tables are created by its own Alembic revision.
"""
from archive.models.base import Base, utcnow
from archive.models.testimony import (
    AuditEvent,
    ConsentRecord,
    Identity,
    MediaAsset,
    MediaKind,
    SensitiveTerm,
    StageState,
    StageStatus,
    Testimony,
    Theme,
    VoiceForm,
    testimony_themes,
)
from archive.models.transcript import Segment, Transcript, TranscriptSource, Word
from archive.models.anonymization import Rendition, ReviewStatus
from archive.models.episode import Episode, EpisodeTestimony
from archive.models import feed as feed  # noqa: F401  (tables registered on import)
from archive.models import access as access  # noqa: F401

__all__ = [
    "AuditEvent", "Base", "ConsentRecord", "Episode", "EpisodeTestimony", "Identity", "MediaAsset",
    "MediaKind", "Rendition", "ReviewStatus", "Segment", "SensitiveTerm", "StageState", "StageStatus",
    "Testimony", "Theme", "Transcript", "TranscriptSource", "VoiceForm", "Word", "testimony_themes", "utcnow",
]
