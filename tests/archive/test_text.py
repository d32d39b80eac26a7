"""The one text-folding home: matching keys and slugs."""
from __future__ import annotations

import pytest

from archive.text import normalize, slugify


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
