"""Text folding shared by every package: accent-free matching keys and URL/file name slugs."""
from __future__ import annotations

import re

from unidecode import unidecode

SLUG_MAX = 100


def normalize(text: str) -> str:
    """Lower case, no accents, only letters and digits separated by single spaces."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", unidecode(text).lower()).split())


def slugify(text: str, fallback: str = "episode") -> str:
    """An ASCII slug for URLs and file names: "Démystification : « Kati »" → "demystification-kati"."""
    return normalize(text).replace(" ", "-")[:SLUG_MAX].strip("-") or fallback
