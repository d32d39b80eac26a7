"""Language and country codes (ISO 639, ISO 3166): the one home of pycountry."""
from __future__ import annotations

import pycountry


def language_code(code: str) -> str | None:
    """ISO 639-1 where one exists, else ISO 639-3, for a 639-1 or 639-3 code ("fra" → "fr",
    "BAM" → "bm", "dyu" → "dyu"); None when the code is unknown."""
    code = code.strip().lower()
    if len(code) not in (2, 3):
        return None
    found = pycountry.languages.get(**{"alpha_2" if len(code) == 2 else "alpha_3": code})
    return None if found is None else getattr(found, "alpha_2", None) or found.alpha_3


def country_code(code: str) -> str | None:
    """ISO 3166 alpha-2 of an alpha-2 code in any case ("dz" → "DZ"); None when unknown."""
    found = pycountry.countries.get(alpha_2=code.strip().upper())
    return None if found is None else found.alpha_2
