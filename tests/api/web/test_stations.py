"""The partner radios page: a station's feed address shown once, and revocation that takes effect now."""
from __future__ import annotations

import re
from html import unescape

from tests.api.web.conftest import form_csrf, sign_in
from tests.feeds.conftest import episode_media, make_episode  # noqa: F401  (fixtures)


def test_a_station_added_gets_its_private_feed_once_and_revocation_stops_it(client, account, archive):
    account("awa", "producer")
    sign_in(client, "awa")
    page = client.get("/studio/radios")
    assert page.status_code == 200 and "Aucune radio partenaire" in unescape(page.text)
    added = client.post("/studio/radios", data={"csrf": form_csrf(page.text), "name": "Radio Kayira Ségou"})
    text = unescape(added.text)
    assert added.status_code == 200 and added.headers["cache-control"] == "no-store"
    url = re.search(r'<code class="jeton">([^<]+)</code>', added.text).group(1)
    path = url.removeprefix(archive.settings.base_url.rstrip("/"))
    assert path.startswith("/radio/") and path.endswith("/feed.xml") and "radio-kayira-segou" in text
    assert client.get(path).status_code == 200  # published at once: the address works
    again = client.get("/studio/radios")
    assert path.split("/")[2] not in again.text  # the token is never shown again
    revoked = client.post("/studio/radios/radio-kayira-segou/revoquer", data={"csrf": form_csrf(again.text)})
    assert revoked.status_code == 200 and "révoquée le" in unescape(revoked.text)
    assert client.get(path).status_code == 404  # stops now


def test_stations_are_for_the_team(client, account):
    account("maitre", "advocate")
    sign_in(client, "maitre")
    assert client.get("/studio/radios").status_code == 403


def test_the_radios_pages_show_each_station_report_and_flag_an_overdue_takedown(client, account, archive,
                                                                                 seed_testimony, make_episode):
    from datetime import timedelta

    from archive.models import Episode, RadioStation, utcnow
    from archive.testimonies import get, withdraw
    from feeds import catalog, receipts
    from feeds.catalog import item_guid
    from feeds.publish import publish

    keep, leave = seed_testimony(), seed_testimony()
    make_episode(1, [keep], title="Le départ")
    make_episode(2, [leave], title="Le retour")
    account("awa", "producer")
    sign_in(client, "awa")
    page = client.get("/studio/radios")
    client.post("/studio/radios", data={"csrf": form_csrf(page.text), "name": "Radio Kayira Ségou", "slug": "kayira"})
    client.post("/studio/radios", data={"csrf": form_csrf(page.text), "name": "Radio Jèkafo", "slug": "jekafo"})
    with archive.session() as session:
        for station in session.query(RadioStation):  # registered long before the withdrawal below
            station.created_at = utcnow() - timedelta(days=30)
    with archive.session() as session:
        current = {e.slug: e for e in catalog.load(session).radio}
        wav = current["demystification-0001"].by_role("broadcast")
        kayira = session.query(RadioStation).filter_by(slug="kayira").one()
        receipts.record(session, kayira, receipts.Report(
            client="kuma-station/0.1.0", synced_at=utcnow(), problems=("disque presque plein",),
            held=(receipts.Held(item_guid("demystification-0001"), "demystification-0001", wav.sha256,
                                "demystification-0001.wav", wav.size),
                  receipts.Held(item_guid("demystification-0002"), "demystification-0002", "0" * 64,
                                "demystification-0002.wav", 1))))
        withdraw(session, get(session, leave), "test")
    publish(archive)
    with archive.session() as session:  # the takedown was published 4 days ago
        session.query(Episode).filter_by(number=2).one().taken_down_at = utcnow() - timedelta(days=4)

    radios_page = unescape(client.get("/studio/radios").text)
    assert radios_page.count('class="alerte"') == 2  # both stations may hold the withdrawn episode
    assert "1 non confirmé(s) après 3 jours" in radios_page and "1 à jour" in radios_page
    assert "/station/kuma-station.pyz" in radios_page
    detail = unescape(client.get("/studio/radios/kayira").text)
    assert "disque presque plein" in detail and "kuma-station/0.1.0" in detail
    assert "demystification-0001.wav</td><td>demystification-0001</td><td>à jour" in detail
    assert "demystification-0002.wav</td><td>demystification-0002</td><td>à supprimer" in detail
    assert "non confirmé après 3 jours" in detail
    assert client.get("/studio/radios/inconnue").status_code == 404
    programme = unescape(client.get("/studio/emissions").text)
    assert "<td>kayira</td>" in programme  # the stations holding the episode's current build


def test_a_takedown_confirmed_by_phone_clears_the_flag_and_is_audited(client, account, archive, seed_testimony,
                                                                     make_episode):
    from datetime import timedelta

    from archive.models import AuditEvent, Episode, RadioStation, utcnow
    from archive.testimonies import get, withdraw
    from feeds.publish import publish

    leave = seed_testimony()
    make_episode(1, [leave])
    account("awa", "producer")
    sign_in(client, "awa")
    page = client.get("/studio/radios")
    client.post("/studio/radios", data={"csrf": form_csrf(page.text), "name": "Radio Gao", "slug": "gao"})
    with archive.session() as session:
        session.query(RadioStation).one().created_at = utcnow() - timedelta(days=30)
        withdraw(session, get(session, leave), "test")
    publish(archive)
    with archive.session() as session:
        session.query(Episode).one().taken_down_at = utcnow() - timedelta(days=5)
    client.post("/studio/radios/gao/revoquer", data={"csrf": form_csrf(page.text)})  # it cannot report any more
    detail = client.get("/studio/radios/gao")
    assert "non confirmé après 3 jours" in unescape(detail.text)
    done = client.post("/studio/radios/gao/retraits/demystification-0001/confirmer",
                       data={"csrf": form_csrf(detail.text), "note": "appel du 4 décembre"}, follow_redirects=True)
    text = unescape(done.text)
    assert "confirmé" in text and "par web:awa à la main" in text and "non confirmé" not in text
    assert 'class="alerte"' not in client.get("/studio/radios").text
    with archive.session() as session:
        event = session.query(AuditEvent).filter_by(action="radio.takedown_confirmed_by_hand").one()
        assert event.actor == "web:awa" and event.detail["note"] == "appel du 4 décembre"
    refused = client.post("/studio/radios/gao/retraits/demystification-0001/confirmer", data={"csrf": "faux"})
    assert refused.status_code == 403
