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
    ingest_jobs: int = Field(default=0, ge=0, description="Worker processes for a batch ingest (0: one per CPU core).")
    inbox_dir: Path | None = Field(default=None, description="Drop folder the pipeline ingests from (`kuma process`, `kuma worker`): recordings with their sidecars; ingested files leave it, refused ones move to its `refusés/` folder with the reason; default: <home>/inbox.")
    programme_dir: Path | None = Field(default=None, description="Folder of episode rundowns (YAML) the pipeline builds when their inputs are ready; default: <home>/programme.")
    worker_interval_s: float = Field(default=30.0, gt=0, description="Seconds `kuma worker` waits between two passes over the pipeline when there was nothing to do.")
    working_sample_rate: int = Field(default=16000, description="Sample rate of the clean working copy (mono FLAC).")
    clean_speech: bool = Field(default=True, description="The clean stage: each testimony's working copy is cleaned (DeepFilterNet 3 noise suppression, rumble high-pass, mains-hum notches) into a derived cleaned copy, which the voice disguise then reads (docs/sound.md; transcription reads the working copy). False: testimonies not cleaned yet are disguised from their working copy (cleaned copies already made stay in use).")
    secret_key: str = Field(default="", description="Secret mixed into per-testimony keys (voice disguise). Generated into <home>/secret.key when empty.")
    actor: str = Field(default_factory=lambda: os.environ.get("USER", "kuma"), description="Name written in the audit log for CLI actions.")

    # --- transcription (issue 3) ---
    whisper_model: str = Field(default="base", description="faster-whisper model: a name installed by `kuma models install` (base, small) or a local CTranslate2 directory.")
    whisper_device: Literal["auto", "cpu", "cuda"] = Field(default="auto", description="Inference device.")
    whisper_compute_type: str = Field(default="int8", description="CTranslate2 compute type (int8 on CPU).")
    whisper_cpu_threads: int = Field(default=0, description="CPU threads for inference (0: library default).")
    whisper_models_dir: Path | None = Field(default=None, description="Where models are cached; default: <home>/models.")
    language_models: dict[str, str] = Field(default_factory=dict, description='Per-language model, e.g. {"bm": "/models/whisper-bambara-ct2"} (JSON).')
    transcript_min_confidence: float = Field(default=0.6, ge=0, le=1, description="An ASR transcript whose words' mean probability is below this needs a human transcription (blocks public use).")
    transcript_min_words_per_second: float = Field(default=0.5, ge=0, description="An ASR transcript with fewer words than this per second of detected speech needs a human transcription.")
    transcript_max_doubtful_share: float = Field(default=0.5, ge=0, le=1, description="An ASR transcript with more than this share of its time in low-confidence segments needs a human transcription.")
    whisper_batch_size: int = Field(default=0, ge=0, description="0: sequential transcriber (the archive default); N > 0: faster batched pipeline with N chunks at once (drops some quality options).")

    # --- anonymization (issue 4) ---
    bleep_padding_ms: int = Field(default=200, description="Padding around a bleeped word, on each side, in milliseconds.")
    bleep_mode: Literal["silence", "tone"] = Field(default="tone", description="Replace spoken personal data with silence or a tone.")
    voice_max_wer: float = Field(default=0.15, ge=0, description="Intelligibility gate: a disguised rendition whose re-transcription's word error rate against the testimony's transcript (bleeped words left out) is above this is flagged, and approving it needs --accept-unintelligible.")

    # --- studio (issue 5) ---
    programme_title: str = Field(default="Démystification du mieux-être ailleurs", description="Programme name used in episodes and feeds.")
    studio_sample_rate: int = Field(default=48000, description="Sample rate the programme is mixed and mastered at (a multiple of 1000; the broadcast WAV uses it).")
    studio_window_s: float = Field(default=5.0, description="Length of the windows the programme is rendered in (bounds memory).")
    studio_fade_s: float = Field(default=0.3, description="Default fade-in and fade-out of each rundown item, in seconds.")
    studio_crossfade_s: float = Field(default=0.0, description="Default overlap of each rundown item with the previous one, in seconds.")
    broadcast_lufs: float = Field(default=-23.0, description="Integrated loudness of the broadcast master (EBU R128), LUFS.")
    podcast_lufs: float = Field(default=-16.0, description="Integrated loudness of the podcast rendition, LUFS; the mono low-bandwidth renditions are 3 LU under it (AES TD1008: -19 LUFS mono for -16).")
    true_peak_ceiling_db: float = Field(default=-1.0, description="Highest true peak (4x oversampled) of any rendition, dBTP.")
    podcast_bitrate: int = Field(default=128000, description="Podcast MP3 bitrate (44.1 kHz stereo), bit/s.")
    lowband_bitrate: int = Field(default=48000, description="Low-bandwidth MP3 bitrate (24 kHz mono), bit/s; 32000-48000 suits poor links.")
    lowband_opus_bitrate: int = Field(default=24000, description="Low-bandwidth Opus rendition bitrate (mono), bit/s; 0 disables it.")

    # --- feeds (issue 6) ---
    base_url: str = Field(default="http://127.0.0.1:8000", description="Public base URL; every feed link is absolute under it.")
    public_dir: Path | None = Field(default=None, description="Published feeds and media; default: <home>/public.")
    feed_page_size: int = Field(default=50, ge=1, description="Episodes in the main feed document; older ones go to RFC 5005 archive pages of this size.")
    feed_description: str = Field(default="Des Maliennes et des Maliens expulsés ou refoulés racontent leur voyage et leur retour. Une émission pour démystifier le mieux-être ailleurs.", description="Programme description in the feeds (at most 4000 bytes).")
    feed_author: str = Field(default="Association Kuma", description="itunes:author and copyright holder of the feeds.")
    feed_owner_email: str = Field(default="podcast@example.org", description="itunes:owner e-mail and podcast:locked owner.")
    feed_host: str = Field(default="L'équipe de Kuma", description="Host named in podcast:person.")
    feed_image: Path | None = Field(default=None, description="Cover image (JPEG or PNG, 1400–3000 px square); default: a generated plain cover.")
    feed_category: str = Field(default="Society & Culture", description="itunes:category (Apple's list).")
    feed_subcategory: str | None = Field(default="Documentary", description="itunes:category subcategory, or empty.")
    feed_explicit: bool = Field(default=False, description="itunes:explicit.")
    feed_location: str = Field(default="Bamako, Mali", description="podcast:location (where the programme is produced).")
    feed_country: str = Field(default="ml", description="ISO 3166-1 country code of podcast:location.")
    takedown_confirm_days: float = Field(default=3.0, gt=0, description="A takedown a partner station has not confirmed (through its `kuma-station` receipt) this many days after it was published is flagged in `kuma radios status` and the studio's radios page.")

    # --- API (issue 7) ---
    host: str = Field(default="127.0.0.1", description="Address `kuma serve` listens on.")
    port: int = Field(default=8000, description="Port `kuma serve` listens on.")
    clip_max_seconds: float = Field(default=300.0, description="Longest audio clip the API cuts in one request, in seconds (longer requests are clamped).")
    clip_bitrate: int = Field(default=64000, description="MP3 bitrate of API audio clips, in bits per second.")

    # --- web studio (issue 18) ---
    web_session_hours: float = Field(default=12.0, gt=0, description="How long a sign-in to the web studio lasts, in hours (a working day).")

    @field_validator("working_sample_rate")
    @classmethod
    def _positive_rate(cls, value: int) -> int:
        if value < 8000:
            raise ValueError("must be at least 8000 Hz")
        return value

    @field_validator("studio_sample_rate")
    @classmethod
    def _whole_ms(cls, value: int) -> int:
        if value % 1000 or value < 8000:
            raise ValueError("must be a multiple of 1000 Hz, at least 8000 (e.g. 48000)")
        return value

    @property
    def ingest_workers(self) -> int:
        return self.ingest_jobs or os.cpu_count() or 1

    @property
    def media_path(self) -> Path:
        return self.media_dir or self.home / "media"

    @property
    def inbox_path(self) -> Path:
        return self.inbox_dir or self.home / "inbox"

    @property
    def programme_path(self) -> Path:
        return self.programme_dir or self.home / "programme"

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
