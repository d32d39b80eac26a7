"""Transcript redaction: find personal data in text and replace it with French placeholders.

What is found (each with its placeholder):

- the testimony's sensitive terms, fuzzily ("Diarra" / "Diara" / "Dyara"): [NOM], [LIEU], …;
- phone numbers of Mali, France, Spain, Morocco, Algeria, Libya and international forms
  (``phonenumbers`` with explicit regions), also when spoken as French words: "soixante-seize,
  douze, trente-quatre, cinquante-six" is first normalised to 76 12 34 56: [TÉLÉPHONE];
- e-mail addresses, written or spoken ("… arobase gmail point com"): [E-MAIL];
- passport / ID / alien-registration / IBAN-like codes and other long digit runs: [NUMÉRO];
- people's names beyond the intake list: a gazetteer of Malian and West-African family and given
  names (transcripts/data/) plus capitalisation and cue phrases ("je m'appelle X", "mon frère X"),
  and places after "village de X": [NOM], [LIEU].

Consent decides the form: identity "named" keeps the speaker's own name (the pseudonym) but still
removes third parties; "anonymous" removes the pseudonym as well.

:func:`redact_segments` works on plain segment objects (``idx, start, end, text`` and optional
``words`` with ``start, end, word``) and returns the redacted segments, the list of redactions
(which never contains the redacted text itself) and the time spans to bleep in the audio.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import phonenumbers
from rapidfuzz import fuzz
from unidecode import unidecode

DATA = Path(__file__).with_name("data")

PLACEHOLDERS = {"name": "[NOM]", "place": "[LIEU]", "phone": "[TÉLÉPHONE]", "email": "[E-MAIL]", "number": "[NUMÉRO]"}
PHONE_REGIONS = ("ML", "FR", "ES", "MA", "DZ", "LY")
FUZZY_MIN = 85  # rapidfuzz ratio on phonetic keys
PRIORITY = {"email": 0, "term": 1, "phone": 2, "id": 3, "number": 4, "cue": 5, "gazetteer": 6}
CONTEXT_WORDS = 5
ESTIMATE_WIDEN_S = 0.3  # extra margin on each side when a time is estimated from characters


# ------------------------------------------------------------------------------ data shapes
@dataclass(frozen=True)
class Term:
    """A sensitive term as the redactor sees it (built from archive.models.SensitiveTerm)."""

    text: str
    kind: str = "name"  # name / place / phone / other
    id: int | None = None
    ignored: bool = False


@dataclass
class Match:
    start: int  # character offsets in the text
    end: int
    kind: str  # key of PLACEHOLDERS
    source: str  # key of PRIORITY
    term_id: int | None = None
    key: str = ""  # normalised form: the same entity gets the same entity number

    @property
    def placeholder(self) -> str:
        return PLACEHOLDERS[self.kind]


@dataclass
class RedactedTranscript:
    segments: list[dict] = field(default_factory=list)  # [{idx, start, end, text}]
    redactions: list[dict] = field(default_factory=list)  # [{n, segment, start, end, kind, placeholder, ...}]
    spans: list[tuple[float, float]] = field(default_factory=list)  # times to bleep (unpadded)


# ------------------------------------------------------------------------------ normalisation
def phonetic(word: str) -> str:
    """Accent-, case- and spelling-tolerant key: Diarra / Diara / Dyara → "diara"."""
    text = unidecode(word).lower()
    text = re.sub(r"[^a-z0-9]", "", text)
    for old, new in (("ph", "f"), ("dj", "j"), ("ou", "u"), ("w", "u"), ("y", "i"), ("q", "k"), ("c", "k"),
                     ("kh", "k"), ("th", "t"), ("gu", "g")):
        text = text.replace(old, new)
    text = re.sub(r"(?<=[a-z])h", "", text)
    return re.sub(r"(.)\1+", r"\1", text)


WORD = re.compile(r"\w+", re.UNICODE)


def tokens(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(), m.start(), m.end()) for m in WORD.finditer(text)]


@lru_cache
def gazetteer() -> tuple[frozenset[str], frozenset[str]]:
    """(family name keys, given name keys)."""
    def load(name: str) -> frozenset[str]:
        lines = (DATA / name).read_text(encoding="utf-8").splitlines()
        return frozenset(phonetic(line) for line in lines if line.strip() and not line.startswith("#"))

    return load("family_names.txt"), load("given_names.txt")


# ------------------------------------------------------------------------- spoken numbers
UNITS = {"zero": 0, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7,
         "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15,
         "seize": 16}
TENS = {"vingt": 20, "vingts": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60,
        "septante": 70, "huitante": 80, "octante": 80, "nonante": 90}
NUMBER_SEPARATOR = re.compile(r"^(?:[\s,;\-–/]|\.(?!\s))*$")


@dataclass
class _Group:
    start: int
    end: int
    digits: str


class _NumberParser:
    """French number words → digit groups ("soixante-dix-sept" → 77, "zéro six" → 0, 6)."""

    def __init__(self):
        self.groups: list[_Group] = []
        self._reset()

    def _reset(self):
        self.total = self.small = 0
        self.last = None  # unit / tens / dix / cent / mille / digits
        self.count = 0
        self.start = self.end = 0

    def close(self):
        if self.count:
            value = self.total + self.small
            if self.last == "digits":
                digits = self.digits
            elif self.count == 1 and value < 10:
                digits = str(value)
            else:
                digits = f"{value:02d}"
            self.groups.append(_Group(self.start, self.end, digits))
        self._reset()

    def _accepts(self, word: str) -> bool:
        if not self.count:
            return True
        last, small = self.last, self.small
        if last == "digits":
            return False
        if word in UNITS:
            value = UNITS[word]
            if last == "tens":
                return 1 <= value <= 9 or (small % 100 in (60, 80) and 10 <= value <= 19)
            if last == "dix":
                return 7 <= value <= 9 and small % 100 in (10, 70, 90)
            return last in ("cent", "mille")
        if word in TENS:
            if TENS[word] == 20 and last == "unit" and small % 100 == 4:
                return True  # quatre-vingt
            return last in ("cent", "mille")
        if word == "cent":
            return last == "unit" and small < 10
        if word == "mille":
            return last in ("unit", "tens", "cent", "dix") and self.total == 0
        return False

    def feed(self, word: str, start: int, end: int) -> None:
        if not self._accepts(word):
            self.close()
        if not self.count:
            self.start = start
        self.count += 1
        self.end = end
        if word in UNITS:
            value = UNITS[word]
            self.small += value
            self.last = "dix" if value == 10 else "unit"
        elif word in TENS:
            if TENS[word] == 20 and self.last == "unit" and self.small % 100 == 4:
                self.small += 76
            else:
                self.small += TENS[word]
            self.last = "tens"
        elif word == "cent":
            self.small = (self.small or 1) * 100
            self.last = "cent"
        elif word == "mille":
            self.total, self.small = (self.small or 1) * 1000, 0
            self.last = "mille"

    def feed_digits(self, digits: str, start: int, end: int) -> None:
        self.close()
        self.start, self.end, self.count, self.last, self.digits = start, end, 1, "digits", digits
        self.close()


@dataclass
class NumberRun:
    start: int
    end: int
    digits: str
    groups: int
    plus: bool = False


def number_runs(text: str) -> list[NumberRun]:
    """Runs of numbers (digits or French words) separated only by spaces, commas, dashes."""
    parser = _NumberParser()
    words = tokens(text)
    i = 0
    while i < len(words):
        raw, start, end = words[i]
        word = unidecode(raw).lower()
        if raw.isdigit():
            parser.feed_digits(raw, start, end)
        elif word in ("double", "triple") and i + 1 < len(words) and unidecode(words[i + 1][0]).lower() in UNITS \
                and UNITS[unidecode(words[i + 1][0]).lower()] < 10:
            parser.close()
            value = UNITS[unidecode(words[i + 1][0]).lower()]
            parser.feed_digits(str(value) * (2 if word == "double" else 3), start, words[i + 1][2])
            i += 1
        elif word in UNITS or word in TENS or word in ("cent", "cents", "mille"):
            parser.feed("cent" if word == "cents" else word, start, end)
        elif word == "et" and parser.count and parser.last == "tens" and i + 1 < len(words) \
                and unidecode(words[i + 1][0]).lower() in ("un", "une", "onze"):
            pass  # "vingt et un": the next word continues the number
        else:
            parser.close()
        i += 1
    parser.close()
    runs: list[NumberRun] = []
    for group in parser.groups:
        previous = runs[-1] if runs else None
        if previous and NUMBER_SEPARATOR.match(text[previous.end:group.start]):
            previous.end, previous.digits, previous.groups = group.end, previous.digits + group.digits, previous.groups + 1
        else:
            before = text[:group.start].rstrip()
            plus = before.endswith("+") or unidecode(before).lower().endswith("plus")
            runs.append(NumberRun(group.start, group.end, group.digits, 1, plus))
    return runs


def _phone_region(digits: str, plus: bool) -> str | None:
    candidates = [("+" + digits, None)] if plus else []
    if digits.startswith("00"):
        candidates.append(("+" + digits[2:], None))
    candidates += [(digits, region) for region in PHONE_REGIONS]
    for number, region in candidates:
        try:
            parsed = phonenumbers.parse(number, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return region or "international"
    return None


def find_numbers(text: str) -> list[Match]:
    found = []
    for run in number_runs(text):
        if len(run.digits) >= 8 and _phone_region(run.digits, run.plus):
            start = run.start - 1 if run.plus and text[run.start - 1:run.start] == "+" else run.start
            found.append(Match(start, run.end, "phone", "phone", key=run.digits))
        elif len(run.digits) >= 7 or (run.groups >= 3 and len(run.digits) >= 6):
            found.append(Match(run.start, run.end, "number", "number", key=run.digits))
    return found


# ------------------------------------------------------------------------- e-mails and IDs
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
SPOKEN_EMAIL = re.compile(r"\w+(?:\s+(?:point|tiret)\s+\w+)*\s+(?:arobase|at)\s+\w+(?:\s+point\s+\w+)+", re.IGNORECASE)
ID_PATTERNS = (
    re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,4})?\b"),  # IBAN-like
    re.compile(r"\b[XYZ]\d{7}[A-Z]\b"),  # Spanish NIE (alien registration)
    re.compile(r"\b(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{6,}\b"),  # passport / card numbers
)


def find_emails_and_ids(text: str) -> list[Match]:
    found = [Match(m.start(), m.end(), "email", "email", key=m.group().lower()) for m in EMAIL.finditer(text)]
    found += [Match(m.start(), m.end(), "email", "email", key=phonetic(m.group())) for m in SPOKEN_EMAIL.finditer(text)]
    for pattern in ID_PATTERNS:
        found += [Match(m.start(), m.end(), "number", "id", key=m.group().replace(" ", ""))
                  for m in pattern.finditer(text)]
    return found


# ------------------------------------------------------------------------------- names
NAME_CUES = re.compile(
    r"(?:je\s+m['’]appelle|il\s+s['’]appelle|elle\s+s['’]appelle|mon\s+nom\s+(?:est|c['’]est)|nommée?|appelée?|"
    r"prénommée?|monsieur|madame|mademoiselle|M\.|Mme|(?:mon|ma|notre)\s+(?:frère|soeur|sœur|cousin|cousine|"
    r"oncle|tante|ami|amie|père|mère|fils|fille|femme|mari|patron|passeur)|chez)\s+$",
    re.IGNORECASE)
PLACE_CUES = re.compile(r"(?:village|hameau|quartier|campement)\s+(?:de\s+|d['’]|du\s+)?$", re.IGNORECASE)
NOT_NAMES = frozenset(phonetic(w) for w in (
    "Je", "Il", "Elle", "On", "Nous", "Vous", "Ils", "Elles", "Le", "La", "Les", "Un", "Une", "Mon", "Ma", "Mes",
    "Et", "Mais", "Puis", "Alors", "Là", "Quand", "Après", "Avant", "Dieu", "Allah", "Inch", "Monsieur", "Madame",
    "Mme", "Mlle", "M", "Dr", "Docteur", "Maître", "Me", "Mon", "Chez",
))


def _capitalised(word: str) -> bool:
    return word[:1].isupper()


def find_names(text: str) -> list[Match]:
    family, given = gazetteer()
    words = tokens(text)
    hits: set[int] = set()
    places: set[int] = set()
    for i, (word, start, _end) in enumerate(words):
        key = phonetic(word)
        if key in NOT_NAMES or len(key) < 2:
            continue
        if _capitalised(word) and (key in family or key in given):
            hits.add(i)
        elif key in family and len(key) >= 5:  # ASR output sometimes lowercases names
            hits.add(i)
        elif _capitalised(word) and NAME_CUES.search(text[max(0, start - 40):start]):
            hits.add(i)
        elif _capitalised(word) and PLACE_CUES.search(text[max(0, start - 30):start]):
            places.add(i)
    _extend_capitalised(text, words, hits)
    _extend_capitalised(text, words, places)
    return _index_runs(words, hits, "name", "gazetteer") + _index_runs(words, places, "place", "cue")


def _extend_capitalised(text: str, words, hits: set[int]) -> None:
    """A detected name takes the capitalised words right beside it ("Seydou Keïta"), except a
    word that is capitalised only because it starts a sentence ("Bonjour Diarra")."""
    changed = True
    while changed:
        changed = False
        for i in sorted(hits):
            for j in (i - 1, i + 1):
                if 0 <= j < len(words) and j not in hits and _capitalised(words[j][0]) \
                        and phonetic(words[j][0]) not in NOT_NAMES and _adjacent(words, min(i, j)) \
                        and not _sentence_start(text, words[j][1]):
                    hits.add(j)
                    changed = True


def _sentence_start(text: str, position: int) -> bool:
    before = text[:position].rstrip()
    return not before or before[-1] in ".!?:;«\"—–-"


def _adjacent(words, i: int) -> bool:
    return words[i + 1][1] - words[i][2] <= 1


def _index_runs(words, indexes: set[int], kind: str, source: str) -> list[Match]:
    found: list[Match] = []
    for i in sorted(indexes):
        if found and i - 1 in indexes and _adjacent(words, i - 1):
            found[-1].end = words[i][2]
            found[-1].key += " " + phonetic(words[i][0])
        else:
            found.append(Match(words[i][1], words[i][2], kind, source, key=phonetic(words[i][0])))
    return found


# ---------------------------------------------------------------------------- the redactor
TERM_KINDS = {"name": "name", "place": "place", "phone": "phone", "other": "number"}


class Redactor:
    """Finds what must not leave, for one testimony (its terms and consent's identity form)."""

    def __init__(self, terms: Iterable[Term], *, identity: str = "anonymous", pseudonym: str | None = None):
        terms = list(terms)
        self.ignored = {phonetic(t.text) for t in terms if t.ignored}
        self.terms = [t for t in terms if not t.ignored]
        self.keep: set[str] = set()
        if pseudonym and identity == "anonymous":
            self.terms.append(Term(pseudonym, "name"))
        elif pseudonym and identity == "named":  # the speaker's own name may be said
            self.keep = {phonetic(pseudonym)} | {phonetic(w) for w, _, _ in tokens(pseudonym) if len(w) >= 3}
            self.terms = [t for t in self.terms if phonetic(t.text) not in self.keep]

    def find(self, text: str) -> list[Match]:
        found = self._term_matches(text) + find_emails_and_ids(text) + find_numbers(text) + find_names(text)
        found = [m for m in found if m.source == "term" or not self._allowed(m, text)]
        return _merge(found)

    def _allowed(self, match: Match, text: str) -> bool:
        key = phonetic(text[match.start:match.end])
        return key in self.ignored or (match.kind == "name" and bool(self.keep) and (
            key in self.keep or all(phonetic(w) in self.keep for w, _, _ in tokens(text[match.start:match.end]))))

    def _term_matches(self, text: str) -> list[Match]:
        words = tokens(text)
        keys = [phonetic(w) for w, _, _ in words]
        runs = None
        found: list[Match] = []
        for term in self.terms:
            kind = TERM_KINDS.get(term.kind, "name")
            digits = re.sub(r"\D", "", term.text)
            if len(digits) >= 4 and len(digits) >= len(re.sub(r"\W", "", term.text)) - 1:
                runs = runs if runs is not None else number_runs(text)
                found += [Match(r.start, r.end, kind, "term", term.id, digits) for r in runs
                          if digits in r.digits or (len(r.digits) >= 6 and r.digits in digits)]
                continue
            found += self._fuzzy(words, keys, term, kind)
        return found

    def _fuzzy(self, words, keys: list[str], term: Term, kind: str) -> list[Match]:
        parts = [phonetic(w) for w, _, _ in tokens(term.text)]
        wanted = ["".join(parts)]
        if kind in ("name", "place") and len(parts) > 1:  # "Moussa Diarra": "Diarra" alone too
            wanted += [p for p in parts if len(p) >= 4]
        found = []
        for target in wanted:
            width = len(parts) if target == wanted[0] else 1
            # ASR may split one name in two short pieces ("Dia rra"): try two-word windows then
            for size in {width, 2} if width == 1 and 5 <= len(target) <= 8 else {width}:
                for i in range(len(words) - size + 1):
                    candidate = "".join(keys[i:i + size])
                    if size != width and any(not 2 <= len(k) <= 4 for k in keys[i:i + size]):
                        continue
                    if _similar(candidate, target):
                        found.append(Match(words[i][1], words[i + size - 1][2], kind, "term", term.id, wanted[0]))
        return found


def _similar(candidate: str, target: str) -> bool:
    if not candidate or not target:
        return False
    if len(target) <= 3 or len(candidate) <= 3:
        return candidate == target
    return abs(len(candidate) - len(target)) <= max(2, len(target) // 3) and fuzz.ratio(candidate, target) >= FUZZY_MIN


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
    """Redact every segment; locate each redaction in time from the word timestamps."""
    result = RedactedTranscript()
    entities: dict[tuple[str, str], int] = {}
    for segment in segments:
        text = segment.text or ""
        matches = redactor.find(text)
        redacted = apply(text, matches)
        result.segments.append({"idx": segment.idx, "start": segment.start, "end": segment.end, "text": redacted})
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
        result.spans += timing.spoken_spans(redactor)
    return result


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

    def spoken_spans(self, redactor: Redactor) -> list[tuple[float, float]]:
        """Detections on the ASR words themselves (they may spell a name differently from the text)."""
        if not self.words:
            return []
        spans = []
        for match in redactor.find(self.joined):
            indexes = set(self.owner[match.start:match.end])
            if indexes:
                spans.append((self.words[min(indexes)].start, self.words[max(indexes)].end))
        return spans


def merge_spans(spans: Iterable[tuple[float, float]], gap: float = 0.0) -> list[tuple[float, float]]:
    merged: list[list[float]] = []
    for start, end in sorted((float(s), float(e)) for s, e in spans if e > s):
        if merged and start <= merged[-1][1] + gap:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]
