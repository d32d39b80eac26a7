"""A testimony's page: stages, consent history, consent change and withdrawal, transcript corrections."""
from __future__ import annotations

from html import unescape

from sqlalchemy import select

from archive.consent import preferred_transcript
from archive.models import AuditEvent, TranscriptSource
from archive.testimonies import get
from tests.api.web.conftest import form_csrf, sign_in


def test_the_page_shows_stages_consent_history_and_the_redacted_text(producer, archive, to_review):
    page = producer.get(f"/studio/temoignages/{to_review}")
    text = unescape(page.text)
    assert page.status_code == 200 and f"Témoignage {to_review}" in text
    assert "anonymize" in text and "conserver dans l'archive" in text and "pseudonyme" in text
    assert "<mark>[NOM]</mark>" in page.text  # redactions highlighted in the text that may leave
    assert "Moussa" in text  # the team sees the internal transcript, to correct it
    with archive.session() as session:
        assert session.scalar(select(AuditEvent).where(AuditEvent.action == "testimony.view")).actor == "web:awa"


def test_a_consent_change_needs_the_confirmation_and_takes_effect(producer, archive, to_review):
    page = producer.get(f"/studio/temoignages/{to_review}")
    csrf = form_csrf(page.text)
    form = {"csrf": csrf, "archive": "oui", "advocacy": "oui", "identity": "anonymous", "voice": "disguise",
            "voice_mode": "strong", "note": "appel du témoin"}
    refused = producer.post(f"/studio/temoignages/{to_review}/consentement", data=form)
    assert refused.status_code == 422 and "confirmation" in unescape(refused.text)
    done = producer.post(f"/studio/temoignages/{to_review}/consentement", data={**form, "confirm": "oui"})
    assert done.status_code == 200 and "Consentement enregistré (version 2)" in unescape(done.text)
    with archive.session() as session:
        consent = get(session, to_review).consent
        assert (consent.version, consent.broadcast, consent.online, consent.identity, consent.voice_mode) == (
            2, False, False, "anonymous", "strong")
        assert consent.recorded_by == "web:awa"


def test_withdrawal_needs_the_id_typed_and_then_erases(producer, archive, to_review):
    csrf = form_csrf(producer.get(f"/studio/temoignages/{to_review}").text)
    refused = producer.post(f"/studio/temoignages/{to_review}/retrait", data={"csrf": csrf, "confirm_id": "oui"})
    assert refused.status_code == 422
    with archive.session() as session:
        assert get(session, to_review).consent.withdrawn_at is None
    done = producer.post(f"/studio/temoignages/{to_review}/retrait",
                         data={"csrf": csrf, "confirm_id": to_review.lower(), "note": "appel du témoin"})
    text = unescape(done.text)
    assert done.status_code == 200 and "Consentement retiré (version 2)" in text and "effacé" in text
    assert "Aucun traitement possible" in text and "Moussa" not in text  # the page stays, its content goes
    assert producer.get(f"/studio/relecture/{to_review}").status_code == 404


def test_a_correction_is_a_new_human_version_and_sends_the_rendition_back(producer, archive, to_review):
    page = producer.get(f"/studio/temoignages/{to_review}")
    with archive.session() as session:
        before = preferred_transcript(session, get(session, to_review).id)
        segment = before.segments[0]
        corrected = segment.text.replace("merci", "merci beaucoup")
    done = producer.post(f"/studio/temoignages/{to_review}/transcription",
                         data={"csrf": form_csrf(page.text), f"segment-{segment.idx}": corrected})
    assert done.status_code == 200 and "Transcription corrigée (version 2)" in unescape(done.text)
    producer.app.state.pipeline.join(120)
    with archive.session() as session:
        after = preferred_transcript(session, get(session, to_review).id)
        assert (after.version, after.source, after.created_by) == (2, TranscriptSource.HUMAN, "web:awa")
        assert after.segments[0].text == corrected
        assert (after.segments[0].start, after.segments[0].end) == (round(segment.start, 3), round(segment.end, 3))
    unchanged = producer.post(f"/studio/temoignages/{to_review}/transcription",
                              data={"csrf": form_csrf(page.text), f"segment-{segment.idx}": corrected})
    assert "inchangée" in unescape(unchanged.text)


def test_the_page_is_for_the_team(client, account, to_review):
    account("maitre", "advocate")
    sign_in(client, "maitre")
    assert client.get(f"/studio/temoignages/{to_review}").status_code == 403
