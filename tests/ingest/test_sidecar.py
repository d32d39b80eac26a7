import json
import re

import pytest

from archive.errors import MetadataError
from archive.models import TermKind
from ingest.sidecar import find_sidecar, load_metadata


def test_json_sidecar(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"language": "fra", "expelled_from": "fr", "themes": "visa"}))
    meta = load_metadata(path)
    assert (meta.language, meta.expelled_from, meta.themes) == ("fr", "FR", ["visa"])


@pytest.mark.parametrize("text, fragment", [
    ("language: [unclosed", "x.yaml : syntaxe YAML invalide ligne 1 (expected ',' or ']'"),
    ("notes: ok\nlanguage: fr\n  place: Kayes\n", "syntaxe YAML invalide ligne 3 (mapping values are not allowed here)"),
    ("- a\n- b\n", "clé: valeur"),
    ("consent: {identity: famous}", "consent.identity"),
    ("consent: {voice_mode: fort}", "consent.voice_mode » : valeur inconnue 'fort' (attendu : 'light', 'standard' ou 'strong')"),
    ("sensitive_terms: [{term: X, kind: planet}]",
     "sensitive_terms.0.kind » : valeur inconnue 'planet' (attendu : 'name', 'place', 'phone' ou 'other')"),
    ("muted: [[5, 2]]", "la fin doit suivre le début"),
    ("muted: [['aa', 2]]", "timecode invalide"),
    # found by tests/ingest/test_sidecar_fuzz.py: each was a TypeError, OverflowError, ValueError,
    # RecursionError or KeyError escaping, a NaN span accepted, or a message on two lines
    ("muted: 5", "champ « muted » : liste attendue, reçu 5"),
    ("themes: 5", "champ « themes » : liste attendue, reçu 5"),
    ("sensitive_terms: true", "champ « sensitive_terms » : liste attendue, reçu True"),
    ("muted: [[0, .nan]]", "timecode invalide : nan (attendu un nombre fini de secondes)"),
    ("muted: [[0, .inf]]", "timecode invalide : inf (attendu un nombre fini de secondes)"),
    ("muted: [[0, 1" + "0" * 400 + "]]", "timecode invalide : 1000000000"),
    ("muted: [['1" + "0" * 400 + ":00:00', 1]]", "timecode invalide : '1000000000"),
    ("recorded_at: !!timestamp 2026-02-30", "syntaxe YAML invalide ligne 1 (valeur illisible pour !!timestamp)"),
    ("consent: {archive: !!bool peut-être}", "syntaxe YAML invalide ligne 1 (valeur illisible pour !!bool)"),
    ("notes: &a [*a]", "syntaxe YAML invalide ligne 1 (alias circulaire : une valeur qui se contient elle-même)"),
    ('"x\\ny": 1', "champ « x\\ny » : champ inconnu"),
])
def test_sidecar_problems_are_explained(tmp_path, text, fragment):
    path = tmp_path / "x.yaml"
    path.write_text(text)
    with pytest.raises(MetadataError) as caught:
        load_metadata(path)
    assert fragment in str(caught.value) and "x.yaml" in str(caught.value)


def test_json_syntax_errors_name_the_line(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"language": "fr",\n "place": }')
    with pytest.raises(MetadataError, match=r"^x.json : syntaxe JSON invalide ligne 2 \(Expecting value\)$"):
        load_metadata(path)


def test_json_that_python_cannot_read_is_a_metadata_error(tmp_path):
    path = tmp_path / "x.json"
    for text, message in (("[" * 100_000, "x.json : JSON trop imbriqué"),
                          ('{"muted": 1' + "0" * 5000 + "}", "x.json : JSON illisible (Exceeds the limit")):
        path.write_text(text)
        with pytest.raises(MetadataError, match=re.escape(message)):
            load_metadata(path)


def test_one_term_alone_is_one_term_not_letters(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("sensitive_terms: Moussa Diarra")
    assert [t.term for t in load_metadata(path).sensitive_terms] == ["Moussa Diarra"]


def test_term_kinds_are_the_archive_enum(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("sensitive_terms: [Moussa, {term: Kayes, kind: place}, {term: '76 12 34 56', kind: phone}]")
    assert [t.kind for t in load_metadata(path).sensitive_terms] == [TermKind.NAME, TermKind.PLACE, TermKind.PHONE]


def test_find_sidecar_prefers_yaml(tmp_path):
    audio = tmp_path / "t.m4a"
    (tmp_path / "t.json").write_text("{}")
    assert find_sidecar(audio) == tmp_path / "t.json"
    (tmp_path / "t.yaml").write_text("{}")
    assert find_sidecar(audio) == tmp_path / "t.yaml"


def test_empty_sidecar_is_empty_metadata(tmp_path):
    path = tmp_path / "e.yml"
    path.write_text("")
    assert load_metadata(path).consent is None


def test_voice_mode_is_read_from_the_consent_and_defaults_to_standard(tmp_path):
    path = tmp_path / "v.yaml"
    path.write_text("consent: {archive: true, voice_mode: strong}")
    assert load_metadata(path).consent.voice_mode == "strong"
    path.write_text("consent: {archive: true}")
    assert load_metadata(path).consent.voice_mode == "standard"
