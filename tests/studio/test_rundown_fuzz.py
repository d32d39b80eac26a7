"""Fuzzing the rundown parser (issue 17): whatever the producer's file holds — any YAML, any value
in any field or item, unicode, huge numbers, wrong types, nested junk — parsing gives a rundown or
a RundownError whose problems are each one line, never another exception.
Bounded (a hundred or two examples each) so that it stays in the default suite."""
from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from archive.errors import RundownError
from studio.rundown import Rundown, load_rundown, parse_rundown
from tests.fuzzing import BOUNDED, documents, junk

FIELDS = ["programme", "number", "season", "title", "date", "language", "description", "public", "cover", "items"]
ITEM_FIELDS = ["type", "title", "file", "in", "out", "testimony", "segments", "duration", "duck", "duck_fade",
               "fade_in", "fade_out", "crossfade", "gain", "chapter"]
KINDS = ["jingle", "host", "excerpt", "bed", "silence", "trailer", ""]
JUNK = junk("T-000001", *KINDS)
ITEMS = documents(ITEM_FIELDS, {"type": st.one_of(st.sampled_from(KINDS), JUNK)}, JUNK)
DOCUMENTS = documents(FIELDS, {"items": st.one_of(JUNK, st.lists(ITEMS, max_size=4))}, JUNK)


def outcome(data, name: str = "episode.yaml"):
    """A rundown, or the error: nothing else may come out."""
    try:
        return parse_rundown(data, name)
    except RundownError as error:
        assert error.problems and all(p and "\n" not in p and "\r" not in p for p in error.problems), error.problems
        return error


@BOUNDED
@given(DOCUMENTS)
@example({"number": 1, "title": "t", "date": "2026-11-27", "items": [{"type": "silence", "duration": float("nan")}]})
@example({"number": 1, "title": "t", "date": "2026-11-27", "items": [{"type": "silence", "duration": 10 ** 400}]})
@example({"number": 1, "title": "t", "date": "2026-11-27", "items": [{"type": "jingle", "file": "j", "in": "9" * 400}]})
@example({"number": 10 ** 400, "title": "t", "date": "2026-11-27", "items": [{"type": "silence", "duration": 1}]})
@example({"number": 1, "title": "t", "date": "2026-11-27", "items": [{"type": "silence", "duration": 1, "a\nb": 1}]})
@example({"a\nb": 1})
@example({"number": 1, "title": "t", "date": "2026-11-27", "items": [{"type": ["jingle"]}]})
@example({"number": 1, "title": "t", "date": "2026-11-27", "items": [{"type": {"a": 1}}]})
def test_any_value_in_any_field(document):
    result = outcome(document)
    if isinstance(result, Rundown):
        assert result.items and result.number >= 1


@BOUNDED
@given(DOCUMENTS)
def test_any_value_through_yaml(document):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "episode.yaml"
        path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
        try:
            load_rundown(path)
        except RundownError as error:
            assert all("\n" not in p for p in error.problems), error.problems


@BOUNDED
@given(st.one_of(st.text(max_size=200), st.binary(max_size=200)))
@example("date: !!timestamp 2026-02-30")
@example("items: &a [*a]")
@example("[" * 10_000)
def test_any_file_content(content):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "episode.yaml"
        path.write_bytes(content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content)
        try:
            load_rundown(path)
        except RundownError as error:
            assert all("\n" not in p for p in error.problems), error.problems
