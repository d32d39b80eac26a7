"""`kuma anonymize` and `kuma review …` on synthesized French speech with planted personal data.

The speech is made word by word with espeak-ng (so every word's timing is exact); espeak-ng is a
system program that a user's machine may lack, hence the skip."""
from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest

from api import context
from api.cli import main
from archive.audio import decode, encode
from archive.consent import Use, decide
from archive.models import Segment, Transcript, Word
from archive.testimonies import get

SENTENCE = ("je m'appelle Moussa Diarra de Kayes mon cousin Bakary Traoré a le numéro "
            "soixante-seize douze trente-quatre cinquante-six voilà")
PLANTED = {"Moussa", "Diarra", "Kayes", "Bakary", "Traoré", "soixante-seize", "douze", "trente-quatre", "cinquante-six"}

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed here")


def _speak(word: str, tmp_path) -> np.ndarray:
    out = tmp_path / "w.wav"
    subprocess.run(["espeak-ng", "-v", "fr", "-s", "150", "-w", str(out), word], check=True, capture_output=True)
    return decode(out, rate=16000)


@pytest.fixture
def spoken(tmp_path, monkeypatch):
    rate, gap = 16000, np.zeros(1600, dtype=np.float32)
    audio, words, at = [gap], [], 0.1
    for i, word in enumerate(SENTENCE.split()):
        samples = _speak(word, tmp_path)
        words.append((word, at, at + len(samples) / rate))
        audio += [samples, gap]
        at += (len(samples) + len(gap)) / rate
    path = tmp_path / "incoming" / "temoin.wav"
    path.parent.mkdir()
    encode(np.concatenate(audio), path, rate=rate)
    path.with_suffix(".yaml").write_text(
        "language: fr\npseudonym: Le voyageur\nthemes: [expulsion]\n"
        "consent: {archive: true, advocacy: true, broadcast: true, online: true, identity: pseudonym, voice: disguise}\n"
        "sensitive_terms: [Moussa Diarra, {term: Kayes, kind: place}]\n", encoding="utf-8")
    monkeypatch.setenv("KUMA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KUMA_BLEEP_MODE", "silence")
    context.reset()
    assert main(["ingest", str(path)]) == 0
    archive = context.archive()
    with archive.session() as session:
        testimony = get(session, "T-000001")
        segment = Segment(idx=0, start=words[0][1], end=words[-1][2], text=SENTENCE.replace("Diarra", "Diara"))
        segment.words = [Word(idx=i, start=s, end=e, word=w, probability=0.9) for i, (w, s, e) in enumerate(words)]
        session.add(Transcript(testimony_id=testimony.id, version=1, source="asr", language="fr", segments=[segment]))
    yield archive, words
    context.reset()


def test_anonymize_review_approve_export(spoken, tmp_path, capsys):
    archive, words = spoken
    assert main(["anonymize", "--pending"]) == 0
    assert main(["anonymize", "T-000001"]) == 0  # idempotent
    capsys.readouterr()
    review_audio = tmp_path / "review.ogg"
    assert main(["review", "show", "T-000001", "--json", "--audio", str(review_audio)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["count"] >= 4 and review_audio.stat().st_size > 0
    assert {item["placeholder"] for item in shown["data"]} >= {"[NOM]", "[LIEU]", "[TÉLÉPHONE]"}
    with archive.session() as session:
        assert not decide(get(session, "T-000001"), Use.ONLINE).allowed
    assert main(["review", "approve", "T-000001"]) == 5  # no model here: intelligibility not measured
    assert main(["review", "approve", "T-000001", "--accept-unintelligible"]) == 0
    with archive.session() as session:
        decision = decide(get(session, "T-000001"), Use.ONLINE)
        assert decision.allowed
        audio = decode(archive.store.path(decision.rendition.audio.sha256), rate=16000)
    for word, start, end in words:
        energy = np.sqrt(np.mean(audio[max(0, int((start - 0.19) * 16000)):int((end + 0.19) * 16000)] ** 2))
        assert (energy < 1e-4) == (word in PLANTED), word
    for fmt in ("vtt", "srt", "txt", "json"):
        out = tmp_path / f"redacted.{fmt}"
        assert main(["review", "export", "T-000001", "--format", fmt, "--out", str(out)]) == 0
        text = out.read_text(encoding="utf-8").lower()
        assert not any(word.lower() in text for word in PLANTED | {"diara"}), fmt
    assert main(["review", "add-term", "T-000001", "voilà", "--kind", "other"]) == 0
    with archive.session() as session:
        assert not decide(get(session, "T-000001"), Use.ONLINE).allowed  # back to review
