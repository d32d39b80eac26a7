"""The radio pack: contents, checksums, cue sheet, and consent asked again at packing time."""
from __future__ import annotations

import csv
import hashlib
import io
import zipfile

import pytest

from archive.errors import ConsentRefused, NotFound, ReviewRequired
from archive.testimonies import add_consent, get, withdraw
from studio.episode import build_episode
from studio.pack import make_pack
from tests.studio.test_episode import standard_items, studio_files, write_rundown  # noqa: F401  (fixture)


@pytest.fixture
def episode(archive, seed_testimony, studio_files):  # noqa: F811
    first, second = seed_testimony(), seed_testimony(seconds=5.0)
    result = build_episode(archive, write_rundown(studio_files, standard_items(first, second)))
    return result, (first, second)


def test_pack_contents_and_checksums(archive, episode, tmp_path):
    result, _ = episode
    path = make_pack(archive, result.episode_id, tmp_path / "out")
    assert path.name == f"{result.slug}-paquet-radio.zip"
    with zipfile.ZipFile(path) as zf:
        names = {n.split("/", 1)[1]: n for n in zf.namelist()}
        assert {"emission-broadcast-48k.wav", "emission-basdebit.mp3", "conducteur.csv", "conducteur.txt",
                "transcription.vtt", "transcription.srt", "transcription.json", "notes.md", "notes.html",
                "SHA256SUMS", "LISEZMOI.txt"} <= set(names)
        for line in zf.read(names["SHA256SUMS"]).decode().splitlines():
            digest, name = line.split("  ")
            assert hashlib.sha256(zf.read(names[name])).hexdigest() == digest
        rows = list(csv.DictReader(io.StringIO(zf.read(names["conducteur.csv"]).decode())))
        assert [r["type"] for r in rows] == ["jingle", "host", "excerpt", "bed", "excerpt", "silence", "jingle"]
        assert float(rows[2]["debut_s"]) == pytest.approx(7.5)
        assert "00:00:07.500" in zf.read(names["conducteur.txt"]).decode()
    again = make_pack(archive, result.slug, tmp_path / "again")
    assert again.read_bytes() == path.read_bytes()  # deterministic


def test_pack_refused_after_withdrawal(archive, episode, tmp_path):
    result, (first, _) = episode
    with archive.session() as session:
        withdraw(session, get(session, first), "test")
    with pytest.raises(ConsentRefused, match="retiré"):
        make_pack(archive, result.episode_id, tmp_path)
    assert not list(tmp_path.glob("*.zip"))


def test_pack_refused_when_broadcast_consent_removed_or_review_pending(archive, episode, tmp_path):
    result, (first, second) = episode
    with archive.session() as session:
        add_consent(session, get(session, second), "test", broadcast=False)
    with pytest.raises(ConsentRefused, match="broadcast"):
        make_pack(archive, result.episode_id, tmp_path)
    with archive.session() as session:
        add_consent(session, get(session, second), "test", broadcast=True)  # new version: review again
    with pytest.raises(ReviewRequired):
        make_pack(archive, result.episode_id, tmp_path)


def test_pack_unknown_episode(archive, tmp_path):
    with pytest.raises(NotFound):
        make_pack(archive, "999", tmp_path)
