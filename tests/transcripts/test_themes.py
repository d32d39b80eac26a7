"""Theme suggestions: transparent lexicon, stored as suggestions, never merged into intake themes."""
from __future__ import annotations

from archive.testimonies import get
from transcripts.formats import Cue
from archive.text import normalize
from transcripts.themes import Lexicon, suggest, suggestions_for, term_pattern
from transcripts.versions import store_human


def test_terms_match_whole_words_stems_and_phrases():
    assert term_pattern("expuls*").search(normalize("Ils m'ont EXPULSÉE"))
    assert term_pattern("centre de rétention").search(normalize("deux centres de retention"))
    assert not term_pattern("mer").search(normalize("merci beaucoup"))
    assert term_pattern("demande d'asile").search(normalize("ma demande d’asile"))


def test_suggestions_carry_their_evidence():
    segments = [{"idx": 0, "start": 1.0, "text": "On nous a mis dans un charter, escortés par la police."},
                {"idx": 1, "start": 9.5, "text": "Avant, la pirogue, la mer, puis trois mois en détention."}]
    found = {s.theme: s for s in suggest(segments, Lexicon.load())}
    assert {"expulsion", "voyage-mer", "détention"} <= set(found)
    assert found["voyage-mer"].score == 2
    assert {"term": "pirogue*", "segment": 1, "start": 9.5} in found["voyage-mer"].evidence


def test_custom_lexicon_file(tmp_path):
    lexicon_file = tmp_path / "themes.yaml"
    lexicon_file.write_text("santé:\n  - dispensaire\n", encoding="utf-8")
    found = suggest([{"idx": 0, "start": 0.0, "text": "Le dispensaire était fermé."}], Lexicon.load(lexicon_file))
    assert [s.theme for s in found] == ["santé"]


def test_suggestions_are_stored_apart_from_intake_themes(archive, ingest_testimony):
    public_id = ingest_testimony(archive, seconds=3, themes=["expulsion"])
    with archive.session() as session:
        testimony = get(session, public_id)
        store_human(session, testimony, [Cue(0, 0.0, 2.0, "Le désert, puis la prison à Tamanrasset.")],
                    actor="test", origin={})
    with archive.session() as session:
        testimony = get(session, public_id)
        assert [t.slug for t in testimony.themes] == ["expulsion"]
        assert {s.theme_slug for s in suggestions_for(session, testimony)} == {"voyage-désert", "détention"}
