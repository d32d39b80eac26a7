"""Text folding and the sensitive-term matcher, shared by every package.

- Folding: :func:`fold` (lower case, no accents: the one place that calls ``unidecode``),
  :func:`normalize` (matching keys) and :func:`slugify` (URL and file names).
- Phonetic keys for names as a speech recognizer writes them. Malian and West-African names said
  in French reach the transcript in many spellings: "Keïta", "Kéita", "Kaita", "Queïta", the "Ou"
  of "Seydou" glued to it ("Ouquaita"). :func:`phonetic` folds what French spelling writes several
  ways into one form (qu/k/c, ou/u/w, ei/ai/é, y/i, ph/f, dj/j, silent final letters, doubled
  letters); :func:`similarity` compares two keys with rapidfuzz's normalised Indel ratio, also on
  a coarser key that merges the vowels a recognizer confuses most (o/ou, é/i), so "Mamado" and
  "Mamadou" are close but "Kanté" and "Konaté" stay apart.
- THE sensitive-term matcher: :func:`heard` lists the windows of words that sound like a term (or
  one of its parts), :func:`sure` decides which of them *are* the term. The redactor
  (``anonymization.redact``) and the episode's last check before broadcast
  (``studio.shownotes.find_sensitive``, through :func:`mentioned`) both decide with them.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache

from rapidfuzz import fuzz
from unidecode import unidecode

SLUG_MAX = 100


# ------------------------------------------------------------------------------ folding
def fold(text: str) -> str:
    """Lower case, accents and other scripts transliterated to ASCII: "Ségou" → "segou"."""
    return unidecode(text).lower()


def normalize(text: str) -> str:
    """Lower case, no accents, only letters and digits separated by single spaces."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", fold(text)).split())


def one_line(text: str) -> str:
    """``text`` fit for a one-line message: line breaks, tabs and other control characters escaped."""
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def slugify(text: str, fallback: str = "episode") -> str:
    """An ASCII slug for URLs and file names: "Démystification : « Kati »" → "demystification-kati"."""
    return normalize(text).replace(" ", "-")[:SLUG_MAX].strip("-") or fallback


# ------------------------------------------------------------------------- phonetic keys
# (pattern, replacement), in order, on the unaccented lower-case word
FOLDS = tuple((re.compile(pattern), replacement) for pattern, replacement in (
    (r"ph", "f"), (r"[dt]j", "j"), (r"tch|sch|sh|ch", "x"), (r"kh", "k"), (r"gh", "g"), (r"th", "t"),
    (r"ck|qu|q", "k"), (r"gu(?=[eiy])", "g"), (r"c(?=[eiy])", "s"), (r"c", "k"), (r"y", "i"),
    (r"eau|au", "o"), (r"ou|oo", "u"), (r"w", "u"), (r"ei|ai|ae", "e"), (r"[aeu]in(?![aeiou])", "in"), (r"en(?![aeiou])", "an"),
    (r"z", "s"), (r"h", ""), (r"(?<=..)(?:er|ez|et)$", "e"), (r"(?<=...)[tdsx]$", ""),
))
COARSE = tuple((re.compile(pattern), replacement) for pattern, replacement in (
    (r"o", "u"), (r"[ei]", "i"), (r"(.)\1+", r"\1"),
))


@lru_cache(maxsize=65536)
def phonetic(word: str) -> str:
    """Accent-, case- and spelling-tolerant key: "Diarra" / "Dyara" / "Diara" → "diara"."""
    mute_e = bool(re.search(r"[^\W\d_]e$", word.lower()))  # a final unaccented e is not said
    text = re.sub(r"[^a-z0-9]", "", fold(word))
    if mute_e and len(text) > 3:
        text = text[:-1]
    for pattern, replacement in FOLDS:
        text = pattern.sub(replacement, text)
    return re.sub(r"(.)\1+", r"\1", text)


@lru_cache(maxsize=65536)
def coarse(key: str) -> str:
    """A phonetic key with the vowels a recognizer confuses most merged (o/u, e/i)."""
    for pattern, replacement in COARSE:
        key = pattern.sub(replacement, key)
    return key


def similarity(candidate: str, target: str) -> float:
    """0–100: how alike two phonetic keys sound. Keys of three letters or fewer must be equal."""
    if not candidate or not target:
        return 0.0
    if min(len(candidate), len(target)) <= 3:
        return 100.0 if candidate == target else 0.0
    exact = fuzz.ratio(candidate, target)
    loose = fuzz.ratio(coarse(candidate), coarse(target))
    return max(exact, loose - 5.0)


def partial_similarity(part: str, whole: str) -> float:
    """0–100: how well the phonetic key ``part`` matches somewhere inside the key ``whole``."""
    return fuzz.partial_ratio(part, whole)


# --------------------------------------------------------------------- sensitive terms
STRONG = 85.0  # similarity of phonetic keys (0-100) from which words are the term
WEAK = 72.0  # from here to STRONG: they may be the term (the redactor flags them for the reviewer)
WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Word:
    text: str
    start: int  # character offsets in the text
    end: int
    key: str  # phonetic key


def words_of(text: str) -> list[Word]:
    return [Word(m.group(), m.start(), m.end(), phonetic(m.group())) for m in WORD.finditer(text)]


def hyphenated(text: str, left: Word, right: Word) -> bool:
    return text[left.end:right.start] == "-"


def adjacent(text: str, left: Word, right: Word) -> bool:
    """Only a space or a hyphen between the two words (not a comma, not a full stop)."""
    return text[left.end:right.start] in (" ", "-", "  ")


def term_digits(term: str) -> str:
    """The digits of a term that is a number ("76 12 34 56" → "76123456"), else ""."""
    digits = re.sub(r"\D", "", term)
    return digits if len(digits) >= 4 and len(digits) >= len(re.sub(r"\W", "", term)) - 1 else ""


@dataclass(frozen=True)
class Heard:
    """Words ``first``…``last`` of a text that sound like ``term`` (``score``: how much)."""

    score: float
    first: int  # word indexes
    last: int
    term: str
    key: str  # the whole term's phonetic key
    target: str  # what was compared: ``key``, or one part of the term


def heard(text: str, words: list[Word], term: str, *, parts: bool = False) -> list[Heard]:
    """Windows of words whose joined phonetic keys sound like the term or (``parts``: a name or a
    place of several words) one of its parts: one word, the term's own number of words, or one
    more (a name split in two: "Dia rra")."""
    keys = [key for key in (phonetic(w) for w in WORD.findall(term)) if key]
    if not keys:
        return []
    full = "".join(keys)
    targets = [(full, len(keys))]
    if parts and len(keys) > 1:  # "Moussa Diarra": "Diarra" alone too
        targets += [(key, 1) for key in keys if len(key) >= 3]
    found = []
    for i in range(len(words)):
        for last in range(i, min(len(words), i + len(keys) + 1)):
            if last > i and not adjacent(text, words[last - 1], words[last]):
                break
            for target, width in targets:
                score = similarity(window_key(words, i, last), target)
                if last - i + 1 > width and not _split_name(words, i, last, target, score):
                    continue
                found.append(Heard(score, i, last, term, full, target))
    return found


def window_key(words: list[Word], first: int, last: int) -> str:
    """Words said as one: "Djén Éba" is "Djénéba", whose "en" is not nasal."""
    return words[first].key if first == last else phonetic("".join(w.text for w in words[first:last + 1]))


def _split_name(words: list[Word], first: int, last: int, target: str, score: float) -> bool:
    """A window wider than the term is a name split in pieces only if it sounds right once joined
    and each end word adds to it ("Dia rra", "Ma riam Sidibé"; not "Diarra de")."""
    return score >= STRONG and score > similarity(window_key(words, first, last - 1), target) \
        and score > similarity(window_key(words, first + 1, last), target)


def homophone(text: str, words: list[Word], found: Heard) -> bool:
    """A short lower-case word on its own that only sounds like a part of the term ("connaît" for
    "Koné"): probably French, so a person decides. Spelled like the part ("keita"), or a piece
    of a hyphenated compound ("saint-ouquaita"), it is the term."""
    word, i = words[found.first], found.first
    in_compound = (i > 0 and hyphenated(text, words[i - 1], word)) or \
        (i + 1 < len(words) and hyphenated(text, word, words[i + 1]))
    spelled_like_a_part = fold(word.text) in {fold(w) for w in WORD.findall(found.term)}
    return found.first == found.last and found.target != found.key and len(found.target) <= 4 \
        and word.text.islower() and not in_compound and not spelled_like_a_part


def sure(text: str, words: list[Word], found: Heard) -> bool:
    """These words are the term: they sound like it, and are not a French word that only sounds like a part of it."""
    return found.score >= STRONG and not homophone(text, words, found)


# digits written as people group them: "76 12 34 56", "76.12.34.56", "+223 76-12-34-56"
DIGIT_RUN = re.compile(r"\d+(?:[ .\-/]{1,3}\d+)*")


def mentioned(text: str, terms: Iterable[str]) -> list[str]:
    """The terms that ``text`` mentions: spelled as they are (accents and case aside), heard as the
    redactor hears them (phonetically and fuzzily, whole terms), or, for a number, its digits in
    one run of digit groups."""
    said = _Said(text)
    return [term for term in terms if term.strip() and said.mentions(term)]


class _Said:
    """A text, with the forms the matcher reads it in made once for all the terms."""

    def __init__(self, text: str):
        self.text = text

    @cached_property
    def folded(self) -> str:
        return fold(self.text)

    @cached_property
    def words(self) -> list[Word]:
        return words_of(self.text)

    @cached_property
    def digit_runs(self) -> list[str]:
        return [re.sub(r"\D", "", m.group()) for m in DIGIT_RUN.finditer(self.text)]

    def mentions(self, term: str) -> bool:
        if self.spells(term):
            return True
        digits = term_digits(term)
        if digits:
            return any(digits in run for run in self.digit_runs)
        return any(sure(self.text, self.words, h) for h in heard(self.text, self.words, term))

    def spells(self, term: str) -> bool:
        """The term as a whole word or phrase, accents and case aside (as written where it folds to nothing)."""
        key = fold(term).strip()
        text, key = (self.folded, key) if key else (self.text.casefold(), term.casefold().strip())
        return re.search(rf"(?<!\w){re.escape(key)}(?!\w)", text) is not None
