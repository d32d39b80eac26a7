"""archive.languages: ISO 639 and ISO 3166 codes (the one pycountry home)."""
from __future__ import annotations

import pytest

from archive.languages import country_code, language_code


@pytest.mark.parametrize(("code", "expected"), [
    ("fr", "fr"), ("fra", "fr"), (" BAM ", "bm"), ("bm", "bm"), ("dyu", "dyu"), ("snk", "snk"),
    ("xx", None), ("fren", None), ("", None), ("f", None), ("ﬀ", None),
])
def test_language_codes(code, expected):
    assert language_code(code) == expected


@pytest.mark.parametrize(("code", "expected"), [("dz", "DZ"), (" LY", "LY"), ("XX", None), ("FRA", None), ("", None)])
def test_country_codes(code, expected):
    assert country_code(code) == expected
