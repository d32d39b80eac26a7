"""Crash safety, proven: each stage's command is killed with SIGKILL at random points, again and
again, then run to its end; the archive must then verify clean, with nothing lost or duplicated,
and no process of a killed command may live on.

Real processes (the `kuma` entry point), real SQLite and media store, the tiny random-weight
Whisper model. The seed of the kill times is printed with any failure (KUMA_CRASH_SEED replays it).
"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from anonymization import stage as anonymization
from archive.db import Archive
from archive import models
from archive.settings import Settings
from tests.conftest import FULL_CONSENT
from tests.transcripts.conftest import RANDOM_MODEL_LIMITS

pytestmark = pytest.mark.slow

KUMA = str(Path(sys.executable).with_name("kuma"))
FILES = 5
KILLS = 3  # per stage
SEED = int(os.environ.get("KUMA_CRASH_SEED") or random.SystemRandom().randrange(1 << 30))


@pytest.fixture
def env(tmp_path, tiny_model) -> dict[str, str]:
    values = {"KUMA_HOME": str(tmp_path / "home"), "KUMA_SECRET_KEY": "crash-test-secret",
              "KUMA_WHISPER_MODEL": str(tiny_model), "KUMA_WHISPER_CPU_THREADS": "1", "KUMA_INGEST_JOBS": "2",
              **{f"KUMA_{name.upper()}": str(value) for name, value in RANDOM_MODEL_LIMITS.items()}}
    return {**{k: v for k, v in os.environ.items() if not k.startswith("KUMA_")}, **values}


def kuma(env: dict, *args, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([KUMA, *map(str, args)], env=env, capture_output=True, text=True, timeout=timeout)


def session_members(sid: int) -> list[int]:
    """Live processes of a session (a killed command's workers keep its session id)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def kill_at_random_points(env: dict, rng: random.Random, *args, window: tuple[float, float]) -> list[float]:
    """Start the command, SIGKILL it (the command only, as a crash or the OOM killer would) after a
    random delay, KILLS times; check that none of its processes survives. Returns the delays."""
    delays = []
    for _ in range(KILLS):
        delay = round(rng.uniform(*window), 2)
        proc = subprocess.Popen([KUMA, *map(str, args)], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            delays.append(delay)
        deadline = time.monotonic() + 20  # a worker still importing dies once its imports are done
        while session_members(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not session_members(proc.pid), f"processes of the killed `kuma {args[0]}` live on (seed {SEED})"
    return delays


def check_whole(env: dict, expected_testimonies: int) -> None:
    """`kuma verify` clean, nothing left in media/tmp, and each testimony and each result once."""
    verified = kuma(env, "verify", "--json")
    report = json.loads(verified.stdout)
    assert verified.returncode == 0 and report["ok"], f"{verified.stdout}{verified.stderr} (seed {SEED})"
    tmp = Path(env["KUMA_HOME"]) / "media" / "tmp"
    assert not tmp.exists() or not any(tmp.iterdir()), f"left in media/tmp: {list(tmp.iterdir())} (seed {SEED})"
    with opened(env) as archive, archive.session() as session:
        count = lambda model: session.scalar(select(func.count()).select_from(model))  # noqa: E731
        assert count(models.Testimony) == expected_testimonies, f"(seed {SEED})"
        for model, what in ((models.Transcript, "transcript"), (models.Rendition, "rendition")):
            twice = select(model.testimony_id).group_by(model.testimony_id).having(func.count() > 1)
            assert not session.scalars(twice).all(), f"a {what} was made twice (seed {SEED})"
        assert count(models.Episode) <= 1


@contextmanager
def opened(env: dict) -> Iterator[Archive]:
    archive = Archive(Settings(home=Path(env["KUMA_HOME"]), secret_key=env["KUMA_SECRET_KEY"]))
    try:
        yield archive
    finally:
        archive.dispose()


def stage_states(env: dict, stage: str) -> set[str]:
    with opened(env) as archive, archive.session() as session:
        return {t.stage(stage).state if t.stage(stage) else None for t in session.scalars(select(models.Testimony))}


def test_every_stage_survives_being_killed_at_random_points(env, make_audio, tmp_path):
    rng = random.Random(SEED)
    incoming = tmp_path / "incoming"
    for n in range(FILES):
        make_audio(f"t{n}.wav", seconds=10, seed=n, folder=incoming,
                   sidecar={"language": "fr", "consent": FULL_CONSENT, "sensitive_terms": ["Diarra"]})

    kill_at_random_points(env, rng, "ingest", incoming, window=(3.0, 8.5))
    finished = kuma(env, "ingest", incoming)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    check_whole(env, FILES)

    kill_at_random_points(env, rng, "process", "--stage", "transcribe", window=(2.8, 4.5))
    assert kuma(env, "process", "--stage", "transcribe").returncode == 0
    check_whole(env, FILES)
    assert stage_states(env, "transcribe") == {"done"}, f"(seed {SEED})"

    kill_at_random_points(env, rng, "process", "--stage", "anonymize", window=(2.8, 5.5))
    assert kuma(env, "process", "--stage", "anonymize").returncode == 0
    check_whole(env, FILES)
    assert stage_states(env, "review") == {"needs_human"}, f"(seed {SEED})"
    with opened(env) as archive, archive.session() as session:
        for testimony in session.scalars(select(models.Testimony)):
            anonymization.approve(archive, session, testimony, "test", accept_unintelligible=True)
        public_ids = list(session.scalars(select(models.Testimony.public_id).order_by(models.Testimony.id)))

    rundown = _rundown(tmp_path, public_ids)
    kill_at_random_points(env, rng, "episode", "build", rundown, window=(2.8, 6.0))
    built = kuma(env, "episode", "build", rundown)
    assert built.returncode == 0, built.stdout + built.stderr
    check_whole(env, FILES)
    with opened(env) as archive, archive.session() as session:
        episode = session.scalars(select(models.Episode)).one()
        assert {a.role for a in episode.assets} >= {"broadcast", "podcast", "lowband"}
        assert all(archive.store.exists(a.sha256) for a in episode.assets)


def _rundown(tmp_path: Path, public_ids: list[str]) -> Path:
    items = [{"type": "excerpt", "testimony": pid, "in": 0, "out": 6, "title": f"Témoignage {n}"}
             for n, pid in enumerate(public_ids[:3], 1)]
    path = tmp_path / "conducteur.yaml"
    path.write_text(yaml.safe_dump({"number": 1, "title": "Épreuve", "date": "2026-12-03", "language": "fr",
                                    "items": items}, allow_unicode=True), encoding="utf-8")
    return path
