"""The partner radios page: a station's feed address shown once, and revocation that takes effect now."""
from __future__ import annotations

import re
from html import unescape

from tests.api.web.conftest import form_csrf, sign_in


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
