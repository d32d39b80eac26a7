"""The review page: the player, every bleep and flag, and the reviewer's operations, for staff only."""
from __future__ import annotations

from html import unescape

from sqlalchemy import select

from anonymization import stage
from archive.consent import current_rendition
from archive.models import AuditEvent, ReviewStatus
from archive.testimonies import get, withdraw
from tests.api.web.conftest import form_csrf, sign_in


def test_the_page_lists_every_bleep_with_a_play_button_and_logs_the_view(producer, archive, to_review):
    page = producer.get(f"/studio/relecture/{to_review}")
    text = unescape(page.text)
    assert page.status_code == 200
    with archive.session() as session:
        rendition = current_rendition(get(session, to_review))
        items = stage.review_items(session, rendition)
    assert len(items) == 4 and text.count("Écouter à partir d'ici") >= len(items)  # 2 names, the place, the number
    for item in items:
        assert item["timecode"] in text and (item["original"] or "") in text
    assert f'src="/studio/relecture/{to_review}/audio"' in page.text
    with archive.session() as session:
        views = session.scalars(select(AuditEvent).where(AuditEvent.action == "testimony.view")).all()
        assert [(v.actor, v.target) for v in views] == [("web:awa", to_review)]


def test_the_audio_is_the_rendition_and_seekable(producer, archive, to_review):
    whole = producer.get(f"/studio/relecture/{to_review}/audio")
    with archive.session() as session:
        path = archive.store.path(current_rendition(get(session, to_review)).audio.sha256)
    assert whole.status_code == 200 and whole.content == path.read_bytes()
    part = producer.get(f"/studio/relecture/{to_review}/audio", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == path.read_bytes()[100:200]


def test_approval_from_the_page(producer, archive, to_review):
    page = producer.get(f"/studio/relecture/{to_review}")
    csrf = form_csrf(page.text)
    accept = {"accept_unintelligible": "true"} if "accept_unintelligible" in page.text else {}
    done = producer.post(f"/studio/relecture/{to_review}/approuver", data={"csrf": csrf, **accept})
    assert done.status_code == 200 and "approuvée" in unescape(done.text)
    with archive.session() as session:
        rendition = current_rendition(get(session, to_review))
        assert rendition.status == ReviewStatus.APPROVED and rendition.approved_by == "web:awa"


def test_an_unintelligible_voice_needs_the_box_ticked(producer, archive, to_review):
    with archive.session() as session:
        rendition = current_rendition(get(session, to_review))
        rendition.intelligibility = {"status": "measured", "wer": 0.6, "reference_words": 20, "model": "base",
                                     "language": "fr"}
    page = producer.get(f"/studio/relecture/{to_review}")
    refused = producer.post(f"/studio/relecture/{to_review}/approuver", data={"csrf": form_csrf(page.text)})
    assert refused.status_code == 403 and "cochez « J'ai écouté la version entière »" in unescape(refused.text)
    assert "--accept" not in refused.text  # the page speaks of the page, not of the command line
    with archive.session() as session:
        assert current_rendition(get(session, to_review)).status != ReviewStatus.APPROVED


def test_adding_a_term_sends_the_rendition_back(producer, archive, to_review):
    page = producer.get(f"/studio/relecture/{to_review}")
    done = producer.post(f"/studio/relecture/{to_review}/termes",
                         data={"csrf": form_csrf(page.text), "term": "Seydou Traoré", "kind": "name", "action": "add"},
                         follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("?fait=terme")
    runner = producer.app.state.pipeline
    runner.join(120)  # the background anonymize stage makes the rendition again
    assert runner.error is None and [(r.stage, r.ref) for r in runner.last] == [("anonymize", to_review)]
    with archive.session() as session:
        testimony = get(session, to_review)
        assert any(t.term == "Seydou Traoré" and not t.ignored for t in testimony.sensitive_terms)
        assert current_rendition(testimony) is not None


def test_posts_without_the_token_change_nothing(producer, archive, to_review):
    refused = producer.post(f"/studio/relecture/{to_review}/termes", data={"term": "Seydou", "kind": "name"})
    assert refused.status_code == 403
    assert producer.post(f"/studio/relecture/{to_review}/approuver", data={}).status_code == 403
    with archive.session() as session:
        assert not any(t.term == "Seydou" for t in get(session, to_review).sensitive_terms)


def test_advocates_cannot_review(client, account, to_review):
    account("maitre", "advocate")
    sign_in(client, "maitre")
    assert client.get(f"/studio/relecture/{to_review}").status_code == 403
    assert client.get(f"/studio/relecture/{to_review}/audio").status_code == 403


def test_a_withdrawn_testimony_is_not_found_nor_its_audio(producer, archive, to_review):
    with archive.session() as session:
        withdraw(session, get(session, to_review), "test", "appel du témoin")
    assert producer.get(f"/studio/relecture/{to_review}").status_code == 404
    assert producer.get(f"/studio/relecture/{to_review}/audio").status_code == 404



def test_the_queue_and_the_home_page_link_to_each_review(producer, to_review):
    for page in ("/studio/relecture", "/studio/"):
        assert f'href="/studio/relecture/{to_review}"' in producer.get(page).text, page
