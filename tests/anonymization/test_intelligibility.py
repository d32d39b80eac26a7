"""The intelligibility gate on a real archive: what is stored with each rendition, the flag, and
approval refused without --accept-unintelligible (recorded in the audit log). Without a model
(this suite) nothing can be measured, and that is never a pass; the tiny random-weight model
measures for real (its words are random: its WER is far above any threshold)."""
from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
from sqlalchemy import select

from archive.consent import Use, current_rendition, decide
from archive.errors import ReviewRequired
from archive.models import AuditEvent
from archive.testimonies import get
from anonymization import stage
from anonymization import intelligibility
from transcripts.engine import AsrResult, AsrSegment, AsrWord

CONSENT = {"archive": True, "advocacy": True, "broadcast": True, "online": True,
           "identity": "pseudonym", "voice": "disguise"}
TEXT = "je suis rentré par l'aéroport de Bamako avec mon frère"


@pytest.fixture
def tiny_gate(archive, tiny_model):
    """The gate measured by the tiny model (batched: fast), with the default threshold."""
    archive.settings = archive.settings.model_copy(update={
        "whisper_model": str(tiny_model), "whisper_device": "cpu", "whisper_cpu_threads": 1, "whisper_batch_size": 1})
    return archive


def _rendition(archive, public_id):
    with archive.session() as session:
        rendition = current_rendition(get(session, public_id))
        return rendition.intelligibility, [f for f in rendition.flags if f["source"] == intelligibility.SOURCE]


def _approvals(archive):
    with archive.session() as session:
        return [e.detail for e in session.scalars(select(AuditEvent).where(AuditEvent.action == "rendition.approve"))]


def test_without_a_model_the_rendition_is_flagged_not_measured(archive, seed_testimony, archive_cli):
    public_id = seed_testimony(consent=CONSENT, text=TEXT, approved=False)
    assert stage.anonymize(archive, public_id).status == "created"
    result, flags = _rendition(archive, public_id)
    assert result["status"] == "unmeasured" and "non installé" in result["reason"]
    assert len(flags) == 1 and flags[0]["reason"].startswith("intelligibilité non mesurée")
    assert flags[0]["start"] == 0.0 and flags[0]["end"] > 3.9  # the whole recording, to listen to
    code, out, _ = archive_cli("review", "show", public_id, "--no-audio")
    assert code == 0 and "Intelligibilité de la voix : non mesuré (modèle de transcription" in out
    assert "intelligibilité" in out.split("signalé")[1]  # listed with the other flags
    code, _, err = archive_cli("review", "approve", public_id)
    assert code == 5 and "--accept-unintelligible" in err and len(err.strip().splitlines()) == 1
    with archive.session() as session:
        assert not decide(get(session, public_id), Use.BROADCAST).allowed
    assert archive_cli("review", "approve", public_id, "--accept-unintelligible")[0] == 0
    with archive.session() as session:
        assert decide(get(session, public_id), Use.BROADCAST).allowed
    [approval] = _approvals(archive)
    assert approval["accept_unintelligible"] is True and "non mesurée" in approval["intelligibility"]


def test_a_rendition_in_the_original_voice_has_nothing_to_measure(archive, seed_testimony, archive_cli):
    public_id = seed_testimony(consent={**CONSENT, "voice": "original"}, text=TEXT, approved=False)
    stage.anonymize(archive, public_id)
    result, flags = _rendition(archive, public_id)
    assert result["status"] == "original" and flags == []
    code, out, _ = archive_cli("review", "show", public_id, "--no-audio", "--json")
    assert code == 0 and json.loads(out)["intelligibility"]["problem"] is None
    code, out, _ = archive_cli("review", "show", public_id, "--no-audio")
    assert "non mesuré (voix originale" in out
    assert archive_cli("review", "approve", public_id)[0] == 0
    assert _approvals(archive) == [{"rendition": _approvals(archive)[0]["rendition"]}]  # nothing accepted


def test_a_measured_wer_above_the_threshold_needs_acceptance(tiny_gate, seed_testimony, archive_cli):
    archive = tiny_gate
    public_id = seed_testimony(consent=CONSENT, text=TEXT, approved=False)
    stage.anonymize(archive, public_id)
    result, flags = _rendition(archive, public_id)
    assert result["status"] == "measured" and result["wer"] > 0.15 and result["reference_words"] == 11
    assert result["model"].endswith("tiny-whisper") and result["model_version"] and result["language"] == "fr"
    assert len(flags) == 1 and flags[0]["reason"].startswith("voix déguisée peu intelligible")
    assert flags[0]["score"] == result["wer"]
    code, out, _ = archive_cli("review", "show", public_id, "--no-audio", "--json")
    shown = json.loads(out)["intelligibility"]
    assert shown["wer"] == result["wer"] and shown["max_wer"] == 0.15 and "peu intelligible" in shown["problem"]
    code, out, _ = archive_cli("review", "show", public_id, "--no-audio")
    assert "sur 11 mot(s) hors passages masqués, au-dessus du seuil de 15% (modèle tiny-whisper, langue fr)" in out
    with archive.session() as session:
        with pytest.raises(ReviewRequired, match="peu intelligible"):
            stage.approve(archive, session, get(session, public_id), "relectrice")
        stage.approve(archive, session, get(session, public_id), "relectrice", accept_unintelligible=True)
    [approval] = _approvals(archive)
    assert approval["accept_unintelligible"] is True and "peu intelligible" in approval["intelligibility"]


def test_the_threshold_is_read_at_approval(tiny_gate, seed_testimony):
    archive = tiny_gate
    public_id = seed_testimony(consent=CONSENT, text=TEXT, approved=False)
    stage.anonymize(archive, public_id)
    result, _ = _rendition(archive, public_id)
    archive.settings = archive.settings.model_copy(update={"voice_max_wer": result["wer"]})
    with archive.session() as session:
        assert stage.approve(archive, session, get(session, public_id), "relectrice").approved_by == "relectrice"


class _Heard:
    """An engine that heard given words (the comparison's unit test; the recognizer itself is
    exercised by the tiny model above and by the real one in test_intelligibility_model.py)."""

    def __init__(self, words):
        self.words = words

    def transcribe(self, audio, *, model, language, options):
        segment = AsrSegment(0.0, 10.0, "", words=[AsrWord(s, e, w, 0.9) for s, e, w in self.words])
        return AsrResult(language, None, 10.0, iter([segment]))


def test_bleeped_words_count_on_neither_side(sqlite_settings, tiny_model):
    settings = sqlite_settings.model_copy(update={"whisper_model": str(tiny_model)})
    spoken = [(0.0, 0.5, "je"), (0.5, 1.0, "m'appelle"), (1.0, 1.6, "Moussa"), (1.6, 2.0, "Diarra"),
              (2.0, 2.5, "merci"), (2.6, 3.0, "beaucoup")]
    reference = [intelligibility.TimedWord(*w) for w in spoken]
    bleeped = [(0.9, 2.05)]  # "Moussa Diarra", with padding that touches the words either side

    def measure(heard, spans=bleeped):
        return intelligibility.measure(settings, _Heard(heard), np.zeros(16000), reference, "fr", spans)

    # the tone heard as words; the words on the bleep's edges timed a little differently
    result = measure([(0.0, 0.45, " je"), (0.45, 0.95, " m'appelle"), (1.0, 2.0, " bip bip bop"),
                      (2.1, 2.5, " merci"), (2.55, 3.0, " beaucoup")])
    assert result["status"] == "measured" and result["wer"] == 0.0
    assert result["reference_words"] == 2 and result["excluded_words"] == 4  # "m'appelle" and "merci" touched
    # a word timed inside the bleep (recognizers misplace words next to a tone) still pairs with its own
    assert measure([(0.0, 0.5, " je"), (1.5, 2.0, " beaucoup")])["wer"] == 0.0
    assert measure([(0.0, 0.5, " je"), (2.6, 3.0, " boucan")])["wer"] == 0.5
    assert measure([(0.0, 0.5, " je")])["deletions"] == 1
    inserted = measure([(0.0, 0.5, " je"), (0.5, 1.0, " m'appelle"), (2.0, 2.5, " merci"), (2.6, 3.0, " beaucoup"),
                        (3.2, 3.5, " voilà")])
    assert (inserted["wer"], inserted["insertions"], inserted["deletions"]) == (0.5, 1, 0)
    assert measure([], spans=[(0.0, 3.0)]) == {"status": "unmeasured", "reason": intelligibility.NO_REFERENCE}


def test_a_transcript_without_word_times_gets_them_estimated():
    segment = SimpleNamespace(start=10.0, end=12.0, text="il est rentré", words=[])
    words = intelligibility.reference_words([segment])
    assert [w.text for w in words] == ["il", "est", "rentré"]
    assert words[0].start == 10.0 and words[-1].end == pytest.approx(12.0)
    assert all(a.end <= b.start for a, b in zip(words, words[1:]))
