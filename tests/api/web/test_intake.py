"""Intake in the studio: recordings and the consent form in, the same ingest as `kuma ingest`, in the background."""
from __future__ import annotations

from html import unescape

from sqlalchemy import select

from archive.models import AuditEvent, StageName, StageState
from archive import models  # (a class named Test… in the module would be collected by pytest)
from archive.testimonies import get
from tests.api.web.conftest import form_csrf, sign_in

FORM = {"archive": "oui", "advocacy": "oui", "broadcast": "oui", "identity": "pseudonym", "voice": "disguise",
        "voice_mode": "strong", "collected_by": "Awa", "method": "oral enregistré", "pseudonym": "Bakary",
        "recorded_at": "2026-11-30", "language": "fr", "place": "aéroport de Bamako", "expelled_from": "DZ",
        "route": "Gao - Tamanrasset", "themes": ["expulsion"], "terms": "Seydou Traoré\nlieu: Kayes\nnuméro: 76 12 34 56"}


def test_an_upload_with_its_consent_form_is_ingested_in_the_background(producer, archive, make_audio):
    first, second = make_audio("un.wav", seconds=3, seed=1), make_audio("deux.ogg", seconds=3, seed=2)
    page = producer.get("/studio/depot")
    assert page.status_code == 200 and '<label for="files">' in page.text
    with open(first, "rb") as a, open(second, "rb") as b:
        done = producer.post("/studio/depot", data={**FORM, "csrf": form_csrf(page.text)},
                             files=[("files", ("un.wav", a, "audio/wav")), ("files", ("deux.ogg", b, "audio/ogg"))],
                             follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/studio/suivi"
    runner = producer.app.state.pipeline
    runner.join(300)
    follow = unescape(producer.get("/studio/suivi").text)
    assert "Terminé" in follow and "ingest" in follow
    with archive.session() as session:
        testimonies = session.scalars(select(models.Testimony).order_by(models.Testimony.id)).all()
        assert [t.source_name for t in testimonies] == ["deux.ogg", "un.wav"]
        t = get(session, testimonies[0].public_id)
        assert (t.pseudonym, t.place, t.expelled_from, t.route, [th.slug for th in t.themes]) == (
            "Bakary", "aéroport de Bamako", "DZ", "Gao - Tamanrasset", ["expulsion"])
        assert (t.consent.archive, t.consent.online, t.consent.identity, t.consent.voice_mode, t.consent.collected_by) == (
            True, False, "pseudonym", "strong", "Awa")
        assert sorted((s.term, s.kind) for s in t.sensitive_terms) == [
            ("76 12 34 56", "phone"), ("Kayes", "place"), ("Seydou Traoré", "name")]
        assert t.stage(StageName.INGEST).state == StageState.DONE
        assert session.scalar(select(AuditEvent).where(AuditEvent.action == "intake.upload")).actor == "web:awa"
    assert not [p for p in archive.settings.inbox_path.rglob("*") if p.is_file()]  # nothing left behind


def test_problems_are_shown_beside_their_fields_and_nothing_is_kept(producer, archive, make_audio):
    path = make_audio("un.wav", seconds=2)
    page = producer.get("/studio/depot")
    bad = {**FORM, "archive": "", "recorded_at": "hier", "expelled_from": "Atlantide", "themes": ["inconnu"]}
    with open(path, "rb") as a:
        refused = producer.post("/studio/depot", data={**bad, "csrf": form_csrf(page.text)},
                                files=[("files", ("un.wav", a, "audio/wav"))])
    text = unescape(refused.text)
    assert refused.status_code == 422 and "rien n'a été déposé" in text
    for field in ("archive", "recorded_at", "expelled_from", "themes"):
        assert f'id="erreur-{field}"' in refused.text, field
    assert "date invalide" in text and "code de pays inconnu" in text and "thème inconnu" in text
    assert 'value="Bakary"' in refused.text  # what was typed is kept in the form
    assert not archive.settings.inbox_path.exists() or not any(archive.settings.inbox_path.iterdir())


def test_a_file_that_is_not_audio_is_refused_by_name(producer, archive, tmp_path):
    page = producer.get("/studio/depot")
    refused = producer.post("/studio/depot", data={**FORM, "csrf": form_csrf(page.text)},
                            files=[("files", ("notes.txt", b"pas de l'audio", "text/plain"))])
    assert refused.status_code == 422 and "notes.txt" in unescape(refused.text)


def test_the_upload_needs_the_token_and_the_team(client, account, make_audio):
    account("maitre", "advocate")
    sign_in(client, "maitre")
    assert client.get("/studio/depot").status_code == 403
