from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.models.base import Base, utcnow


class TranscriptSource(enum.StrEnum):
    ASR = "asr"
    HUMAN = "human"


class Transcript(Base):
    """One version of a testimony's transcript; ASR versions are kept when a human corrects them."""

    __tablename__ = "transcripts"
    __table_args__ = (UniqueConstraint("testimony_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    testimony_id: Mapped[int] = mapped_column(ForeignKey("testimonies.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    source: Mapped[str] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(8))
    language_probability: Mapped[float | None]
    model: Mapped[str | None] = mapped_column(String(256))
    model_version: Mapped[str | None] = mapped_column(String(64))
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # ASR versions: the recognition check (transcripts.quality.RecognitionCheck.as_dict()); None for human ones
    quality: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    created_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    segments: Mapped[list[Segment]] = relationship(
        back_populates="transcript", order_by="Segment.idx", cascade="all, delete-orphan"
    )

    @property
    def needs_human(self) -> bool:
        """An ASR version whose recognition check failed: not usable outside the archive."""
        return self.source == TranscriptSource.ASR and bool((self.quality or {}).get("needs_human"))


class Segment(Base):
    __tablename__ = "segments"
    __table_args__ = (UniqueConstraint("transcript_id", "idx"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcripts.id", ondelete="CASCADE"), index=True)
    idx: Mapped[int]
    start: Mapped[float]
    end: Mapped[float]
    text: Mapped[str] = mapped_column(Text)
    speaker: Mapped[str | None] = mapped_column(String(64))
    avg_logprob: Mapped[float | None]
    no_speech_prob: Mapped[float | None]
    compression_ratio: Mapped[float | None]
    temperature: Mapped[float | None]
    low_confidence: Mapped[bool] = mapped_column(default=False)

    transcript: Mapped[Transcript] = relationship(back_populates="segments")
    words: Mapped[list[Word]] = relationship(
        back_populates="segment", order_by="Word.idx", cascade="all, delete-orphan"
    )


class Word(Base):
    __tablename__ = "words"

    id: Mapped[int] = mapped_column(primary_key=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"), index=True)
    idx: Mapped[int]
    start: Mapped[float]
    end: Mapped[float]
    word: Mapped[str] = mapped_column(String(256))
    probability: Mapped[float | None]

    segment: Mapped[Segment] = relationship(back_populates="words")


class ThemeSuggestion(Base):
    """A theme suggested from a transcript by the editable keyword lexicon.

    Suggestions stay suggestions: they are never merged into the intake themes
    (``testimony_themes``); a person decides.
    """

    __tablename__ = "theme_suggestions"
    __table_args__ = (UniqueConstraint("testimony_id", "theme_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    testimony_id: Mapped[int] = mapped_column(ForeignKey("testimonies.id", ondelete="CASCADE"), index=True)
    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcripts.id", ondelete="CASCADE"))
    theme_slug: Mapped[str] = mapped_column(ForeignKey("themes.slug"))
    score: Mapped[int]  # how many lexicon matches
    # Where the matches are: [{"term": "charter", "start": 12.3, "segment": 4}, ...]
    evidence: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
