"""archive.yamlfile: the one PyYAML home; safe documents, dates as text, one-line errors."""
from __future__ import annotations

import pytest

from archive.errors import ConfigError, InputError, MetadataError
from archive.yamlfile import dump_yaml, load_yaml

# nine values, nine times nine, …: 9**7 once expanded, from a few lines ("billion laughs")
BOMB = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]\n" for n in range(1, 7))


def test_safe_document_with_dates_as_text():
    assert load_yaml("date: 2026-11-27\nn: 3\nok: yes\n", "r.yaml") == {"date": "2026-11-27", "n": 3, "ok": True}
    assert load_yaml(b"title: \xc3\x89pisode\n", "r.yaml") == {"title": "Épisode"}
    assert load_yaml("", "r.yaml") is None


@pytest.mark.parametrize(("text", "message"), [
    ("items: [\n", "r.yaml : syntaxe YAML invalide ligne 2 (expected the node content, but found '<stream end>')"),
    ("a: 1\nb: c: d\n", "r.yaml : syntaxe YAML invalide ligne 2 (mapping values are not allowed here)"),
    ("a: *nothing\n", "r.yaml : syntaxe YAML invalide ligne 1 (found undefined alias 'nothing')"),
    ("!!python/object/apply:os.system [ls]", "r.yaml : syntaxe YAML invalide ligne 1 (could not determine a "
                                            "constructor for the tag 'tag:yaml.org,2002:python/object/apply:os.system')"),
    ("a: \x00", "r.yaml : syntaxe YAML invalide (special characters are not allowed)"),
    (b"a: \xff\n", "r.yaml : syntaxe YAML invalide (invalid start byte)"),
    ("[" * 5000, "r.yaml : YAML trop imbriqué"),
    ("a: !!int abc", "r.yaml : syntaxe YAML invalide ligne 1 (valeur illisible pour !!int)"),
    ("a: !!float 1e", "r.yaml : syntaxe YAML invalide ligne 1 (valeur illisible pour !!float)"),
    ("a: !!bool peut-être", "r.yaml : syntaxe YAML invalide ligne 1 (valeur illisible pour !!bool)"),
    ("a: !!timestamp 2026-02-30", "r.yaml : syntaxe YAML invalide ligne 1 (valeur illisible pour !!timestamp)"),
    ("a: 1" + "0" * 5000, "r.yaml : syntaxe YAML invalide ligne 1 (valeur illisible pour !!int)"),
    ("a: &a [*a]", "r.yaml : syntaxe YAML invalide ligne 1 (alias circulaire : une valeur qui se contient elle-même)"),
    (BOMB, "r.yaml : syntaxe YAML invalide ligne 1 (plus de 100000 valeurs une fois les alias développés)"),
])
def test_errors_are_one_line_naming_the_file_and_line(text, message):
    with pytest.raises(InputError) as caught:
        load_yaml(text, "r.yaml")
    assert str(caught.value) == message


@pytest.mark.parametrize("error", [MetadataError, ConfigError])
def test_the_caller_names_the_error(error):
    with pytest.raises(error):
        load_yaml("a: [", "x.yaml", error=error)


def test_aliases_within_reason_are_read():
    text = "base: &base {type: jingle, file: j.flac}\nitems: [{<<: *base, title: Fin}, *base]\n"
    assert load_yaml(text, "r.yaml")["items"] == [{"type": "jingle", "file": "j.flac", "title": "Fin"},
                                                  {"type": "jingle", "file": "j.flac"}]


def test_dump_reads_back_and_keeps_accents_and_order():
    data = {"title": "Démystification", "number": 3, "items": [{"type": "jingle"}]}
    text = dump_yaml(data)
    assert text.startswith("title: Démystification\nnumber: 3\n")
    assert load_yaml(text, "r.yaml") == data
