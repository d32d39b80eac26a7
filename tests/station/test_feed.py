"""The client's own parsing and settings, without a server: hostile or broken input."""
from __future__ import annotations

import pytest

from station.config import Config, parse_rate
from station.errors import ConfigError, redact
from station.feed import FeedError, parse_feed, parse_takedowns

ITEM = """<item><guid>urn:uuid:1</guid><title>T</title>
<enclosure url="https://r.example/radio/tok/media/{slug}/{name}" length="10" type="audio/wav"/>
<podcast:alternateEnclosure type="audio/wav" length="10" default="true">
  <podcast:source uri="https://r.example/radio/tok/media/{slug}/{name}"/>
  <podcast:integrity type="sri" value="sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="/>
</podcast:alternateEnclosure></item>"""


def feed(*items: str) -> bytes:
    return ('<?xml version="1.0"?><rss xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel>'
            f"<title>F</title>{''.join(items)}</channel></rss>").encode()


def test_a_file_name_from_the_feed_never_leaves_the_folder():
    good = parse_feed(feed(ITEM.format(slug="ep-1", name="ep-1-broadcast.wav"))).episodes[0]
    assert good.slug == "ep-1" and good.pick("broadcast").role == "broadcast"
    assert good.pick("broadcast").sha256 == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    hostile = [ITEM.format(slug="..", name="x.wav"), ITEM.format(slug="%2E%2E", name="x.wav"),
               ITEM.format(slug=".cache", name="x.wav")]
    assert parse_feed(feed(*hostile)).episodes == ()
    assert parse_feed(feed(ITEM.format(slug="ep-2", name="ep-2-broadcast.w%2F..%2F..%2Fetc"))).episodes == ()
    from station.feed import Rendition

    odd = Rendition("broadcast", "https://r.example/radio/tok/media/ep-2/ep-2-broadcast.w%2Fx", "audio/wav", 1, None)
    assert odd.name == "ep-2-broadcast.w/x" and odd.extension == "bin"


def test_broken_documents_are_named_errors():
    with pytest.raises(FeedError, match="XML invalide"):
        parse_feed(b"<rss><channel>")
    with pytest.raises(FeedError, match="pas de <channel>"):
        parse_feed(b"<html><body>portail captif</body></html>")
    with pytest.raises(FeedError, match="takedown.json"):
        parse_takedowns(b"{\"episodes\": [{}]}")


def test_settings_are_checked_and_the_token_never_printed():
    assert parse_rate("50k") == 50_000 and parse_rate("1,5M") == 1_500_000 and parse_rate("0") == 0
    with pytest.raises(ConfigError):
        parse_rate("vite")
    with pytest.raises(ConfigError, match="adresse de flux invalide"):
        Config(feed="https://r.example/podcast/feed.xml")
    with pytest.raises(ConfigError, match="version inconnue"):
        Config(feed="https://r.example/radio/" + "a" * 32 + "/feed.xml", rendition="flac")
    assert redact("https://r.example/radio/secret-token-123/feed.xml") == "https://r.example/radio/***/feed.xml"


def test_a_folder_it_may_not_write_is_one_line_not_a_traceback(tmp_path, capsys):
    from station.cli import main

    blocked = tmp_path / "lecture-seule"
    blocked.write_text("un fichier, pas un dossier")
    code = main(["--config", str(tmp_path / "c.json"), "init", "--no-check",
                 "--feed", "https://r.example/radio/" + "a" * 32 + "/feed.xml", "--folder", str(blocked / "emissions")])
    error = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(error) == 1 and "lecture-seule/emissions" in error[0] and "Traceback" not in error[0]
    assert not (tmp_path / "c.json").exists()


def test_a_hand_edited_setting_of_the_wrong_kind_is_a_configuration_error(tmp_path, capsys):
    import json

    from station.cli import main

    path = tmp_path / "c.json"
    path.write_text(json.dumps({"feed": "https://r.example/radio/" + "a" * 32 + "/feed.xml", "keep": "beaucoup"}))
    assert main(["--config", str(path), "status"]) == 2
    assert "configuration" in capsys.readouterr().err
