"""The one text home: folding, slugs, phonetic keys and the sensitive-term matcher."""
from __future__ import annotations

import pytest

from archive.text import (
    STRONG, fold, heard, mentioned, normalize, one_line, phonetic, similarity, slugify, sure, words_of,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("Démystification du mieux-être ailleurs", "demystification-du-mieux-etre-ailleurs"),
    ("  Radio Jèkafo — Kati  ", "radio-jekafo-kati"),
    ("n°3: «Tamanrasset»", "ndeg3-tamanrasset"),
    ("../../etc/passwd", "etc-passwd"),
    ("épisode_12.final", "episode-12-final"),
])
def test_slugify_is_ascii_and_url_safe(text, expected):
    assert slugify(text) == expected


def test_slugify_falls_back_and_stays_short():
    assert slugify("!!!") == "episode" and slugify("", fallback="radio") == "radio"
    slug = slugify("mot " * 60)
    assert len(slug) <= 100 and not slug.endswith("-")


def test_a_slug_is_its_own_slug():
    """Feeds re-slug stored episode slugs: that must never rename a published episode."""
    for text in ("Démystification 2025 — n°7", "demystification-0001", "Ça va ? Oui !"):
        assert slugify(slugify(text)) == slugify(text)


def test_normalize_folds_case_accents_and_punctuation():
    assert normalize("  Expulsé d'Algérie, À TAMANRASSET!") == "expulse d algerie a tamanrasset"



def test_fold_is_lower_case_ascii():
    assert fold("Ségou, KÉNIÉBA, Œuvre, Straße") == "segou, kenieba, oeuvre, strasse"


def test_phonetic_key_folds_spellings_of_one_name():
    assert phonetic("Diarra") == phonetic("Dyara") == phonetic("Diara") == phonetic("DIARRA")
    assert phonetic("Keïta") == phonetic("Kéita") == phonetic("Queïta")
    assert similarity(phonetic("Mamado"), phonetic("Mamadou")) >= STRONG
    assert similarity(phonetic("Kanté"), phonetic("Konaté")) < STRONG
    assert similarity("kon", "kan") == 0.0  # three letters or fewer: equal or nothing


@pytest.mark.parametrize(("text", "term"), [
    ("il vient de Kaies", "Kayes"),  # phonetic spelling
    ("Moussa Diara est parti", "Moussa Diarra"),  # misspelled
    ("Moussa Dia rra est parti", "Moussa Diarra"),  # split by the recognizer
    ("c'est MoussaDiarra", "Moussa Diarra"),  # merged
    ("à KAYES", "Kayes"),  # case and accents
    ("appelez le 76.12.34.56", "76 12 34 56"),  # the same digits grouped otherwise
    ("appelez le +223 76-12-34-56", "76 12 34 56"),
    ("écrire à moussa.d@gmail.com", "moussa.d@gmail.com"),  # not words: as written
])
def test_a_text_mentions_a_term_as_the_redactor_hears_it(text, term):
    assert mentioned(text, [term, "Tombouctou"]) == [term]


@pytest.mark.parametrize(("text", "term"), [
    ("le cahier de Moussa", "Kayes"),
    ("Diarra est parti", "Moussa Diarra"),  # a part alone: the redactor's business (it knows the kind)
    ("il est né en 1976, il a 12 ans", "76 12 34 56"),
    ("Les témoignages sont diffusés avec l'accord des personnes, sous une forme anonymisée.", "Kayes"),
    ("rien", "  "),
])
def test_other_words_are_not_the_term(text, term):
    assert mentioned(text, [term]) == []


def test_a_short_french_word_that_only_sounds_like_part_of_a_name_is_not_sure():
    text = "il connaît la route"
    words = words_of(text)
    found = [h for h in heard(text, words, "Bakary Koné", parts=True) if h.score >= STRONG]
    assert found and not any(sure(text, words, h) for h in found)


def test_one_line_escapes_control_characters_only():
    assert one_line("champ « a\nb\tc » : Ségou") == "champ « a\\nb\\tc » : Ségou"
