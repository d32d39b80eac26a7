"""The one timecode formatter, in each form the archive writes, and the parser it mirrors."""
from __future__ import annotations

import pytest

from archive.errors import InputError
from archive.timecode import format_timecode, parse_timecode

VTT = {}
SRT = {"separator": ","}
SECOND = {"millis": False}  # flags, review tables: the second it is in
NEAREST = {"millis": False, "nearest": True}  # itunes:duration (feeds/build.py)
SHORT = {"millis": False, "nearest": True, "short": True}  # show notes' chapters (studio/shownotes.py)
PROGRESS = {"millis": False, "hour_digits": 1}  # transcription progress (kuma transcribe)


@pytest.mark.parametrize(("seconds", "options", "expected"), [
    (0, VTT, "00:00:00.000"),
    (75.5, VTT, "00:01:15.500"),
    (3725.0004, VTT, "01:02:05.000"),
    (59.9996, VTT, "00:01:00.000"),
    (-2, VTT, "00:00:00.000"),  # before the start is the start
    (75.5, SRT, "00:01:15,500"),
    (360000, SRT, "100:00:00,000"),
    (75.5, SECOND, "00:01:15"),
    (75.9994, SECOND, "00:01:15"),
    (75.9996, SECOND, "00:01:16"),  # as the millisecond form shows it: 00:01:16.000
    (75.5, NEAREST, "00:01:16"),
    (74.5, NEAREST, "00:01:14"),  # halves to even
    (3599.6, NEAREST, "01:00:00"),
    (75.4, SHORT, "01:15"),
    (5.0, SHORT, "00:05"),
    (3725.2, SHORT, "1:02:05"),
    (36000, SHORT, "10:00:00"),
    (5.9, PROGRESS, "0:00:05"),
    (3725.9, PROGRESS, "1:02:05"),
])
def test_each_form(seconds, options, expected):
    assert format_timecode(seconds, **options) == expected


@pytest.mark.parametrize("seconds", [0.0, 0.5, 75.5, 3725.125, 86399.999])
def test_what_is_written_reads_back(seconds):
    assert parse_timecode(format_timecode(seconds)) == pytest.approx(seconds)
    assert parse_timecode(format_timecode(seconds, separator=",")) == pytest.approx(seconds)


@pytest.mark.parametrize("value", ["1:75", "ab", "-3", True, -1, float("nan"), float("inf"), 10 ** 400, "9" * 400,
                                   "1" + "0" * 400 + ":00:00"])
def test_bad_timecodes(value):
    """Refused with a short line (the last four were a NaN, an infinity or an OverflowError)."""
    with pytest.raises(InputError) as caught:
        parse_timecode(value)
    assert len(str(caught.value)) < 120
