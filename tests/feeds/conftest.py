"""Episodes for feed tests, made directly (Episode + MediaAsset rows over real encoded files),
so these tests do not depend on the studio's episode builder."""
from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from archive.audio import encode, probe
from archive.models import Episode, EpisodeTestimony, MediaAsset, MediaKind
from archive.testimonies import get
from tests.conftest import speechlike

RENDITIONS = {  # role -> (file name, format, rate, bitrate)
    "broadcast": ("broadcast.wav", "wav", 16000, None),
    "podcast": ("podcast.mp3", "mp3", 22050, 64000),
    "lowband": ("lowband.mp3", "mp3", 16000, 24000),
    "opus": ("lowband.opus", "opus", 16000, 16000),
}
VTT = "WEBVTT\n\n00:00:00.250 --> 00:00:02.000\nje suis parti\n"
SRT = "1\n00:00:00,250 --> 00:00:02,000\nje suis parti\n"


@pytest.fixture(scope="session")
def episode_media(tmp_path_factory) -> dict[str, Path]:
    """Real small encoded renditions and transcripts, made once per test session."""
    folder = tmp_path_factory.mktemp("episode-media")
    samples = speechlike(3.0, 16000, seed=7)
    files = {}
    for role, (name, fmt, rate, bitrate) in RENDITIONS.items():
        source = samples if rate == 16000 else speechlike(3.0, rate, seed=7)
        files[role] = encode(source, folder / name, rate=rate, fmt=fmt, bitrate=bitrate)
    for role, text in (("transcript-vtt", VTT), ("transcript-srt", SRT),
                       ("transcript-json", json.dumps({"version": "1.0.0", "segments": [
                           {"startTime": 0.25, "endTime": 2.0, "body": "je suis parti"}]}))):
        path = folder / f"{role}.{role.rsplit('-', 1)[1]}"
        path.write_text(text, encoding="utf-8")
        files[role] = path
    return files


@pytest.fixture
def make_episode(archive, episode_media):
    """make_episode(number, testimonies=[public ids], title=..., public=True, roles=..., media=...) -> slug.

    ``media`` replaces some of the files (role -> path), e.g. a longer broadcast WAV."""
    store = archive.store

    def _make(number: int, testimonies: list[str] = (), *, title: str | None = None, public: bool = True,
              roles: tuple[str, ...] = tuple(episode_media), day: date | None = None, cue: list | None = None,
              media: dict[str, Path] | None = None) -> str:
        files = {**episode_media, **(media or {})}
        stored = {role: store.put_file(files[role]) for role in roles}
        infos = {role: probe(files[role]) for role in roles if role in RENDITIONS}
        slug = f"demystification-{number:04d}"
        with archive.session() as session:
            episode = Episode(slug=slug, programme="Démystification du mieux-être ailleurs", number=number,
                              season=1, title=title or f"Épisode {number}", date=day or date(2025, 1, 1) + timedelta(days=7 * number),
                              language="fr", description=f"Description de l'épisode {number}.", public=public,
                              duration=3.0, cue=cue if cue is not None else [{"title": "Ouverture", "kind": "jingle", "start": 0.0, "duration": 1.0}])
            for public_id in testimonies:
                episode.testimonies.append(EpisodeTestimony(testimony=get(session, public_id)))
            session.add(episode)
            session.flush()
            for role in roles:
                info = infos.get(role)
                session.add(MediaAsset(
                    episode_id=episode.id, kind=MediaKind.EPISODE, role=role, sha256=stored[role].sha256,
                    size=stored[role].size, format=info.format if info else role.rsplit("-", 1)[-1],
                    codec=info.codec if info else None, sample_rate=info.sample_rate if info else None,
                    channels=info.channels if info else None, duration=info.duration if info else None,
                    bitrate=RENDITIONS[role][3] or (info.bitrate if info else None) if role in RENDITIONS else None,
                ))
        return slug

    return _make
