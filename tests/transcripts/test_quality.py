"""Transcription quality: word error rate on normalised words, and the recognition check that
flags a transcript a person must redo (real model output shapes, built by hand)."""
from __future__ import annotations

import pytest

from archive.models import StageState
from archive.testimonies import get
from tests.transcripts.conftest import TEST_OPTIONS
from transcripts.engine import AsrSegment, AsrWord
from transcripts.quality import RecognitionLimits, check_recognition, masked_error_rate, normalize, word_error_rate
from transcripts.stage import Transcriber
from transcripts.versions import STAGE, import_transcript, transcripts_of


def test_normalisation_folds_case_punctuation_hyphens_and_written_numbers():
    assert normalize("Je suis parti en 2019, l'aventure : soixante-seize !") == \
        "je suis parti en deux mille dix neuf l aventure soixante seize"
    assert normalize("I left in 1998.", "en") == "i left in one thousand nine hundred and ninety eight"


def test_word_error_rate_counts_substitutions_deletions_insertions():
    error = word_error_rate("je viens de Kayes au Mali", "je viens du Kaye au Mali merci")
    assert (error.reference_words, error.substitutions, error.deletions, error.insertions) == (6, 2, 0, 1)
    assert error.wer == pytest.approx(3 / 6)
    assert word_error_rate("parti en deux mille dix-neuf", "Parti en 2019.").wer == 0.0
    assert word_error_rate("trois mots ici", "").wer == 1.0


def test_a_masked_error_rate_counts_only_the_marked_words():
    said = [("je", True), ("m'appelle", True), ("Moussa Diarra", False), ("de", True), ("Kayes", False)]
    heard = [("je", True), ("m'appelle", True), ("bip", False), ("bip", False), ("bip", False), ("deux", True)]
    error = masked_error_rate(said, heard)
    assert (error.reference_words, error.substitutions, error.deletions, error.insertions) == (4, 1, 0, 0)
    assert error.wer == pytest.approx(1 / 4)  # "de" heard as "deux"; the names and the tone are no errors
    assert masked_error_rate([("parti en 2019", True)], [("parti en deux mille dix-neuf", True)]).wer == 0.0
    assert masked_error_rate([], [("bip", False)]).wer == 0.0 and masked_error_rate([], [("oui", True)]).wer == 1.0


def _segment(start, end, words, probability=0.9, logprob=-0.3):
    step = (end - start) / max(len(words), 1)
    return AsrSegment(start, end, " ".join(words), avg_logprob=logprob, no_speech_prob=0.01, compression_ratio=1.2,
                      temperature=0.0, words=[AsrWord(start + i * step, start + (i + 1) * step, " " + w, probability)
                                              for i, w in enumerate(words)])


def _low(segment):
    return segment.avg_logprob < -1.0


LIMITS = RecognitionLimits()
SENTENCE = "je suis parti en deux mille dix neuf pour travailler en Algérie".split()


def test_a_good_transcript_passes():
    check = check_recognition([_segment(0, 5, SENTENCE)], 5.2, _low, LIMITS)
    assert not check.needs_human and check.words == 12 and check.mean_word_probability == pytest.approx(0.9)


@pytest.mark.parametrize("segments, speech, expected", [
    ([], 12.0, "aucun mot reconnu"),  # speech heard, nothing written: the failure seen with base
    ([_segment(0, 1, ["merci"])], 30.0, "trop courte"),
    ([_segment(0, 5, SENTENCE, probability=0.4)], 5.0, "confiance moyenne des mots 0.40"),
    ([_segment(0, 5, SENTENCE, logprob=-1.4), _segment(5, 6, ["voilà", "tout"])], 6.0, "segments douteux"),
])
def test_recognition_failures_are_flagged_with_their_reason(segments, speech, expected):
    check = check_recognition(segments, speech, _low, LIMITS)
    assert check.needs_human and expected in check.reason


def test_silence_expects_nothing():
    assert not check_recognition([], 2.5, _low, LIMITS).needs_human  # a false VAD detection in noise


def test_a_flagged_testimony_is_stored_reported_and_not_rerun(asr_archive, ingest_testimony, tmp_path):
    """The random model's words are guesses: with the default limits its transcript is flagged."""
    asr_archive.settings = asr_archive.settings.model_copy(update={
        "transcript_min_confidence": 0.6, "transcript_min_words_per_second": 0.5, "transcript_max_doubtful_share": 0.5})
    public_id = ingest_testimony(asr_archive, seconds=8)
    transcriber = Transcriber(asr_archive, options=TEST_OPTIONS, actor="test")
    result = transcriber.run(public_id)
    assert result.status == "needs-human" and "reconnaissance automatique insuffisante" in result.reason
    with asr_archive.session() as session:
        testimony = get(session, public_id)
        [transcript] = transcripts_of(session, testimony)
        assert transcript.needs_human and transcript.quality["speech_s"] > 1
        assert testimony.stage(STAGE).state == StageState.NEEDS_HUMAN
    again = transcriber.run(public_id)  # same model, same audio: not redone, still reported
    assert again.status == "needs-human" and again.reason == result.reason
    assert public_id not in transcriber.pending()
    with asr_archive.session() as session:
        assert len(transcripts_of(session, get(session, public_id))) == 1
        corrected = tmp_path / "corrige.txt"
        corrected.write_text("[00:00:00] Je suis parti de Kayes.\n", encoding="utf-8")
        import_transcript(session, get(session, public_id), corrected, actor="test")
    with asr_archive.session() as session:
        assert get(session, public_id).stage(STAGE).state == StageState.DONE
    assert transcriber.run(public_id).status == "human"
