"""Theme suggestions from a transcript, with a transparent, editable French keyword lexicon
(``transcripts/lexicon/themes.yaml``). Suggestions are stored as such (``ThemeSuggestion``) and
never merged into the intake themes: a person decides."""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from archive.text import normalize

from archive.errors import ConfigError
from archive.models import Testimony, Theme, ThemeSuggestion, Transcript
from archive.yamlfile import load_yaml

LEXICON = Path(__file__).with_name("lexicon") / "themes.yaml"
MAX_EVIDENCE = 5


def term_pattern(term: str) -> re.Pattern[str]:
    """Whole words at word boundaries; a word ending in * is a stem, others allow a plural -s/-x."""
    pieces = []
    for part in term.split():
        word = normalize(part.rstrip("*"))
        if word:
            pieces.append(re.escape(word) + (r"[a-z0-9]*" if part.endswith("*") else r"(?:s|x)?"))
    return re.compile(rf"(?<![a-z0-9]){' '.join(pieces)}(?![a-z0-9])")


@dataclass
class Lexicon:
    terms: dict[str, list[tuple[str, re.Pattern[str]]]]

    @classmethod
    def load(cls, path: Path = LEXICON) -> Lexicon:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"lexique des thèmes illisible ({path}) : {exc}") from exc
        raw = load_yaml(text, f"lexique des thèmes {path}", error=ConfigError) or {}
        if not isinstance(raw, dict) or not all(isinstance(v, list) for v in raw.values()):
            raise ConfigError(f"lexique des thèmes invalide ({path}) : attendu « thème: [termes] »")
        return cls({str(theme): [(str(t), term_pattern(str(t))) for t in terms if str(t).strip()]
                    for theme, terms in raw.items()})


@dataclass
class Suggestion:
    theme: str
    score: int
    evidence: list[dict] = field(default_factory=list)


def suggest(segments: Iterable, lexicon: Lexicon) -> list[Suggestion]:
    """Themes whose terms occur in ``segments`` (objects or dicts with idx, start, text), best first."""
    found: dict[str, Suggestion] = {}
    for segment in segments:
        get = segment.get if isinstance(segment, dict) else (lambda name: getattr(segment, name))
        text = normalize(get("text") or "")
        for theme, terms in lexicon.terms.items():
            for term, pattern in terms:
                hits = len(pattern.findall(text))
                if not hits:
                    continue
                suggestion = found.setdefault(theme, Suggestion(theme, 0))
                suggestion.score += hits
                if len(suggestion.evidence) < MAX_EVIDENCE:
                    suggestion.evidence.append({"term": term, "segment": get("idx"), "start": round(float(get("start")), 2)})
    return sorted(found.values(), key=lambda s: (-s.score, s.theme))


def store_suggestions(session: Session, testimony: Testimony, transcript: Transcript,
                      lexicon: Lexicon | None = None) -> list[ThemeSuggestion]:
    """Replace the testimony's suggestions with those of ``transcript`` (its preferred one)."""
    lexicon = lexicon or Lexicon.load()
    vocabulary = set(session.scalars(select(Theme.slug)))
    session.execute(delete(ThemeSuggestion).where(ThemeSuggestion.testimony_id == testimony.id))
    rows = [ThemeSuggestion(testimony_id=testimony.id, transcript_id=transcript.id, theme_slug=s.theme,
                            score=s.score, evidence=s.evidence)
            for s in suggest(transcript.segments, lexicon) if s.theme in vocabulary]
    session.add_all(rows)
    return rows


def suggestions_for(session: Session, testimony: Testimony) -> list[ThemeSuggestion]:
    return list(session.scalars(select(ThemeSuggestion).where(ThemeSuggestion.testimony_id == testimony.id)
                                .order_by(ThemeSuggestion.score.desc(), ThemeSuggestion.theme_slug)))
