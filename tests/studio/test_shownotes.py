"""The episode's last check before broadcast hears sensitive terms as the redactor does."""
from __future__ import annotations

import pytest

from archive.errors import ConsentRefused, RundownError
from studio import shownotes
from studio.episode import build_episode
from tests.studio.test_episode import studio_files, write_rundown  # noqa: F401  (fixture)

TERMS = ["Moussa Diarra", "Kayes", "76 12 34 56"]


@pytest.mark.parametrize("text", [
    "Retour à Kayes",  # as written (the only form the old exact check found)
    "Retour à KAYES",
    "Retour à Kaies",  # misheard or misspelled: the old check let these out
    "Retour à Cayes",
    "le témoignage de Moussa Diara",
    "le témoignage de Mousa Dyara",
    "appeler le 76.12.34.56",
])
def test_find_sensitive_catches_what_the_redactor_would_remove(text):
    assert shownotes.find_sensitive(text, TERMS)


@pytest.mark.parametrize("text", ["Retour au pays", "Au sommaire : Jingle, Animation, Témoignage", "né en 1976"])
def test_find_sensitive_leaves_other_words(text):
    assert not shownotes.find_sensitive(text, TERMS)


def test_assert_clean_refuses_a_misspelled_term():
    with pytest.raises(ConsentRefused, match="notes.md contient un terme sensible"):
        shownotes.assert_clean({"notes.md": "# Partir de Kaies".encode()}, TERMS)
    shownotes.assert_clean({"notes.md": "# Partir".encode()}, TERMS)


def test_a_misspelled_term_in_the_rundown_is_refused(archive, seed_testimony, studio_files):  # noqa: F811
    known = seed_testimony(sensitive_terms=["Kayes"])
    rundown = write_rundown(studio_files, [{"type": "excerpt", "testimony": known, "title": "Retour à Kaies"}])
    with pytest.raises(RundownError, match=r"items\[1\]\.title : contient un terme sensible"):
        build_episode(archive, rundown)
