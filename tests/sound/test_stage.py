"""The clean stage: a testimony's cleaned copy, made once, read by transcription and the disguise."""
from __future__ import annotations

import numpy as np
import pytest

import pipeline
from archive.audio import decode, encode
from archive.consent import rendition_fingerprint
from archive.models import MediaKind, StageName, StageState
from archive.testimonies import get
from ingest.pipeline import ingest_file
from sound import stage as cleanup
from sound.filters import SpeechFilters
from tests.conftest import FULL_CONSENT
from tests.sound.helpers import espeak, mix, pink_noise, si_snr

RATE = 16_000
TEXT = "Je suis rentré de Tripoli au mois de mars, sans rien, et ma famille m'attendait à Kayes."


@pytest.fixture
def noisy_testimony(archive, make_audio, tmp_path):
    """An ingested testimony whose recording is speech in pink noise at 5 dB SNR; and the clean speech."""
    speech = espeak(TEXT, RATE, tmp_path)
    if speech is None:
        pytest.skip("espeak-ng is not installed (apt install espeak-ng): no speech to clean")
    path = make_audio("bruit.wav", seconds=1.0, rate=RATE, sidecar={"language": "fr", "consent": FULL_CONSENT})
    encode(mix(speech, pink_noise(speech.size, seed=7), 5.0), path, rate=RATE)
    result = ingest_file(archive, path)
    assert result.status == "ingested", result.reason
    return result.public_id, speech


def test_the_cleaned_copy_is_cleaner_and_the_rest_untouched(archive, noisy_testimony):
    public_id, speech = noisy_testimony
    with archive.session() as session:
        testimony = get(session, public_id)
        before = {a.kind: a.sha256 for a in testimony.assets}
        working = decode(archive.store.path(before[MediaKind.WORKING]), rate=RATE)
    assert cleanup.pending(archive) == [public_id]

    result = pipeline.CLEAN.run(archive, public_id)
    assert (result.state, result.changed) == (StageState.DONE, True)
    with archive.session() as session:
        testimony = get(session, public_id)
        after = {a.kind: a.sha256 for a in testimony.assets}
        cleaned_asset = testimony.asset(MediaKind.CLEANED)
        assert testimony.speech_asset() is cleaned_asset
        assert (cleaned_asset.sample_rate, cleaned_asset.channels) == (RATE, 1)
        assert testimony.stage(StageName.CLEAN).state == StageState.DONE
    assert {k: v for k, v in after.items() if k != MediaKind.CLEANED} == before  # original and working copy kept
    cleaned = decode(archive.store.path(after[MediaKind.CLEANED]), rate=RATE)
    assert cleaned.size == working.size
    n = min(speech.size, working.size)
    gain = si_snr(cleaned[:n], SpeechFilters(RATE).filter(speech)[:n]) - si_snr(working[:n], speech[:n])
    assert gain >= 5.0, gain
    assert np.std(cleaned) == pytest.approx(np.std(working), rel=0.5)  # same level, less noise

    again = pipeline.CLEAN.run(archive, public_id)
    assert (again.state, again.changed, again.detail["status"]) == (StageState.DONE, False, "unchanged")
    assert cleanup.pending(archive) == []


def test_a_cleaned_copy_makes_the_rendition_out_of_date(archive, seed_testimony):
    public_id = seed_testimony()
    with archive.session() as session:
        testimony = get(session, public_id)
        old = rendition_fingerprint(testimony, None)
    pipeline.CLEAN.run(archive, public_id)
    with archive.session() as session:
        assert rendition_fingerprint(get(session, public_id), None) != old  # the disguise is made again


def test_no_processing_consent_no_cleaning(archive, seed_testimony):
    public_id = seed_testimony(consent=None, approved=False)  # no consent recorded yet: kept, not processed
    assert public_id not in cleanup.pending(archive)
    result = pipeline.CLEAN.run(archive, public_id)
    assert result.state == StageState.SKIPPED
    with archive.session() as session:
        assert get(session, public_id).asset(MediaKind.CLEANED) is None


def test_switched_off_the_working_copy_is_read(archive, seed_testimony):
    archive.settings = archive.settings.model_copy(update={"clean_speech": False})
    public_id = seed_testimony()
    assert cleanup.pending(archive) == []
    assert pipeline.CLEAN.run(archive, public_id).state == StageState.SKIPPED
    with archive.session() as session:
        assert get(session, public_id).speech_asset().kind == MediaKind.WORKING


def test_withdrawal_erases_the_cleaned_copy(archive, seed_testimony):
    public_id = seed_testimony()
    pipeline.CLEAN.run(archive, public_id)
    pipeline.withdraw(archive, public_id, "test", "appel du témoin")
    with archive.session() as session:
        assert [a.kind for a in get(session, public_id).assets] == [MediaKind.ORIGINAL]
