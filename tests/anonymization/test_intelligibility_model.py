"""The intelligibility gate with the real Whisper base model on real read speech (LibriSpeech, in
the team's shared media): the v3 disguise, which destroys words, is flagged and needs
--accept-unintelligible; the v4 default, which keeps them, passes; bleeped words are left out.

Marked ``model``: each transcribes the original and re-transcribes the rendition on the CPU. The
testimony's internal key (the disguise's label) is fixed, so each run hears the same voice."""
from __future__ import annotations

import pytest

from archive.consent import Use, current_rendition, decide
from archive.errors import ReviewRequired
from archive.testimonies import get
from ingest.pipeline import ingest_file
from ingest.sidecar import IntakeMetadata
from anonymization import stage
from anonymization import intelligibility, voice
from tests.conftest import FULL_CONSENT, SHARED_MEDIA
from transcripts.stage import Transcriber

pytestmark = pytest.mark.model

READ = "librispeech/1688-142285-0000.flac"  # 15 s, 34 words, a male reader
NAMES = "librispeech/1688-142285-0001.flac"  # the same reader: "Margaret, said Mr. Hale, … Mr. Thornton …"
LABEL = "intelligibility-gate-test"


def _testimony(archive, name: str, terms: list[str] | None = None) -> str:
    source = SHARED_MEDIA / name
    if not source.is_file():
        pytest.skip(f"{name}: the shared media are not beside this clone")
    metadata = IntakeMetadata(language="en", consent=FULL_CONSENT, sensitive_terms=terms or [])
    public_id = ingest_file(archive, source, metadata=metadata).public_id
    with archive.session() as session:
        get(session, public_id).internal_key = LABEL
    assert Transcriber(archive, actor="test").run(public_id).status == "done"
    return public_id


def _gate(archive, public_id):
    assert stage.anonymize(archive, public_id).status == "created"
    with archive.session() as session:
        rendition = current_rendition(get(session, public_id))
        flags = [f for f in rendition.flags if f["source"] == intelligibility.SOURCE]
        return rendition.intelligibility, flags


def test_words_destroyed_by_the_v3_disguise_are_flagged(real_archive, monkeypatch):
    monkeypatch.setattr(voice, "disguise_stream", lambda chunks, key, mode, **_: voice.disguise_v3_stream(chunks, key))
    public_id = _testimony(real_archive, READ)
    result, flags = _gate(real_archive, public_id)
    assert result["status"] == "measured" and result["reference_words"] >= 30
    assert result["wer"] > real_archive.settings.voice_max_wer, result
    assert len(flags) == 1 and "peu intelligible" in flags[0]["reason"]
    with real_archive.session() as session:
        with pytest.raises(ReviewRequired, match="--accept-unintelligible"):
            stage.approve(real_archive, session, get(session, public_id), "relectrice")
        stage.approve(real_archive, session, get(session, public_id), "relectrice", accept_unintelligible=True)
        assert decide(get(session, public_id), Use.BROADCAST).allowed


def test_the_default_disguise_keeps_the_words(real_archive):
    public_id = _testimony(real_archive, READ)
    result, flags = _gate(real_archive, public_id)
    assert result["status"] == "measured" and result["reference_words"] >= 30
    assert result["wer"] <= real_archive.settings.voice_max_wer, result
    assert flags == []
    with real_archive.session() as session:
        assert stage.approve(real_archive, session, get(session, public_id), "relectrice").approved_by == "relectrice"


def test_bleeped_words_do_not_count(real_archive):
    """A reading that names three people, given as sensitive terms: their names are bleeped (with a
    tone, which the recognizer writes as words of its own) and left out of the comparison; what
    airs around them is still understood."""
    public_id = _testimony(real_archive, NAMES, terms=["Margaret", "Hale", "Thornton"])
    result, flags = _gate(real_archive, public_id)
    with real_archive.session() as session:
        assert len(current_rendition(get(session, public_id)).redactions) == 3
    assert result["status"] == "measured" and result["excluded_words"] >= 3
    assert result["wer"] <= real_archive.settings.voice_max_wer, result
    assert flags == []
