"""Exports are read back by independent parsers (webvtt-py, srt); imports reject bad timing."""
from __future__ import annotations

import html
import io
import json

import pytest
import srt
import webvtt

from archive.errors import InputError
from transcripts import formats
from transcripts.formats import Cue

CUES = [
    Cue(0, 0.4, 2.823, "Je m'appelle <Moussa> & je viens de Kayes."),
    Cue(1, 3.323, 6.5, "Ils disaient --> « l'Europe,\nc'est le paradis »", speaker="Témoin 1"),
    Cue(2, 6.5, 6.5, "   "),  # empty text: no cue
    Cue(3, 3725.25, 3727.0, "Après une heure."),
]


def test_vtt_parses_with_webvtt_py():
    captions = webvtt.from_buffer(io.StringIO(formats.write_vtt(CUES))).captions
    assert len(captions) == 3
    assert captions[0].start == "00:00:00.400" and captions[0].end == "00:00:02.823"
    assert "<Moussa>" not in captions[0].raw_text  # escaped: not a tag
    assert html.unescape(captions[0].text) == "Je m'appelle <Moussa> & je viens de Kayes."
    assert "paradis" in captions[1].text and "\n" not in captions[1].text
    assert captions[2].start == "01:02:05.250"


def test_srt_parses_with_srt_package():
    subtitles = list(srt.parse(formats.write_srt(CUES)))
    assert [s.index for s in subtitles] == [1, 2, 3]
    assert subtitles[0].start.total_seconds() == pytest.approx(0.4)
    assert subtitles[0].end.total_seconds() == pytest.approx(2.823)
    assert subtitles[1].content.startswith("Témoin 1 : ")
    assert subtitles[2].start.total_seconds() == pytest.approx(3725.25)


def test_podcast_json_is_podcasting_2_0():
    data = json.loads(formats.write_podcast_json(CUES))
    assert data["version"] == "1.0.0"
    assert [set(s) for s in data["segments"]] == [{"startTime", "endTime", "body"},
                                                 {"speaker", "startTime", "endTime", "body"},
                                                 {"startTime", "endTime", "body"}]
    assert data["segments"][1]["speaker"] == "Témoin 1"
    assert all(s["endTime"] >= s["startTime"] for s in data["segments"])


def test_redacted_segment_dicts_go_through_the_same_writers():
    redacted = [{"idx": 0, "start": 0.25, "end": 1.5, "text": "Je m'appelle [NOM]"}]
    captions = webvtt.from_buffer(io.StringIO(formats.render("vtt", redacted))).captions
    assert captions[0].text == "Je m'appelle [NOM]"
    assert json.loads(formats.render("podcast-json", redacted))["segments"][0]["body"] == "Je m'appelle [NOM]"


@pytest.mark.parametrize("fmt", ["vtt", "srt", "txt"])
def test_round_trip(fmt):
    written = formats.render(fmt, CUES)
    read = formats.parse(fmt, written, duration=3800.0, name=f"x.{fmt}")
    kept = [c for c in CUES if c.text.strip()]
    assert [c.text for c in read][0] == "Je m'appelle <Moussa> & je viens de Kayes."
    assert [round(c.start, 3) for c in read] == [round(c.start, 3) for c in kept]
    if fmt != "txt":  # plain text keeps start times; each line lasts until the next
        assert [round(c.end, 3) for c in read] == [round(c.end, 3) for c in kept]


@pytest.mark.parametrize("fmt, text, line", [
    ("vtt", "WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\nbon\n\n2\n00:00:03,5 -> 00:00:04.000\nmauvais\n", 8),
    ("vtt", "WEBVTT\n\n00:00:05.000 --> 00:00:04.000\nà l'envers\n", 3),
    ("vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\na\n\n00:01:75.000 --> 00:01:76.000\nb\n", 6),
    ("vtt", "WEBVTT\n\n00:00:05.000 --> 00:00:06.000\na\n\n00:00:01.000 --> 00:00:02.000\nb\n", 6),
    ("srt", "1\n00:00:01,000 --> 00:00:02,000\nbon\n\n2\n00:00:03 --> 00:00:04,000\nmauvais\n", 6),
    ("txt", "[00:00:01] bonjour\n[00:0x:02] mauvais\n", 2),
    ("txt", "intro sans heure\n[00:00:01] bonjour\n", 1),
])
def test_malformed_timing_names_the_line(fmt, text, line):
    with pytest.raises(InputError, match=rf"ligne {line}\b"):
        formats.parse(fmt, text, duration=60.0, name=f"corrigé.{fmt}")


def test_vtt_without_header_is_rejected():
    with pytest.raises(InputError, match="WEBVTT"):
        formats.parse_vtt("00:00:01.000 --> 00:00:02.000\nbonjour\n")


def test_vtt_reader_takes_voices_notes_and_hourless_times():
    text = ("WEBVTT - corrigé\n\nNOTE relu par Awa\n\nintro\n00:01.000 --> 00:02.500 align:start\n"
            "<v Awa>Bonjour &amp; bienvenue</v>\n\n00:03.000 --> 00:04.000\n<i>deux</i>\nlignes\n")
    cues = formats.parse_vtt(text)
    assert [(c.start, c.end, c.text, c.speaker) for c in cues] == [
        (1.0, 2.5, "Bonjour & bienvenue", "Awa"), (3.0, 4.0, "deux lignes", None)]


def test_plain_text_without_timecodes_is_spread_over_the_recording():
    cues = formats.parse_txt("Première phrase.\n\nDeuxième phrase, plus longue que l'autre.\n", duration=10.0)
    assert len(cues) == 2 and cues[0].start == 0.0 and cues[-1].end == pytest.approx(10.0)
    assert cues[0].end == cues[1].start and cues[1].end - cues[1].start > cues[0].end - cues[0].start
