"""Bleeps replace samples: nothing of the word is left, edges are faded, spans padded and merged."""
from __future__ import annotations

import numpy as np

from anonymization import bleep
from tests.conftest import speechlike

RATE = 16000


def test_padding_clipping_and_merging():
    assert bleep.padded([(1.0, 1.5), (1.6, 2.0), (5.0, 5.2)], 0.2, duration=5.3) == [(0.8, 2.2), (4.8, 5.3)]
    assert bleep.padded([(0.1, 0.3)], 0.2) == [(0.0, 0.5)]


def test_silence_leaves_nothing_of_the_span_and_fades_outside_it():
    x = speechlike(4.0, seed=3)
    span = (1.0, 2.0)
    y = bleep.bleep(x, [span], rate=RATE, mode="silence")
    assert np.abs(y[int(1.0 * RATE):int(2.0 * RATE)]).max() == 0.0
    assert np.array_equal(y[:int(0.98 * RATE)], x[:int(0.98 * RATE)])  # untouched beyond the 10 ms fade
    assert np.array_equal(y[int(2.02 * RATE):], x[int(2.02 * RATE):])
    edge = y[int(0.99 * RATE):int(1.0 * RATE)]
    assert np.all(np.abs(edge) <= np.abs(x[int(0.99 * RATE):int(1.0 * RATE)]) + 1e-7)  # a fade, not a jump


def test_tone_replaces_the_word_instead_of_covering_it():
    x = speechlike(3.0, seed=6)
    y = bleep.bleep(x, [(1.0, 1.5)], rate=RATE, mode="tone")
    t = np.arange(len(x)) / RATE
    tone = bleep.TONE_LEVEL * np.sin(2 * np.pi * bleep.TONE_HZ * t)
    inside = slice(int(1.0 * RATE), int(1.5 * RATE))
    assert np.allclose(y[inside], tone[inside], atol=1e-6)  # the speech is gone, only the tone is there


def test_streaming_gives_the_same_result_as_one_block():
    x = speechlike(5.0, seed=7)
    spans = [(0.5, 0.9), (2.0, 3.1), (4.9, 5.0)]
    whole = bleep.bleep(x, spans, rate=RATE, mode="tone")
    parts = np.concatenate(list(bleep.bleep_stream([x[i:i + 777] for i in range(0, len(x), 777)], spans, rate=RATE)))
    assert np.allclose(parts, whole, atol=1e-6)
