"""Rundown parsing: the shape of the YAML, one clear line per problem."""
from __future__ import annotations

import datetime as dt

import pytest

from archive.errors import RundownError
from studio.rundown import Bed, Excerpt, load_rundown, parse_rundown

BASE = {"number": 3, "title": "Le retour", "date": "2026-11-27"}


def test_items_and_timecodes_parsed():
    rundown = parse_rundown({**BASE, "items": [
        {"type": "jingle", "file": "j.flac"},
        {"type": "excerpt", "testimony": "T-000001", "in": "00:01:15.5", "out": "1:20"},
        {"type": "excerpt", "testimony": "T-000002", "segments": [2, 3]},
        {"type": "bed", "file": "b.ogg", "duration": "0:08", "duck": 12},
        {"type": "silence", "duration": 1.5},
    ]})
    assert rundown.date == dt.date(2026, 11, 27) and rundown.public
    excerpt = rundown.items[1]
    assert isinstance(excerpt, Excerpt) and (excerpt.start, excerpt.end) == (75.5, 80.0)
    assert rundown.items[2].segments == [2, 3]
    assert isinstance(rundown.items[3], Bed) and rundown.items[3].duration == 8.0


@pytest.mark.parametrize("item, expected", [
    ({"type": "excerpt", "testimony": "T-1", "in": "ab"}, "items[1].in : timecode invalide"),
    ({"type": "excerpt", "testimony": "T-1", "in": "1:75"}, "items[1].in : timecode invalide"),
    ({"type": "excerpt", "testimony": "T-1", "in": 5, "out": 2}, "items[1] : « out » doit être après « in »"),
    ({"type": "excerpt", "testimony": "T-1", "in": 1, "segments": [1]}, "items[1] : choisir « segments » ou « in/out »"),
    ({"type": "jingle"}, "items[1].file : champ obligatoire manquant"),
    ({"type": "trailer", "file": "x"}, "items[1] : type d'élément inconnu"),
    ({"file": "x"}, "items[1] : champ « type » manquant"),
    ({"type": "silence", "duration": 1, "colour": "red"}, "items[1].colour : champ inconnu"),
    ({"type": "bed", "file": "b", "duck": -3}, "items[1].duck :"),
    # found by tests/studio/test_rundown_fuzz.py: NaN and infinity accepted, a message on two lines
    ({"type": "silence", "duration": float("nan")}, "items[1].duration : timecode invalide : nan"),
    ({"type": "jingle", "file": "j", "in": 10 ** 400}, "items[1].in : timecode invalide : 1000"),
    ({"type": "jingle", "file": "j", "fade_in": float("inf")}, "items[1].fade_in : Input should be a finite number"),
    ({"type": "silence", "duration": 1, "x\ny": 1}, "items[1].x\\ny : champ inconnu"),
])
def test_each_shape_problem_is_one_line(item, expected):
    with pytest.raises(RundownError) as caught:
        parse_rundown({**BASE, "items": [item]})
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith(expected), caught.value.problems


@pytest.mark.parametrize(("fields", "expected"), [
    ({"number": 10 ** 400}, "number : Input should be less than or equal to 2147483647"),
    ({"season": 0}, "season : Input should be greater than or equal to 1"),
])
def test_numbers_the_archive_can_store(fields, expected):
    with pytest.raises(RundownError) as caught:
        parse_rundown({**BASE, **fields, "items": [{"type": "silence", "duration": 1}]})
    assert caught.value.problems == [expected]


def test_yaml_tricks_are_rundown_errors(tmp_path):
    path = tmp_path / "r.yaml"
    for text, message in (("date: !!timestamp 2026-02-30", "r.yaml : syntaxe YAML invalide ligne 1 (valeur illisible"),
                          ("items: &a [*a]", "r.yaml : syntaxe YAML invalide ligne 1 (alias circulaire"),
                          ("[" * 10_000, "r.yaml : YAML trop imbriqué")):
        path.write_text(text, encoding="utf-8")
        with pytest.raises(RundownError) as caught:
            load_rundown(path)
        assert str(caught.value).startswith(message)


def test_all_problems_reported_together():
    with pytest.raises(RundownError) as caught:
        parse_rundown({"title": "", "date": "hier", "items": [{"type": "jingle"}, {"type": "silence"}]})
    problems = caught.value.problems
    assert len(problems) == 5, problems
    assert any(p.startswith("number") for p in problems) and any(p.startswith("date") for p in problems)


def test_yaml_errors(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("items: [\n", encoding="utf-8")
    with pytest.raises(RundownError, match="YAML invalide"):
        load_rundown(broken)
    with pytest.raises(RundownError, match="lecture impossible"):
        load_rundown(tmp_path / "absent.yaml")
    listing = tmp_path / "list.yaml"
    listing.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(RundownError, match="mapping"):
        load_rundown(listing)
