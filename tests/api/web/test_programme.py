"""The programme page: rundowns written and checked, episodes built and published in the background, previews."""
from __future__ import annotations

import re
from html import unescape

from tests.api.web.conftest import form_csrf, sign_in


def test_a_bad_rundown_is_refused_line_by_line_and_not_saved(producer, archive):
    page = producer.get("/studio/emissions")
    bad = "number: zéro\ntitle: Partir\ndate: hier\nitems: []\n"
    refused = producer.post("/studio/emissions/conducteurs", data={"csrf": form_csrf(page.text), "name": "ep-1",
                                                                   "text": bad})
    text = unescape(refused.text)
    assert refused.status_code == 422 and "n'est pas enregistré" in text
    assert "number" in text and "date" in text and "items" in text
    assert not (archive.settings.programme_path / "ep-1.yaml").exists()


def test_write_build_listen_and_publish(producer, archive, seed_testimony):
    testimony = seed_testimony(seconds=4.0)
    page = producer.get("/studio/emissions")
    rundown = (f"number: 3\ntitle: Le retour\ndate: 2026-12-10\npublic: true\n"
               f"items:\n  - {{type: excerpt, testimony: {testimony}}}\n")
    saved = producer.post("/studio/emissions/conducteurs",
                          data={"csrf": form_csrf(page.text), "name": "episode-003", "text": rundown})
    assert saved.status_code == 200 and "episode-003.yaml enregistré" in unescape(saved.text)
    assert (archive.settings.programme_path / "episode-003.yaml").read_text(encoding="utf-8") == rundown
    assert "Le retour" in unescape(producer.get("/studio/emissions?conducteur=episode-003.yaml").text)

    built = producer.post("/studio/emissions/construire", data={"csrf": form_csrf(page.text)}, follow_redirects=False)
    assert built.headers["location"] == "/studio/suivi"
    runner = producer.app.state.pipeline
    runner.join(300)
    assert [(r.stage, r.state) for r in runner.last] == [("build_episode", "done")], runner.last
    listing = producer.get("/studio/emissions")
    assert "Le retour" in unescape(listing.text) and "-16.0 LUFS" in listing.text
    slug = re.search(r'/studio/emissions/([^/"]+)/ecoute', listing.text).group(1)
    preview = producer.get(f"/studio/emissions/{slug}/ecoute", headers={"Range": "bytes=0-99"})
    assert preview.status_code == 206 and preview.headers["content-type"] == "audio/mpeg" and len(preview.content) == 100

    producer.post("/studio/emissions/publier", data={"csrf": form_csrf(page.text)})
    runner.join(300)
    assert [(r.stage, r.state) for r in runner.last] == [("publish", "done")]
    assert slug in producer.get("/podcast/feed.xml").text

    import pipeline

    pipeline.withdraw(archive, testimony, "test", "appel du témoin")
    assert producer.get(f"/studio/emissions/{slug}/ecoute").status_code == 404  # the preview goes with consent


def test_the_programme_is_for_the_team(client, account):
    account("maitre", "advocate")
    sign_in(client, "maitre")
    assert client.get("/studio/emissions").status_code == 403
