"""The consent table of DESIGN.md, row by row, through the single policy function."""
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from archive.consent import ANONYMOUS_LABEL, Use, decide, preferred_transcript, rendition_fingerprint, rule
from archive.errors import ConsentRefused, InputError, ReviewRequired
from archive.models import ConsentRecord, Identity, SensitiveTerm, VoiceForm
from archive.testimonies import add_consent, get, withdraw

EXPOSING = [Use.ADVOCACY, Use.BROADCAST, Use.ONLINE]


def consent(**values):
    base = dict(version=1, archive=True, advocacy=False, broadcast=False, online=False,
                identity="anonymous", voice="disguise", voice_mode="standard", withdrawn_at=None)
    return SimpleNamespace(**{**base, **values})


@pytest.mark.parametrize("use", list(Use))
def test_missing_consent_keeps_but_processes_and_exposes_nothing(use):
    decision = rule(None, use, rendition_approved=True)
    assert decision.allowed is (use == Use.ARCHIVE)
    if use != Use.ARCHIVE:
        assert "aucun consentement" in decision.reason


@pytest.mark.parametrize("use", list(Use))
def test_archive_no_refuses_everything(use):
    decision = rule(consent(archive=False, advocacy=True, broadcast=True, online=True), use, rendition_approved=True)
    assert not decision.allowed
    assert "archivage" in decision.reason


@pytest.mark.parametrize("use", [Use.ARCHIVE, Use.PROCESS])
def test_archive_yes_allows_keeping_and_processing(use):
    assert rule(consent(), use, rendition_approved=False).allowed


@pytest.mark.parametrize("use", EXPOSING)
def test_each_exposing_use_needs_its_own_flag(use):
    others = {u.value: True for u in EXPOSING if u != use}
    refused = rule(consent(**others), use, rendition_approved=True)
    assert not refused.allowed and use.value in refused.reason
    allowed = rule(consent(**{use.value: True}), use, rendition_approved=True)
    assert allowed.allowed


@pytest.mark.parametrize("use", EXPOSING)
def test_exposing_use_needs_an_approved_rendition(use):
    decision = rule(consent(**{use.value: True}), use, rendition_approved=False)
    assert not decision.allowed
    with pytest.raises(ReviewRequired):
        decision.require()


@pytest.mark.parametrize("use", list(Use))
def test_withdrawal_refuses_every_use(use):
    now = datetime.now(timezone.utc)
    withdrawn = consent(advocacy=True, broadcast=True, online=True, withdrawn_at=now - timedelta(seconds=1))
    decision = rule(withdrawn, use, rendition_approved=True, now=now)
    assert not decision.allowed and "retiré" in decision.reason
    with pytest.raises(ConsentRefused):
        decision.require()


def test_withdrawal_in_the_future_does_not_apply_yet():
    now = datetime.now(timezone.utc)
    later = consent(online=True, withdrawn_at=now + timedelta(days=1))
    assert rule(later, Use.ONLINE, rendition_approved=True, now=now).allowed


@pytest.mark.parametrize("voice, disguise", [("disguise", True), ("original", False)])
def test_voice_form(voice, disguise):
    decision = rule(consent(broadcast=True, voice=voice), Use.BROADCAST, rendition_approved=True)
    assert decision.voice == VoiceForm(voice)
    assert decision.disguise_required is disguise


@pytest.mark.parametrize("identity, label", [("anonymous", ANONYMOUS_LABEL), ("pseudonym", "Sidi"), ("named", "Sidi")])
def test_identity_decides_how_the_speaker_is_named(identity, label):
    decision = rule(consent(online=True, identity=identity), Use.ONLINE, rendition_approved=True)
    assert decision.identity == Identity(identity)
    assert decision.speaker_label("Sidi") == label
    assert decision.speaker_label(None) == ANONYMOUS_LABEL


def test_decide_carries_the_approved_rendition(archive, seed_testimony):
    public_id = seed_testimony()
    with archive.session() as session:
        decision = decide(get(session, public_id), Use.ONLINE)
        assert decision.allowed
        assert decision.rendition is not None and decision.rendition.audio is not None


def test_latest_consent_version_rules(archive, seed_testimony):
    public_id = seed_testimony()
    with archive.session() as session:
        testimony = get(session, public_id)
        add_consent(session, testimony, "test", online=False)
        assert [c.version for c in testimony.consents] == [1, 2]
        assert not decide(testimony, Use.ONLINE).allowed
        assert testimony.consents[0].online is True  # history is kept, not rewritten


def test_a_change_of_inputs_sends_the_rendition_back_to_review(archive, seed_testimony):
    public_id = seed_testimony()
    with archive.session() as session:
        testimony = get(session, public_id)
        assert decide(testimony, Use.BROADCAST).allowed
        session.add(SensitiveTerm(testimony=testimony, term="Ségou", kind="place"))
        session.flush()
        session.refresh(testimony, ["sensitive_terms"])
        refused = decide(testimony, Use.BROADCAST)
        assert not refused.allowed and "approuvée" in refused.reason


def test_consent_change_invalidates_rendition_too(archive, seed_testimony):
    public_id = seed_testimony()
    with archive.session() as session:
        testimony = get(session, public_id)
        add_consent(session, testimony, "test", voice="original")
        assert not decide(testimony, Use.BROADCAST).allowed


def test_a_new_voice_mode_sends_the_rendition_back_to_review(archive, seed_testimony):
    public_id = seed_testimony()
    with archive.session() as session:
        testimony = get(session, public_id)
        assert testimony.consent.voice_mode == "standard" and decide(testimony, Use.BROADCAST).allowed
        before = rendition_fingerprint(testimony, preferred_transcript(session, testimony.id))
        add_consent(session, testimony, "test", voice_mode="strong")
        assert testimony.consent.voice_mode == "strong"
        assert rendition_fingerprint(testimony, preferred_transcript(session, testimony.id)) != before
        refused = decide(testimony, Use.BROADCAST)
        assert not refused.allowed and refused.awaiting_review


def test_the_fingerprint_names_the_voice_mode():
    """Not only through the consent version: the mode itself is an input of the rendition."""
    def fingerprint(mode):
        record = consent(voice_mode=mode)
        return rendition_fingerprint(SimpleNamespace(consent=record, sensitive_terms=[], muted_spans=[],
                                                     pseudonym=None, speech_asset=lambda: None), None)

    assert len({fingerprint(mode) for mode in ("light", "standard", "strong")}) == 3


def test_an_unknown_voice_mode_is_refused(archive, seed_testimony):
    public_id = seed_testimony()
    with archive.session() as session:
        with pytest.raises(InputError, match="voice_mode"):
            add_consent(session, get(session, public_id), "test", voice_mode="robot")


def test_a_new_consent_record_defaults_to_the_disguises_default_mode():
    from anonymization import voice

    assert ConsentRecord.__table__.c.voice_mode.default.arg == voice.DEFAULT_MODE


def test_withdrawal_is_a_new_version_and_final(archive, seed_testimony):
    public_id = seed_testimony()
    with archive.session() as session:
        testimony = get(session, public_id)
        withdraw(session, testimony, "test")
        add_consent(session, testimony, "test", online=True)  # a later edit cannot undo a withdrawal
        assert testimony.consent.version == 3
        assert testimony.consent.withdrawn_at is not None
        assert all(not decide(testimony, use).allowed for use in Use)


@pytest.mark.parametrize("use", EXPOSING)
def test_a_transcript_that_failed_recognition_blocks_every_exposing_use(use):
    flags = consent(advocacy=True, broadcast=True, online=True)
    refused = rule(flags, use, rendition_approved=True, transcript_problem="aucun mot reconnu (12 s de parole détectée)")
    assert not refused.allowed and not refused.awaiting_review
    assert "transcription humaine" in refused.reason and "aucun mot reconnu" in refused.reason
    assert rule(flags, Use.PROCESS, rendition_approved=False, transcript_problem="x").allowed


def test_a_flagged_asr_transcript_blocks_until_a_human_version_exists(archive, seed_testimony):
    from archive.consent import preferred_transcript, rendition_fingerprint
    from archive.models import Rendition, ReviewStatus, Segment, Transcript, utcnow

    public_id = seed_testimony()
    with archive.session() as session:
        testimony = get(session, public_id)
        transcript = preferred_transcript(session, testimony.id)
        transcript.quality = {"needs_human": True, "reason": "transcription trop courte : 1 mot(s) pour 9 s"}
        session.flush()
        assert transcript.needs_human
        for use in EXPOSING:
            decision = decide(testimony, use)
            assert not decision.allowed and "trop courte" in decision.reason
            with pytest.raises(ConsentRefused):
                decision.require()
        human = Transcript(testimony_id=testimony.id, version=2, source="human", language="fr",
                           segments=[Segment(idx=0, start=0.2, end=3.0, text="je suis parti de Kayes")])
        session.add(human)
        session.flush()
        session.add(Rendition(testimony_id=testimony.id, audio_asset_id=testimony.assets[0].id,
                              transcript_id=human.id, status=ReviewStatus.APPROVED, approved_by="test",
                              approved_at=utcnow(), fingerprint=rendition_fingerprint(testimony, human),
                              redacted_segments=[], redactions=[]))
        session.flush()
        assert all(decide(testimony, use).allowed for use in EXPOSING)
