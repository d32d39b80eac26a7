"""Hypothesis pieces shared by the fuzz tests of what people write (sidecars, rundowns)."""
from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# a hundred and fifty examples a test: enough to find the usual crashes, quick enough for the default suite
BOUNDED = settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
NUMBERS = st.one_of(st.integers(min_value=-(10 ** 400), max_value=10 ** 400), st.floats(allow_nan=True))
TRICKY = ["", " ", "~", "null", "yes", "non", "2026-11-27", "2026-02-30T25:61", "1e400", "-1", "nan", ".inf", "0x1F",
          "00:01:15.5", "1:75", "99:99:99", "\u202e", "Ségou", "a\nb", "\x00", "9" * 400, "[", "{", "*", "&", "!", "%"]


def junk(*tricky: str):
    """Any JSON-like value, nested a little: None, booleans, huge numbers, NaN, text, lists, mappings."""
    scalars = st.one_of(st.none(), st.booleans(), NUMBERS, st.text(max_size=30), st.sampled_from(TRICKY + list(tricky)))
    return st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                          st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                        max_leaves=12)


def documents(fields: list[str], values: dict, any_value):
    """Mappings of some of ``fields`` (and an unknown one), each with its strategy from ``values`` or ``any_value``."""
    return st.dictionaries(st.sampled_from(fields + ["extra"]), any_value, max_size=len(fields)).flatmap(
        lambda base: st.fixed_dictionaries({key: values.get(key, any_value) for key in base}))
