"""Personal data with a shape: phone numbers, long numbers, e-mail addresses, IBANs, ID numbers.

Numbers are found written in digits, in French words ("soixante-seize, douze, trente-quatre"),
or mixed ("soixante-seize 12 34 56"): ``text2num`` reads the French number words (with their
token positions), digit groups are taken as they are, and groups separated only by spaces,
commas, dashes or dots form one run. Phone numbers are checked with ``phonenumbers`` for Mali,
France, Spain, Morocco, Algeria, Libya and international forms. E-mails are found written
("moussa.d@gmail.com", "moussa.d @ gmail . com") or spoken ("moussa point diarra arobase gmail
point com"); IBANs and ID numbers in upper or lower case, with or without spaces.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from text_to_num import find_numbers as spoken_numbers

from archive.text import fold

PLACEHOLDERS = {"name": "[NOM]", "place": "[LIEU]", "phone": "[TÉLÉPHONE]", "email": "[E-MAIL]", "number": "[NUMÉRO]"}
PHONE_REGIONS = ("ML", "FR", "ES", "MA", "DZ", "LY")


@dataclass
class Match:
    start: int  # character offsets in the text
    end: int
    kind: str  # key of PLACEHOLDERS
    source: str  # what found it: email / term / phone / id / number / cue / gazetteer
    term_id: int | None = None
    key: str = ""  # normalised form: the same entity gets the same entity number
    score: float = 100.0  # how sure (fuzzy matches of terms): below the redaction threshold it is a flag
    reason: str = ""  # for flags: why the reviewer should look

    @property
    def placeholder(self) -> str:
        return PLACEHOLDERS[self.kind]


TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)


@dataclass
class _Token:
    """A word or punctuation mark, as text2num reads them."""

    raw: str
    start: int
    end: int

    def text(self) -> str:
        return self.raw

    def nt_separated(self, previous) -> bool:
        return False

    def not_a_number_part(self) -> bool:
        return False


# ------------------------------------------------------------------------------ numbers
NUMBER_SEPARATOR = re.compile(r"^(?:[\s,;\-–/]|\.(?!\s))*$")
REPEAT = {"double": 2, "triple": 3}
# a number followed by one of these is an amount, an age, a count or a duration, not an identifier
UNITS = re.compile(r"\s*(?:de\s+|d['’])?(?:euros?|francs?|fcfa|cfa|dinars?|dirhams?|dollars?|livres?|€|\$|personnes?|gens|ans|"
                   r"années?|mois|jours?|semaines?|heures?|minutes?|km|kilomètres?|kilos?|kg|mètres?|litres?|"
                   r"fois|migrants?|hommes?|femmes?|enfants?)\b", re.IGNORECASE)


@dataclass
class NumberRun:
    start: int
    end: int
    digits: str
    groups: int
    plus: bool = False


def number_runs(text: str) -> list[NumberRun]:
    """Runs of numbers (digits or French words) separated only by spaces, commas, dashes, dots."""
    runs: list[NumberRun] = []
    for start, end, digits in _number_groups(text):
        previous = runs[-1] if runs else None
        if previous and NUMBER_SEPARATOR.match(text[previous.end:start]):
            previous.end, previous.digits, previous.groups = end, previous.digits + digits, previous.groups + 1
        else:
            before = fold(text[:start].rstrip())
            runs.append(NumberRun(start, end, digits, 1, before.endswith("+") or bool(re.search(r"\bplus$", before))))
    return runs


def _number_groups(text: str) -> list[tuple[int, int, str]]:
    """(start, end, digits) of every number: digit tokens and French number words, in order."""
    tokens = [_Token(m.group(), m.start(), m.end()) for m in TOKEN.finditer(text)]
    groups = [(t.start, t.end, t.raw) for t in tokens if t.raw.isdigit() and t.raw.isascii()]
    for found in spoken_numbers(tokens, "fr", 0) if tokens else []:
        if found.is_ordinal:
            continue
        first, digits = found.start, found.text
        before = tokens[first - 1].raw.lower() if first else ""
        if before in REPEAT and len(digits) == 1:  # "double sept" → 77
            first, digits = first - 1, digits * REPEAT[before]
        groups.append((tokens[first].start, tokens[found.end - 1].end, digits))
    return sorted(groups)


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


# "mon numéro, c'est le …", "mon téléphone : …", "appelle-moi au …": a run of number groups after such a
# cue is a phone number even when it is too short to be one, because the recognizer mangled part of
# it; the hyphenated pseudo-words right before the digits are that mangled part ("soit-sort-sais, 12,
# 4, 5, 6" for soixante-seize, douze, trente-quatre, cinquante-six) and go with it.
PHONE_CUE = re.compile(
    r"\b(?:num[ée]ro|t[ée]l[ée]phone|portable|whatsapp|joindre|appel\w*(?:-(?:moi|nous))?)\b", re.IGNORECASE)
CUE_REACH = 40  # characters from the cue to the digits
GARBLED_BEFORE = re.compile(r"(?:\w+(?:-\w+)+[\s,;]*)+$")


def _cued_phones(text: str, runs: list[NumberRun]) -> list[Match]:
    found = []
    for cue in PHONE_CUE.finditer(text):
        run = next((r for r in runs if r.start >= cue.end()), None)
        if run is None or run.groups < 2 or UNITS.match(text, run.end):  # one group: a year, a count
            continue
        between = text[cue.end():run.start]
        if len(between) > CUE_REACH or re.search(r"[.!?;]", between):
            continue
        garbled = GARBLED_BEFORE.search(between)
        start = cue.end() + garbled.start() if garbled else run.start
        # source "cue": where a surer reading (a valid phone, an ID code) covers the same digits, it wins
        found.append(Match(start, run.end, "phone", "cue", key=run.digits))
    return found


def find_numbers(text: str) -> list[Match]:
    """Phone numbers (with the "+" or "plus" said before them, or after a cue such as "mon numéro")
    and other long numbers."""
    runs = number_runs(text)
    found = _cued_phones(text, runs)
    for run in runs:
        if UNITS.match(text, run.end):
            continue
        start = _plus_start(text, run.start) if run.plus else run.start
        if len(run.digits) >= 8 and _phone_region(run.digits, run.plus):
            found.append(Match(start, run.end, "phone", "phone", key=run.digits))
        elif len(run.digits) >= 7 or (run.groups >= 3 and len(run.digits) >= 6):
            found.append(Match(start, _letter_after(text, run.end), "number", "number", key=run.digits))
    return found


def _letter_after(text: str, end: int) -> int:
    """A long number ending with a capital letter ("… 602 X", an ID's check letter) takes it."""
    letter = re.match(r"[ \-]?[A-Z]\b", text[end:])
    return end + letter.end() if letter else end


def _plus_start(text: str, start: int) -> int:
    before = re.search(r"(?:\+|\b[Pp]lus)\s*$", text[:start])
    return before.start() if before else start


# ------------------------------------------------------------------------- e-mails and IDs
EMAIL = re.compile(r"[\w.+-]+\s?@\s?[\w-]+(?:\s?\.\s?[\w-]+)+", re.UNICODE)
AT_WORDS = r"(?:arr?obas(?:e)?|at|@)"
DOMAIN = r"[\w-]+(?:\s*(?:\.|\bpoint\b)\s*[a-z]{2,6}\b)+"
SPOKEN_AT = re.compile(rf"\b{AT_WORDS}\s+({DOMAIN})", re.IGNORECASE)
USER_CONNECTORS = {"point", "tiret", "underscore", "bas", "du", ".", "_", "-"}
USER_STOP = frozenset("""a à au aux ce cet cette c'est est sont mail email adresse courriel mél mon ma mes son sa ses
notre votre leur écrivez ecrivez écris ecris écrire envoyez envoie envoyer sur le la les ou et par de des moi nous vous
il elle je me te se si voici voila voilà que qui pour chez avec dans en y compte numéro numero""".split())
IBAN = re.compile(r"\b[A-Za-z]{2}\d{2}(?:[ \-]?[A-Za-z0-9]{4}){2,7}(?:[ \-]?[A-Za-z0-9]{1,4})?\b")
ID_PATTERNS = (
    IBAN,
    re.compile(r"\b[XYZxyz][ \-.]?\d{7}[ \-.]?[A-Za-z]\b"),  # Spanish NIE (alien registration)
    re.compile(r"\b(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{6,}\b"),  # passport / card numbers
    re.compile(r"\b(?:[A-Z]{1,3}[ \-]?|[a-z]{1,2})\d{6,9}(?:[ \-]?[A-Z])?\b"),  # "CC 747153", "AB 1234567"
)


def find_emails_and_ids(text: str) -> list[Match]:
    found = [Match(m.start(), m.end(), "email", "email", key=re.sub(r"\s", "", m.group()).lower())
             for m in EMAIL.finditer(text)]
    found += _spoken_emails(text)
    for pattern in ID_PATTERNS:
        for m in pattern.finditer(text):
            code = _without_trailing_words(m.group()) if pattern is IBAN else m.group()
            if _looks_like_an_id(code):
                found.append(Match(m.start(), m.start() + len(code), "number", "id",
                                   key=re.sub(r"[\s\-.]", "", code).upper()))
    return found


FUNCTION_WORDS = frozenset("""a à au aux de des du le la les un une et ou en par pour sur sous dans avec chez
sans vers mais donc que qui est sont car puis nom""".split())


def _without_trailing_words(code: str) -> str:
    """An IBAN's groups stop before a French word ("… 5chs au nom de")."""
    groups = code.split(" ")
    while len(groups) > 1 and groups[-1] in FUNCTION_WORDS:
        groups.pop()
    return " ".join(groups)


def _looks_like_an_id(code: str) -> bool:
    """At least six digits, and not more than two all-letter groups (French words have none)."""
    groups = re.split(r"[\s\-.]+", code)
    return sum(ch.isdigit() for ch in code) >= 6 and sum(not any(c.isdigit() for c in g) for g in groups) <= 2


def _spoken_emails(text: str) -> list[Match]:
    """"moussa point diarra arobase gmail point com": the words before "arobase" that can be part of
    an address (no French function word, no punctuation but . _ -) and the domain after it."""
    found = []
    for at in SPOKEN_AT.finditer(text):
        if at.group().lower().startswith("at") and not re.search(r"\.|point", at.group(1)):
            continue
        start = _user_start(text, at.start())
        if start < at.start():
            found.append(Match(start, at.end(), "email", "email", key=re.sub(r"\W", "", text[start:at.end()].lower())))
    return found


def _user_start(text: str, at: int) -> int:
    taken: list[re.Match] = []
    for token in reversed(list(TOKEN.finditer(text[:at]))):
        word = token.group().lower()
        if word in USER_STOP or (not token.group().isalnum() and word not in USER_CONNECTORS) or len(taken) >= 8:
            break
        if word == "du" and not (taken and taken[-1].group().lower() == "bas"):
            break
        taken.append(token)
    while taken and taken[-1].group().lower() in USER_CONNECTORS:  # no dangling "point" before the name
        taken.pop()
    return taken[-1].start() if taken else at
