"""Transcript redaction: find personal data in text and replace it with French placeholders.

What is found (each with its placeholder):

- the testimony's sensitive terms, phonetically and fuzzily (archive/text.py: the matcher the
  episode's last check uses too), also when
  the recognizer split one name in two words ("Dia rra"), merged two ("MoussaDiarra"), or heard a
  hyphenated French word in it ("Seydou Keïta" → "Saint-Ouquaita"): the whole span goes, never
  half a word or half a compound. A weaker match is not redacted silently nor passed silently: it
  becomes a *flag* for the reviewer, with its time: [NOM], [LIEU], …;
- phone numbers, long numbers, e-mails, IBANs and ID numbers, written or spoken
  (anonymization/patterns.py): [TÉLÉPHONE], [E-MAIL], [NUMÉRO];
- people's names beyond the intake list: a gazetteer of West-African, Maghrebi and European
  names met on the routes (anonymization/names/) plus capitalisation and cue phrases ("je m'appelle
  X", "mon frère X", "le passeur X", "un certain X"), and places after "village de X": [NOM],
  [LIEU]. A capitalised word that is neither a known name nor a public place is flagged.

Consent decides the form: identity "named" keeps the speaker's own name (the pseudonym) but still
removes third parties; "anonymous" removes the pseudonym as well.

:func:`redact_segments` works on plain segment objects (``idx, start, end, text`` and optional
``words`` with ``start, end, word``) and returns the redacted segments, the list of redactions
(which never contains the redacted text itself), the flags and the time spans to bleep.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from archive.models import TermKind
from archive.text import (
    WEAK,
    WORD,
    Heard,
    Word,
    adjacent,
    fold,
    heard,
    hyphenated,
    phonetic,
    similarity,
    sure,
    term_digits,
    words_of,
)
from archive.timecode import format_timecode
from anonymization.patterns import (  # noqa: F401  (re-exported: the redactor's public surface)
    PLACEHOLDERS,
    Match,
    NumberRun,
    find_emails_and_ids,
    find_numbers,
    number_runs,
)

DATA = Path(__file__).with_name("names")

NEIGHBOUR = 70.0  # a word beside a matched part of a name that sounds like its other part goes too
PRIORITY = {"email": 0, "term": 1, "phone": 2, "id": 3, "number": 4, "cue": 5, "gazetteer": 6}
CONTEXT_WORDS = 5
ESTIMATE_WIDEN_S = 0.3  # extra margin on each side when a time is estimated from characters
FLAG_REASONS = {
    "term": "ressemble au terme sensible « {term} » ({score:.0f} %) : à vérifier",
    "proper-noun": "nom propre inconnu : nom de personne ou de lieu ?",
}


# ------------------------------------------------------------------------------ data shapes
@dataclass(frozen=True)
class Term:
    """A sensitive term as the redactor sees it (built from archive.models.SensitiveTerm)."""

    text: str
    kind: str = TermKind.NAME
    id: int | None = None
    ignored: bool = False


@dataclass
class RedactedTranscript:
    segments: list[dict] = field(default_factory=list)  # [{idx, start, end, text}]
    redactions: list[dict] = field(default_factory=list)  # [{n, segment, start, end, kind, placeholder, ...}]
    flags: list[dict] = field(default_factory=list)  # [{n, segment, start, end, timecode, kind, source, reason, ...}]
    spans: list[tuple[float, float]] = field(default_factory=list)  # times to bleep (unpadded)


def tokens(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(), m.start(), m.end()) for m in WORD.finditer(text)]


@dataclass(frozen=True)
class Gazetteer:
    """Phonetic keys of the name lists in anonymization/names/."""

    family: frozenset[str]  # West-African family names: found in any case (the recognizer lowercases them)
    given: frozenset[str]  # West-African given names: capitalised, or beside another name
    routes: frozenset[str]  # Maghrebi, Spanish, French names: capitalised only (several are words too)
    public: frozenset[str]  # public places and institutions as written (lower case, no accents): never a person
    spellings: frozenset[str]  # the West-African names as written (lower case, no accents)

    def capitalised_name(self, key: str) -> bool:
        return key in self.family or key in self.given or key in self.routes

    def west_african(self, key: str) -> bool:
        return key in self.family or key in self.given

    def is_public(self, word: str) -> bool:
        """Spelled as a listed public place or institution (by spelling: "Calais" is public, "Khaled" is not)."""
        return fold(word) in self.public

    def spelled_west_african(self, word: str) -> bool:
        """Written exactly as a listed name: "moussa" is, "connaît" (which sounds like Koné) is not."""
        return fold(word) in self.spellings


@lru_cache
def gazetteer() -> Gazetteer:
    def words(*names: str) -> list[str]:
        lines = [line for name in names for line in (DATA / name).read_text(encoding="utf-8").splitlines()]
        return [part for line in lines if line.strip() and not line.startswith("#") for part in WORD.findall(line)]

    def load(*names: str) -> frozenset[str]:
        return frozenset(phonetic(word) for word in words(*names))

    def spelled(*names: str) -> frozenset[str]:
        return frozenset(fold(word) for word in words(*names))

    return Gazetteer(load("family_names.txt"), load("given_names.txt"),
                     load("route_given_names.txt", "route_family_names.txt"), spelled("public_places.txt"),
                     spelled("family_names.txt", "given_names.txt"))


# ------------------------------------------------------------------------------- names
ROLES = (r"frère|frere|soeur|sœur|cousin|cousine|oncle|tante|ami|amie|père|pere|mère|mere|fils|fille|femme|mari|"
         r"patron|patronne|passeur|gardien|gardienne|chef|policier|gendarme|commandant|capitaine|chauffeur|"
         r"logeur|coxeur|intermédiaire|dame|voisin|voisine|collègue|camarade|compagnon|beau-frère|belle-soeur")
NAME_CUES = re.compile(
    r"(?:je\s+m['’]appelle|il\s+s['’]appelle|elle\s+s['’]appelle|s['’]appelait|mon\s+nom\s+(?:est|c['’]est)|"
    r"mon\s+prénom\s+(?:est|c['’]est)|nommée?|appelée?|prénommée?|surnommée?|monsieur|madame|mademoiselle|M\.|Mme|"
    r"une?\s+certaine?|(?:mon|ma|notre|votre|son|sa|leur|le|la|un|une|du|au)\s+(?:" + ROLES + r")|chez|"
    r"c['’]est)\s+$", re.IGNORECASE)
PLACE_CUES = re.compile(r"(?:village|hameau|quartier|campement|commune|cercle)\s+(?:de\s+|d['’]|du\s+)?$",
                        re.IGNORECASE)
NOT_NAMES = frozenset(phonetic(w) for w in (
    "Je", "J", "Il", "Elle", "On", "Nous", "Vous", "Ils", "Elles", "Le", "La", "Les", "L", "Un", "Une", "Mon", "Ma",
    "Mes", "Et", "Mais", "Puis", "Alors", "Là", "Quand", "Après", "Avant", "Dieu", "Allah", "Inch", "Monsieur",
    "Madame", "Mme", "Mlle", "M", "Dr", "Docteur", "Maître", "Me", "Chez", "Oui", "Non", "Bon", "Bien", "Merci",
    "C", "Ce", "Cette", "Ça", "Ici", "Moi", "Toi", "Lui", "Eux", "Mon", "Son", "Sa", "Ses", "Notre", "Votre",
    "Leur", "Au", "Aux", "Du", "De", "Des", "D", "En", "Dans", "Pour", "Avec", "Sans", "Sur", "Si", "Comme",
    "Voilà", "Ensuite", "Donc", "Parce", "Pourquoi", "Comment", "Tout", "Tous", "Chaque", "Même", "Aussi",
    "Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche", "Janvier", "Février", "Mars",
    "Avril", "Mai", "Juin", "Juillet", "Août", "Septembre", "Octobre", "Novembre", "Décembre", "Ramadan",
    "Tabaski", "Coran", "Monsieur", "Western", "Union", "NIE", "IBAN", "OIM", "HCR", "ONG", "CFA",
))


def _capitalised(word: str) -> bool:
    return word[:1].isupper()


def _sentence_start(text: str, position: int) -> bool:
    before = text[:position].rstrip()
    return not before or before[-1] in ".!?:;«\"—–-"


def find_names(text: str) -> tuple[list[Match], list[Match]]:
    """(names and places found, capitalised words to flag): gazetteer, cue phrases, capitals."""
    names_of = gazetteer()
    words = words_of(text)
    names: set[int] = set()
    places: set[int] = set()
    unknown: set[int] = set()
    for i, word in enumerate(words):
        if word.key in NOT_NAMES or len(word.key) < 2 or word.text.isdigit():
            continue
        capitalised = _capitalised(word.text)
        before = text[max(0, word.start - 40):word.start]
        if capitalised and PLACE_CUES.search(before[-30:]):  # "village de Kati-Koro": even a public name
            places.add(i)
        elif names_of.is_public(word.text):
            continue
        elif capitalised and names_of.capitalised_name(word.key):
            names.add(i)
        elif word.key in names_of.family and len(word.key) >= 5:  # the recognizer lowercases names
            names.add(i)
        elif NAME_CUES.search(before) and (capitalised or names_of.west_african(word.key)):
            names.add(i)
        elif capitalised and not _sentence_start(text, word.start):
            unknown.add(i)
    _extend_names(text, words, names)
    _extend_names(text, words, places)
    unknown -= names | places
    return (_index_runs(text, words, names, "name", "gazetteer") + _index_runs(text, words, places, "place", "cue"),
            [Match(m.start, m.end, "name", "proper-noun", key=m.key, score=0.0, reason=FLAG_REASONS["proper-noun"])
             for m in _index_runs(text, words, unknown, "name", "proper-noun")])


def _extend_names(text: str, words: list[Word], hits: set[int]) -> None:
    """A detected name takes the words right beside it that are names too: capitalised ones ("Seydou
    Keïta"), except one capitalised only because it starts a sentence ("Bonjour Diarra"), known names
    in any case ("moussa diarra"), and the pieces of a hyphenated compound ("Saint-Ouquaita")."""
    changed = True
    while changed:
        changed = False
        for i in sorted(hits):
            for j in (i - 1, i + 1):
                if 0 <= j < len(words) and j not in hits and _belongs(text, words, min(i, j), j):
                    hits.add(j)
                    changed = True


def _belongs(text: str, words: list[Word], left: int, j: int) -> bool:
    pair = (words[left], words[left + 1])
    if hyphenated(text, *pair):
        return True
    word = words[j]
    if not adjacent(text, *pair) or word.key in NOT_NAMES or gazetteer().is_public(word.text) or word.text.isdigit():
        return False
    if _capitalised(word.text) and not _sentence_start(text, word.start):
        return True
    return gazetteer().spelled_west_african(word.text) and len(word.key) >= 3


def _index_runs(text: str, words: list[Word], indexes: set[int], kind: str, source: str) -> list[Match]:
    found: list[Match] = []
    for i in sorted(indexes):
        if found and i - 1 in indexes and adjacent(text, words[i - 1], words[i]):
            found[-1].end = words[i].end
            found[-1].key += " " + words[i].key
        else:
            found.append(Match(words[i].start, words[i].end, kind, source, key=words[i].key))
    return found


# ---------------------------------------------------------------------------- the redactor
TERM_PLACEHOLDER_KINDS = {TermKind.NAME: "name", TermKind.PLACE: "place", TermKind.PHONE: "phone",
                          TermKind.OTHER: "number"}  # the PLACEHOLDERS kind of each term kind


@dataclass(frozen=True)
class _Candidate:
    """Words that sound like one of the testimony's terms (archive.text.heard)."""

    heard: Heard
    term: Term
    kind: str  # key of PLACEHOLDERS


class Redactor:
    """Finds what must not leave, for one testimony (its terms and consent's identity form)."""

    def __init__(self, terms: Iterable[Term], *, identity: str = "anonymous", pseudonym: str | None = None):
        terms = list(terms)
        self.ignored = {phonetic(t.text) for t in terms if t.ignored}
        self.terms = [t for t in terms if not t.ignored]
        self.keep: set[str] = set()
        if pseudonym and identity == "anonymous":
            self.terms.append(Term(pseudonym, TermKind.NAME))
        elif pseudonym and identity == "named":  # the speaker's own name may be said
            self.keep = {phonetic(pseudonym)} | {phonetic(w) for w, _, _ in tokens(pseudonym) if len(w) >= 3}
            self.terms = [t for t in self.terms if phonetic(t.text) not in self.keep]
        self.term_parts = {part for t in self.terms for part in (phonetic(w) for w in WORD.findall(t.text)) if len(part) >= 3}

    def scan(self, text: str) -> tuple[list[Match], list[Match]]:
        """(what to redact, merged; what to flag for the reviewer: weak term matches, unknown proper nouns)."""
        words = words_of(text)
        terms, weak = self._term_matches(text, words)
        names, unknown = find_names(text)
        found = terms + find_emails_and_ids(text) + find_numbers(text) + names
        found = _merge([m for m in found if m.source == "term" or not self._allowed(m, text)])
        flags = [f for f in _best_flags(weak + unknown) if not self._allowed(f, text)
                 and not any(f.start < m.end and m.start < f.end for m in found)]
        return found, flags

    def find(self, text: str) -> list[Match]:
        return self.scan(text)[0]

    def weak(self, text: str) -> list[Match]:
        return self.scan(text)[1]

    def _allowed(self, match: Match, text: str) -> bool:
        key = phonetic(text[match.start:match.end])
        return key in self.ignored or (match.kind == "name" and bool(self.keep) and (
            key in self.keep or all(phonetic(w) in self.keep for w, _, _ in tokens(text[match.start:match.end]))))

    def _term_matches(self, text: str, words: list[Word]) -> tuple[list[Match], list[Match]]:
        strong: list[Match] = []
        candidates: list[_Candidate] = []
        runs = None
        for term in self.terms:
            kind = TERM_PLACEHOLDER_KINDS.get(term.kind, "name")
            digits = term_digits(term.text)
            if digits:
                runs = runs if runs is not None else number_runs(text)
                strong += [Match(r.start, r.end, kind, "term", term.id, digits) for r in runs
                           if digits in r.digits or (len(r.digits) >= 6 and r.digits in digits)]
            else:
                candidates += [_Candidate(h, term, kind)
                               for h in heard(text, words, term.text, parts=kind in ("name", "place"))]
        accepted, weak = self._select(text, words, candidates)
        return strong + accepted, weak

    def _select(self, text: str, words: list[Word], candidates: list[_Candidate]) -> tuple[list[Match], list[Match]]:
        """Best candidates first (the widest of equals), none overlapping another; strong ones grow to
        whole words and names."""
        taken: set[int] = set()
        strong, weak = [], []
        for c in sorted(candidates, key=lambda c: (-c.heard.score, c.heard.first - c.heard.last)):  # then the widest
            h = c.heard
            span = set(range(h.first, h.last + 1))
            if span & taken:
                continue
            if sure(text, words, h) or self._merged_names(words, h):
                first, last = _grow(text, words, h)
                taken |= set(range(first, last + 1))
                strong.append(Match(words[first].start, words[last].end, c.kind, "term", c.term.id, h.key))
            elif h.score >= WEAK:
                reason = FLAG_REASONS["term"].format(term=c.term.text, score=h.score)
                weak.append(Match(words[h.first].start, words[h.last].end, c.kind, "term", c.term.id, h.key,
                                  score=round(h.score, 1), reason=reason))
        return strong, weak

    def _merged_names(self, words: list[Word], h: Heard) -> bool:
        """One word holding the term and another name ("Bakarydiarra"): the rest must be a name too."""
        key = words[h.first].key
        if h.first != h.last or len(h.target) < 4 or h.target not in key or key == h.target:
            return False
        rest = key.replace(h.target, "", 1)
        return gazetteer().capitalised_name(rest) or rest in self.term_parts


def _grow(text: str, words: list[Word], h: Heard) -> tuple[int, int]:
    """Never half: a match takes the whole hyphenated compound it is part of and, when it is one
    part of a name of several words, the word beside it that sounds like the missing part."""
    first, last = h.first, h.last
    while first > 0 and hyphenated(text, words[first - 1], words[first]):
        first -= 1
        if first > 0 and text[words[first - 1].end:words[first].start] in ("'", "’"):  # "C'est-Ouquaita"
            first -= 1
    while last + 1 < len(words) and hyphenated(text, words[last], words[last + 1]):
        last += 1
    parts = [phonetic(w) for w in WORD.findall(h.term)]
    if h.target != h.key and h.target in parts:
        at = parts.index(h.target)
        if at > 0 and first > 0 and adjacent(text, words[first - 1], words[first]) \
                and similarity(words[first - 1].key, parts[at - 1]) >= NEIGHBOUR:
            first -= 1
        if at + 1 < len(parts) and last + 1 < len(words) and adjacent(text, words[last], words[last + 1]) \
                and similarity(words[last + 1].key, parts[at + 1]) >= NEIGHBOUR:
            last += 1
    return first, last


def _best_flags(flags: list[Match]) -> list[Match]:
    """One flag per place: the highest score."""
    kept: list[Match] = []
    for flag in sorted(flags, key=lambda f: (-f.score, f.start)):
        if not any(flag.start < k.end and k.start < flag.end for k in kept):
            kept.append(flag)
    return sorted(kept, key=lambda f: f.start)


def _merge(found: list[Match]) -> list[Match]:
    """Overlapping matches become one, of the most specific kind."""
    merged: list[Match] = []
    for match in sorted(found, key=lambda m: (m.start, PRIORITY[m.source])):
        last = merged[-1] if merged else None
        if last and match.start < last.end:
            if PRIORITY[match.source] < PRIORITY[last.source]:
                last.kind, last.source, last.term_id, last.key = match.kind, match.source, match.term_id, match.key
            last.end = max(last.end, match.end)
        else:
            merged.append(Match(**match.__dict__))
    return merged


def apply(text: str, matches: Sequence[Match]) -> str:
    out, position = [], 0
    for match in matches:
        out += [text[position:match.start], match.placeholder]
        position = match.end
    return "".join(out + [text[position:]])


def redact_text(text: str, redactor: Redactor) -> str:
    return apply(text, redactor.find(text))


# --------------------------------------------------------------------- whole transcripts
def redact_segments(segments: Sequence, redactor: Redactor) -> RedactedTranscript:
    """Redact every segment; locate each redaction and each flag in time from the word timestamps."""
    result = RedactedTranscript()
    entities: dict[tuple[str, str], int] = {}
    for segment in segments:
        text = segment.text or ""
        matches, flags = redactor.scan(text)
        result.segments.append({"idx": segment.idx, "start": segment.start, "end": segment.end,
                                "text": apply(text, matches)})
        timing = _WordTiming(segment)
        for match in matches:
            start, end, estimated = timing.span(text, match.start, match.end)
            number = entities.setdefault((match.kind, match.key), len(entities) + 1)
            result.redactions.append({
                "n": len(result.redactions) + 1, "segment": segment.idx, "start": round(start, 3),
                "end": round(end, 3), "kind": match.kind, "placeholder": match.placeholder,
                "source": match.source, "term_id": match.term_id, "entity": number,
                "chars": [match.start, match.end], "estimated": estimated,
                "context": _context(text, matches, match),
            })
            result.spans.append((start, end))
        result.flags += [_flag(len(result.flags) + i + 1, segment, text, timing, matches, flag)
                         for i, flag in enumerate(flags)]
        _add_spoken(result, segment, timing, redactor)
    return result


def _add_spoken(result: RedactedTranscript, segment, timing: _WordTiming, redactor: Redactor) -> None:
    """Detections on the ASR words that the text did not give (a human correction spelled the name
    differently): bleeped too, and listed like every other bleep."""
    timed = [(r["start"], r["end"]) for r in result.redactions if r["segment"] == segment.idx]
    for start, end, match in timing.spoken(redactor):
        result.spans.append((start, end))
        if any(s < end and start < e for s, e in timed):
            continue
        result.redactions.append({
            "n": len(result.redactions) + 1, "segment": segment.idx, "start": round(start, 3), "end": round(end, 3),
            "kind": match.kind, "placeholder": match.placeholder, "source": "spoken", "term_id": match.term_id,
            "entity": None, "chars": None, "estimated": False,
            "context": "mot reconnu dans l'audio (absent du texte corrigé)",
        })


def _flag(n: int, segment, text: str, timing: _WordTiming, matches: Sequence[Match], flag: Match) -> dict:
    """A weaker match for the reviewer: where, why, and its context (already redacted, the flagged
    words themselves shown as « … » — they stay in the internal transcript, ``chars`` points there)."""
    start, end, estimated = timing.span(text, flag.start, flag.end)
    before = apply(text[:flag.start], [m for m in matches if m.end <= flag.start])
    after = apply(text[flag.end:], [Match(m.start - flag.end, m.end - flag.end, m.kind, m.source)
                                    for m in matches if m.start >= flag.end])
    context = " ".join(before.split()[-CONTEXT_WORDS:] + ["«…»"] + after.split()[:CONTEXT_WORDS])
    return {"n": n, "segment": segment.idx, "start": round(start, 3), "end": round(end, 3),
            "timecode": format_timecode(start, millis=False), "kind": flag.kind, "source": flag.source,
            "reason": flag.reason, "score": flag.score, "term_id": flag.term_id, "chars": [flag.start, flag.end],
            "estimated": estimated, "context": context}


def _context(text: str, matches: Sequence[Match], match: Match) -> str:
    """The words around ``match`` with every redaction in them already replaced."""
    before = apply(text[:match.start], [m for m in matches if m.end <= match.start])
    shifted = [Match(m.start - match.end, m.end - match.end, m.kind, m.source) for m in matches if m.start >= match.end]
    after = apply(text[match.end:], shifted)
    left = " ".join(before.split()[-CONTEXT_WORDS:]) + (" " if before[-1:].isspace() else "")
    right = (" " if after[:1].isspace() else "") + " ".join(after.split()[:CONTEXT_WORDS])
    return f"{left}{match.placeholder}{right}".strip()


class _WordTiming:
    """Maps character offsets of a segment's text to times through its words (or estimates them)."""

    def __init__(self, segment):
        self.segment = segment
        self.words = list(getattr(segment, "words", None) or [])
        glue = "" if any(w.word.startswith(" ") for w in self.words) else " "
        pieces, owner = [], []
        for index, word in enumerate(self.words):
            piece = (glue if pieces and glue else "") + word.word
            pieces.append(piece)
            owner += [index] * len(piece)
        self.joined = "".join(pieces)
        self.owner = owner

    def span(self, text: str, start: int, end: int) -> tuple[float, float, bool]:
        if self.words:
            matcher = difflib.SequenceMatcher(None, text.lower(), self.joined.lower(), autojunk=False)
            hit = set()
            for a, b, size in matcher.get_matching_blocks():
                for offset in range(max(start, a), min(end, a + size)):
                    hit.add(self.owner[b + offset - a])
            if hit:
                return self.words[min(hit)].start, self.words[max(hit)].end, False
        seg_start, seg_end = self.segment.start, self.segment.end
        length = max(len(text), 1)
        t0 = seg_start + (seg_end - seg_start) * start / length - ESTIMATE_WIDEN_S
        t1 = seg_start + (seg_end - seg_start) * end / length + ESTIMATE_WIDEN_S
        return max(seg_start, t0), min(seg_end, t1), True

    def spoken(self, redactor: Redactor) -> list[tuple[float, float, Match]]:
        """Detections on the ASR words themselves (they may spell a name differently from the text)."""
        if not self.words:
            return []
        found = []
        for match in redactor.find(self.joined):
            indexes = set(self.owner[match.start:match.end])
            if indexes:
                found.append((self.words[min(indexes)].start, self.words[max(indexes)].end, match))
        return found


def merge_spans(spans: Iterable[tuple[float, float]], gap: float = 0.0) -> list[tuple[float, float]]:
    merged: list[list[float]] = []
    for start, end in sorted((float(s), float(e)) for s, e in spans if e > s):
        if merged and start <= merged[-1][1] + gap:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]
