"""Test material for tests/sound: SI-SNR, mixing at a given SNR, generated speech and noise."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

from archive.audio import decode


def si_snr(estimate: np.ndarray, reference: np.ndarray) -> float:
    """Scale-invariant SNR in dB of ``estimate`` against the clean ``reference``."""
    estimate = estimate.astype(np.float64) - estimate.mean()
    reference = reference.astype(np.float64) - reference.mean()
    target = reference * (estimate @ reference) / (reference @ reference)
    return float(10 * np.log10((target @ target) / ((estimate - target) @ (estimate - target))))


def segmental_si_snr(estimate: np.ndarray, reference: np.ndarray, rate: int, window_s: float = 1.0) -> float:
    """Median SI-SNR over ``window_s`` windows where the reference speaks (within 30 dB of its
    loudest window). Insensitive to slow gain changes (a leveler's) that the global SI-SNR counts
    as error although they leave nothing but the level changed."""
    size = int(window_s * rate)
    count = min(estimate.size, reference.size) // size
    windows = [(estimate[k * size:(k + 1) * size], reference[k * size:(k + 1) * size]) for k in range(count)]
    energy = np.array([float(np.mean(r.astype(np.float64) ** 2)) for _, r in windows])
    speaking = energy > energy.max() * 10 ** (-30 / 10)
    return float(np.median([si_snr(e, r) for (e, r), keep in zip(windows, speaking) if keep]))


def mix(speech: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``speech`` plus ``noise`` (looped or cut to its length) scaled to ``snr_db``."""
    noise = np.resize(noise, speech.size).astype(np.float64)
    gain = np.sqrt(np.mean(speech.astype(np.float64) ** 2) / np.mean(noise ** 2) / 10 ** (snr_db / 10))
    return (speech + gain * noise).astype(np.float32)


def pink_noise(samples: int, seed: int = 1) -> np.ndarray:
    """Gaussian noise with a 1/f power spectrum (a fan, a crowd far off, a road)."""
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.normal(size=samples))
    spectrum /= np.sqrt(np.maximum(np.arange(spectrum.size), 1))
    return np.fft.irfft(spectrum, samples).astype(np.float32)


def babble(samples: int, rate: int, voices: int = 6, seed: int = 2) -> np.ndarray:
    """Several ``speechlike`` voices at other pitches summed: a crowd's murmur."""
    from tests.conftest import speechlike

    seconds = samples / rate + 0.1
    talk = [speechlike(seconds, rate, seed=seed + k, f0=90 + 25 * k) for k in range(voices)]
    return np.roll(sum(talk), seed * 997)[:samples].astype(np.float32)


def espeak(text: str, rate: int, tmp: Path, voice: str = "fr") -> np.ndarray | None:
    """``text`` spoken by espeak-ng at ``rate`` (None when espeak-ng is not installed)."""
    if shutil.which("espeak-ng") is None:
        return None
    path = tmp / "espeak.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(path), text], check=True, capture_output=True)
    return decode(path, rate=rate)
