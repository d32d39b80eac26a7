"""The one settings class. Every field is read from a ``KUMA_``-prefixed environment
variable (or a ``.env`` file) and documented in docs/settings.md (a test checks it)."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KUMA_", env_file=".env", extra="ignore")

    # --- archive (foundation) ---
    home: Path = Field(default=Path("kuma-data"), description="Data directory (database, media store).")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite file in the data directory.")
    media_dir: Path | None = Field(default=None, description="Content-addressed media store; default: <home>/media.")
    offline: bool = Field(default=True, description="Never touch the network (models must be local).")
    max_duration_s: float = Field(default=4 * 3600, description="Longest recording accepted at ingest, in seconds.")
    min_audio_dbfs: float = Field(default=-60.0, description="Recordings whose loudest second is quieter than this are rejected as silent.")
    working_sample_rate: int = Field(default=16000, description="Sample rate of the clean working copy (mono FLAC).")
    secret_key: str = Field(default="", description="Secret mixed into per-testimony keys (voice disguise). Generated into <home>/secret.key when empty.")
    actor: str = Field(default_factory=lambda: os.environ.get("USER", "kuma"), description="Name written in the audit log for CLI actions.")

    # --- transcription (issue 3) ---
    whisper_model: str = Field(default="small", description="faster-whisper model: a size name or a local CTranslate2 directory.")
    whisper_device: Literal["auto", "cpu", "cuda"] = Field(default="auto", description="Inference device.")
    whisper_compute_type: str = Field(default="int8", description="CTranslate2 compute type (int8 on CPU).")
    whisper_cpu_threads: int = Field(default=0, description="CPU threads for inference (0: library default).")
    whisper_models_dir: Path | None = Field(default=None, description="Where models are cached; default: <home>/models.")
    language_models: dict[str, str] = Field(default_factory=dict, description='Per-language model, e.g. {"bm": "/models/whisper-bambara-ct2"} (JSON).')

    # --- anonymization (issue 4) ---
    bleep_padding_ms: int = Field(default=200, description="Padding around a bleeped word, on each side, in milliseconds.")
    bleep_mode: Literal["silence", "tone"] = Field(default="tone", description="Replace spoken personal data with silence or a tone.")

    # --- studio (issue 5) ---
    programme_title: str = Field(default="Démystification du mieux-être ailleurs", description="Programme name used in episodes and feeds.")

    # --- feeds (issue 6) ---
    base_url: str = Field(default="http://127.0.0.1:8000", description="Public base URL; every feed link is absolute under it.")
    public_dir: Path | None = Field(default=None, description="Published feeds and media; default: <home>/public.")

    # --- API (issue 7) ---
    host: str = Field(default="127.0.0.1", description="Address `kuma serve` listens on.")
    port: int = Field(default=8000, description="Port `kuma serve` listens on.")

    @field_validator("working_sample_rate")
    @classmethod
    def _positive_rate(cls, value: int) -> int:
        if value < 8000:
            raise ValueError("must be at least 8000 Hz")
        return value

    @property
    def media_path(self) -> Path:
        return self.media_dir or self.home / "media"

    @property
    def models_path(self) -> Path:
        return self.whisper_models_dir or self.home / "models"

    @property
    def public_path(self) -> Path:
        return self.public_dir or self.home / "public"

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'kuma.db').resolve()}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
