"""Fuzzing the intake sidecar (issue 17): whatever an intake worker's file holds — any YAML or
JSON document, any value in any field, unicode, huge numbers, wrong types, nested junk — loading
it gives metadata or one MetadataError line naming the file, never another exception.
Bounded (a hundred or two examples each) so that it stays in the default suite."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from archive.errors import MetadataError
from ingest.sidecar import IntakeMetadata, load_metadata, parse_metadata
from tests.fuzzing import BOUNDED, documents, junk

FIELDS = ["pseudonym", "recorded_at", "place", "language", "expelled_from", "route", "themes", "interviewer",
          "notes", "consent", "sensitive_terms", "muted"]
CONSENT = ["archive", "advocacy", "broadcast", "online", "identity", "voice", "voice_mode", "collected_by", "method"]
JUNK = junk("fr", "bam", "xx", "DZ", "zz", "name", "place", "planet")
TERMS = st.one_of(JUNK, st.lists(st.one_of(JUNK, st.fixed_dictionaries(
    {"term": JUNK}, optional={"kind": st.one_of(JUNK, st.sampled_from(["name", "place", "phone", "other"]))}))))
SPANS = st.one_of(JUNK, st.lists(st.one_of(JUNK, st.lists(JUNK, min_size=2, max_size=2),
                                           st.fixed_dictionaries({"start": JUNK, "end": JUNK}))))
DOCUMENTS = documents(FIELDS, {"consent": st.one_of(JUNK, documents(CONSENT, {}, JUNK)), "sensitive_terms": TERMS,
                               "muted": SPANS}, JUNK)


def outcome(text: str, name: str, as_json: bool = False):
    """Metadata, or the error: nothing else may come out."""
    try:
        return parse_metadata(text, name, as_json=as_json)
    except MetadataError as error:
        message = str(error)
        assert message.startswith(f"{name} : ") and "\n" not in message and "\r" not in message, message
        return error


@BOUNDED
@given(st.text(max_size=200))
@example("!!int abc")
@example("recorded_at: !!timestamp 2026-02-30")
@example("a: &a [*a]")
@example("muted: [[0, 1e400]]")
@example("muted: [[0, 9999999999999999999999999999999999999999999999999999999999999999999999999999999999999999"
         "9999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999"
         "9999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999"
         "99999999999999999999999999999999999999999999]]")
@example("muted: [['999999999999999999999999999999999999:00:00', 1]]")
@example("muted: 5")
@example("muted: [[0, " + "9" * 5000 + "]]")
@example("themes: 5")
@example("sensitive_terms: 5")
@example('notes: ok\n"a\\nb": 1')
@example('consent: {"x\\ty": 1}')
def test_any_yaml_text(text):
    outcome(text, "x.yaml")


@BOUNDED
@given(DOCUMENTS)
@example({"muted": [[0, float("nan")]]})
@example({"muted": [[float("-inf"), 1]]})
@example({"muted": [[0, 10 ** 400]]})
@example({"sensitive_terms": "Moussa Diarra"})
@example({"sensitive_terms": [{"term": "X", "k\rind": "place"}]})
def test_any_value_in_any_field_as_yaml(document):
    result = outcome(yaml.safe_dump(document, allow_unicode=True), "x.yaml")
    if isinstance(result, IntakeMetadata):
        assert all(start < end and end != float("inf") for start, end in result.muted)


@BOUNDED
@given(DOCUMENTS)
def test_any_value_in_any_field_as_json(document):
    outcome(json.dumps(document, ensure_ascii=False), "x.json", as_json=True)


@BOUNDED
@given(st.text(max_size=200))
@example("[" * 100_000)
@example('{"muted": 5}')
@example('{"muted": ' + "9" * 5000 + "}")
def test_any_json_text(text):
    outcome(text, "x.json", as_json=True)


@settings(max_examples=30, deadline=None, database=None)
@given(st.binary(max_size=200), st.sampled_from([".yaml", ".json"]))
def test_any_bytes_on_disk(data, suffix):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"s{suffix}"
        path.write_bytes(data)
        try:
            load_metadata(path)
        except MetadataError as error:
            assert "\n" not in str(error)
