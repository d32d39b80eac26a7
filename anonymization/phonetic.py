"""French phonetic keys for names as a speech recognizer writes them.

Malian and West-African names said in French reach the transcript in many spellings: "Keïta",
"Kéita", "Kaita", "Queïta", the "Ou" of "Seydou" glued to it ("Ouquaita"). :func:`phonetic` folds
what French spelling writes several ways into one form (qu/k/c, ou/u/w, ei/ai/é, y/i, ph/f, dj/j,
silent final letters, doubled letters); :func:`similarity` compares two keys with rapidfuzz's
normalised Indel ratio, also on a coarser key that merges the vowels a recognizer confuses most
(o/ou, é/i), so "Mamado" and "Mamadou" are close but "Kanté" and "Konaté" stay apart.
"""
from __future__ import annotations

import re
from functools import lru_cache

from rapidfuzz import fuzz
from unidecode import unidecode

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
    text = re.sub(r"[^a-z0-9]", "", unidecode(word).lower())
    if mute_e and len(text) > 3:
        text = text[:-1]
    for pattern, replacement in FOLDS:
        text = pattern.sub(replacement, text)
    return re.sub(r"(.)\1+", r"\1", text)


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
