"""Voice disguise: a keyed source-filter transform (WORLD) that hides who speaks and keeps the words.

Keys: :class:`VoiceKey`, derived with HMAC-SHA256 from the archive's secret and the testimony's
*internal* key (never its public id), so its parameters can neither be looked up nor recomputed
from anything that leaves the archive. A :class:`Mode` (light / standard / strong, the one the
witness accepted) sets the ranges the key draws a :class:`PseudoVoice` in.

The disguise (ANONYMIZATION_VERSION 4, :func:`disguise_stream`, what ``kuma voice disguise`` and
the anonymize stage run): WORLD analysis at 5 ms frames (DIO + StoneMask, CheapTrick, D4C), then

- log F0 z-normalised (median, IQR) and given the pseudo-voice's mean and spread: the speaker's own
  register and range are discarded, the shape of the intonation stays. The register (low or high)
  is drawn against the speaker's own, *away* from it with the mode's probability;
- the spectral envelope's frequency axis warped by the key (formants move together, so vowels stay
  apart), and aperiodicity alike;
- (standard, strong) the envelope's long-term mean over the loud frames (timbre, channel) replaced
  by a keyed target, its per-band spread set to the population's, and the same on the
  resynthesised signal (:func:`normalize_output_spectrum`);
- pauses get one keyed floor (room noise and hum go), the level is matched without clipping.

Measured trade-offs are in :data:`MEASURED` and docs/anonymization.md (benchmarks/voice.py).
Version 3 (:func:`disguise_v3`: McAdams pole warping, then a WORLD normalisation that whitened
the envelope's cepstral covariance) hid speakers well but lost most words; it and the McAdams
baseline (:func:`mcadams`, VoicePrivacy B2) stay here as what the benchmark compares against.
Everything is vectorised over frames; long recordings stream through :func:`blockwise` with
bounded memory.
"""
from __future__ import annotations

import hashlib
import hmac
import importlib.machinery
import importlib.util
import pathlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from archive.models import VoiceMode

RATE = 16000
FRAME = 320  # 20 ms at 16 kHz
HOP = 160  # 10 ms
ORDER = 20
ALPHA_RANGE = (0.5, 0.9)
SILENT_FRAME_ENERGY = 1e-8
BLOCK_S = 30.0


# --------------------------------------------------------------------------------------- keys
ENVELOPE_TERMS = 8  # keyed cosine-series terms of the target long-term envelope


def _uniforms(secret: str, internal_key: str, label: bytes) -> list[float]:
    digest = hmac.new(secret.encode(), label + b"\x00" + internal_key.encode(), hashlib.sha256).digest()
    return [int.from_bytes(digest[i:i + 4], "big") / 2**32 for i in range(0, 32, 4)]


@dataclass(frozen=True, repr=False)
class VoiceKey:
    """The per-testimony disguise parameters. Secret: never printed, logged, stored or exported."""

    alpha: float  # McAdams coefficient, uniform in [0.5, 0.9]
    f0_mean: float  # target mean F0 (Hz) the speaker's contour is normalised to
    f0_spread: float  # target standard deviation of log F0
    warp: float  # frequency warp of the envelope (> 1 raises formants), same direction as f0_mean
    tilt: float  # target spectral tilt, dB per octave above 400 Hz
    shape: tuple[float, ...]  # keyed cosine-series coefficients (dB) of the target envelope
    draws: tuple[float, ...] = ()  # the key's uniforms in [0, 1): what a mode turns into a voice

    def __repr__(self) -> str:
        return "VoiceKey(<secret>)"

    @classmethod
    def derive(cls, secret: str, internal_key: str) -> VoiceKey:
        u = _uniforms(secret, internal_key, b"kuma-voice-v2")
        v = _uniforms(secret, internal_key, b"kuma-voice-v2-envelope")
        up = u[1] >= 0.5
        f0_mean = 185.0 + 45.0 * u[2] if up else 95.0 + 35.0 * u[2]
        warp = 1.04 + 0.08 * u[3] if up else 0.96 - 0.08 * u[3]
        return cls(alpha=ALPHA_RANGE[0] + (ALPHA_RANGE[1] - ALPHA_RANGE[0]) * u[0],
                   f0_mean=f0_mean, f0_spread=0.10 + 0.08 * u[4], warp=warp, tilt=-9.0 + 3.0 * u[5],
                   shape=tuple(4.0 * (2 * v[k] - 1) / np.sqrt(k + 1) for k in range(ENVELOPE_TERMS)),
                   draws=tuple(_uniforms(secret, internal_key, b"kuma-voice-v4")
                               + _uniforms(secret, internal_key, b"kuma-voice-v4-envelope")))


# ------------------------------------------------------------------------------ framing helpers
@lru_cache
def _sqrt_hann(n: int = FRAME) -> np.ndarray:
    return np.sqrt(0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n))  # periodic Hann, square root


def _frames(x: np.ndarray) -> np.ndarray:
    """(frames, FRAME) view of ``x``, which must be padded to a whole number of hops."""
    count = (len(x) - FRAME) // HOP + 1
    return np.lib.stride_tricks.as_strided(x, (count, FRAME), (x.strides[0] * HOP, x.strides[0]), writeable=False)


def _overlap_add(frames: np.ndarray, length: int) -> np.ndarray:
    out = np.zeros(length)
    half = FRAME // HOP  # 2: each sample is covered by two frames
    for part in range(half):  # vectorised over frames; 2 iterations
        pieces = frames[:, part * HOP:(part + 1) * HOP]
        out[part * HOP: part * HOP + len(pieces) * HOP] += pieces.reshape(-1)
    return out


# ------------------------------------------------------------------------------- LPC, batched
def lpc(frames: np.ndarray, order: int = ORDER) -> np.ndarray:
    """Autocorrelation-method LPC of every frame: Levinson-Durbin vectorised across frames.

    Returns ``a`` of shape (frames, order + 1) with ``a[:, 0] == 1`` (A(z) = Σ a_k z^-k).
    """
    spectrum = np.fft.rfft(frames, 2 * FRAME, axis=1)
    r = np.fft.irfft(np.abs(spectrum) ** 2, axis=1)[:, :order + 1]
    lag = np.exp(-0.5 * (2 * np.pi * 60 / RATE * np.arange(order + 1)) ** 2)  # 60 Hz lag window
    r = r * lag
    r[:, 0] = r[:, 0] * (1 + 1e-9) + 1e-12  # white-noise correction keeps the recursion stable
    a = np.zeros((len(frames), order + 1))
    a[:, 0] = 1.0
    error = r[:, 0].copy()
    for i in range(1, order + 1):
        acc = r[:, i] + np.einsum("fk,fk->f", a[:, 1:i], r[:, i - 1:0:-1]) if i > 1 else r[:, i].copy()
        k = -acc / error
        a[:, 1:i] = a[:, 1:i] + k[:, None] * a[:, i - 1:0:-1]
        a[:, i] = k
        error = error * (1 - k * k)
    return a


def roots(a: np.ndarray) -> np.ndarray:
    """Roots of every polynomial row ``a`` (leading 1), via batched companion-matrix eigenvalues."""
    count, order = a.shape[0], a.shape[1] - 1
    companion = np.zeros((count, order, order))
    companion[:, 0, :] = -a[:, 1:]
    companion[:, np.arange(1, order), np.arange(order - 1)] = 1.0
    return np.linalg.eigvals(companion)


def poly(poles: np.ndarray) -> np.ndarray:
    """Monic polynomial rows with the given roots (batched ``np.poly``)."""
    count, order = poles.shape
    coeffs = np.zeros((count, order + 1), dtype=complex)
    coeffs[:, 0] = 1.0
    for k in range(order):
        coeffs[:, 1:k + 2] = coeffs[:, 1:k + 2] - poles[:, k:k + 1] * coeffs[:, 0:k + 1]
    return coeffs.real


def warp_poles(poles: np.ndarray, alpha: float) -> np.ndarray:
    """φ → sign(φ)|φ|^α for complex poles; real poles and every magnitude unchanged."""
    angle = np.angle(poles)
    complex_pole = np.abs(poles.imag) > 1e-12
    warped = np.where(complex_pole, np.sign(angle) * np.abs(angle) ** alpha, angle)
    return np.abs(poles) * np.exp(1j * warped)


def fir(frames: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Each frame filtered by its own FIR A(z), zero initial state."""
    out = frames * a[:, :1]
    for k in range(1, a.shape[1]):
        out[:, k:] += a[:, k:k + 1] * frames[:, :-k]
    return out


def all_pole(excitation: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Each frame filtered by its own 1/A(z), zero initial state: the recursion runs along the
    20 ms frame (320 steps), every step vectorised over all frames of the block."""
    order = a.shape[1] - 1
    history = np.zeros((excitation.shape[0], excitation.shape[1] + order))
    taps = a[:, :0:-1]  # a_p … a_1, aligned with history[n : n + order] = y[n-p … n-1]
    for n in range(excitation.shape[1]):
        history[:, n + order] = excitation[:, n] - np.einsum("fk,fk->f", taps, history[:, n:n + order])
    return history[:, order:]


# ---------------------------------------------------------------------------------- McAdams
def mcadams(x: np.ndarray, alpha: float) -> np.ndarray:
    """McAdams-coefficient anonymization of a 16 kHz mono block (same length out)."""
    x = np.asarray(x, dtype=np.float64)
    if len(x) == 0:
        return x.astype(np.float32)
    pad_end = (-len(x)) % HOP + FRAME
    padded = np.concatenate([np.zeros(FRAME - HOP), x, np.zeros(pad_end)])
    window = _sqrt_hann()
    frames = _frames(padded) * window
    energy = np.einsum("fn,fn->f", frames, frames)
    voiced = energy > SILENT_FRAME_ENERGY
    out_frames = frames.copy()
    if voiced.any() and alpha != 1.0:
        active = frames[voiced]
        a = lpc(active)
        a_warped = poly(warp_poles(roots(a), alpha))
        y = all_pole(fir(active, a), a_warped)
        y_energy = np.einsum("fn,fn->f", y, y)
        gain = np.sqrt(energy[voiced] / np.maximum(y_energy, 1e-20))
        out_frames[voiced] = y * np.clip(gain, 0.0, 10.0)[:, None]
    out = _overlap_add(out_frames * window, len(padded))
    return out[FRAME - HOP: FRAME - HOP + len(x)].astype(np.float32)


# ------------------------------------------------------------------------------------- WORLD
@lru_cache
def pyworld():
    """pyworld's compiled module. pyworld 0.3.5's ``__init__`` imports ``pkg_resources`` only for
    its version string, which newer setuptools no longer ship: load the extension directly then."""
    try:
        import pyworld as module

        return module
    except ModuleNotFoundError as exc:
        if exc.name != "pkg_resources":
            raise
    spec = importlib.util.find_spec("pyworld")
    library = next(pathlib.Path(spec.submodule_search_locations[0]).glob("pyworld*.so"))
    loader = importlib.machinery.ExtensionFileLoader("pyworld.pyworld", str(library))
    module_spec = importlib.util.spec_from_file_location("pyworld.pyworld", library, loader=loader)
    module = importlib.util.module_from_spec(module_spec)
    loader.exec_module(module)
    return module


WORLD_FRAME_MS = 10.0
ANALYSIS_FFT = 1024  # CheapTrick needs 3 periods of the lowest F0 (60 Hz) at 16 kHz
SYNTHESIS_BINS = 257  # envelopes are resampled to a 512-point FFT for synthesis (32 ms responses)
F0_FLOOR, F0_CEIL = 60.0, 500.0
MIN_LOG_F0_SPREAD = 0.06  # a nearly monotone speaker's contour is not blown up beyond this
DIO_SPEED = 2  # DIO on a 8 kHz decimation; StoneMask then refines F0 on the full-rate signal
CEPSTRAL_TERMS = 40  # low-quefrency terms of the log envelope whose covariance is replaced
SHRINKAGE = 0.02  # of each term's variance, added to the covariance: short blocks have few frames
OUTPUT_SPREAD = 4.5  # per-bin standard deviation of the output's log spectrum over loud frames (≈ 20 dB)
SPREAD_GAIN_RANGE = (0.5, 2.5)
QUIET_DB = 25.0
DB = np.log(10) / 10  # one decibel of power in natural-log units
CORRECTION_RANGE_DB = (-25.0, 15.0)  # bounds of the envelope correction (band-limited input)


def _log_f0_stats(f0: np.ndarray) -> tuple[float, float] | None:
    """Robust mean and spread of log F0 over voiced frames (median, IQR/1.349: octave errors of
    the tracker must not set the statistics)."""
    voiced = np.log(f0[f0 > 0])
    if len(voiced) < 5:
        return None
    q25, q50, q75 = np.percentile(voiced, [25, 50, 75])
    return q50, max((q75 - q25) / 1.349, MIN_LOG_F0_SPREAD)


def normalize_f0(f0: np.ndarray, key: VoiceKey) -> np.ndarray:
    """Log-F0 z-normalisation of the contour, then the keyed target mean and spread: the speaker's
    own register and range are discarded, only the shape of the intonation stays."""
    stats = _log_f0_stats(f0)
    out = np.zeros_like(f0)
    if stats is None:
        return out if not np.any(f0 > 0) else np.where(f0 > 0, key.f0_mean, 0.0)
    mean, spread = stats
    voiced = f0 > 0
    z = np.clip((np.log(f0[voiced]) - mean) / spread, -3.5, 3.5)
    out[voiced] = np.exp(np.log(key.f0_mean) + key.f0_spread * z)
    return out


def target_envelope(key: VoiceKey, bins: int = SYNTHESIS_BINS) -> np.ndarray:
    """The keyed long-term log envelope (natural log of power) the speaker is normalised to: a
    long-term-average-speech-spectrum shape (high-pass at 100 Hz, keyed tilt above 400 Hz), a keyed
    cosine-series colouring, on a frequency axis warped by the key's VTLN factor."""
    f = np.linspace(0.0, RATE / 2, bins) / key.warp
    high_pass = 10 * np.log10(f ** 2 / (f ** 2 + 100.0 ** 2) + 1e-12)
    tilt = key.tilt * np.log2(1 + f / 400.0)
    phase = np.pi * np.clip(f / (RATE / 2), 0, 1)
    colour = sum(c * np.cos((k + 1) * phase) for k, c in enumerate(key.shape))
    return (high_pass + tilt + colour) * DB


def warp_envelope(envelope: np.ndarray, factor: float) -> np.ndarray:
    """Envelope rows with their frequency axis scaled by ``factor`` (linear interpolation)."""
    bins = envelope.shape[1]
    source = np.clip(np.arange(bins) / factor, 0, bins - 1)
    low = np.floor(source).astype(int)
    high = np.minimum(low + 1, bins - 1)
    frac = source - low
    return envelope[:, low] * (1 - frac) + envelope[:, high] * frac


def _resample_bins(spectra: np.ndarray, bins: int) -> np.ndarray:
    step = (spectra.shape[1] - 1) / (bins - 1)
    if step == int(step):  # 513 → 257 bins: every other bin
        return np.ascontiguousarray(spectra[:, ::int(step)])
    source = np.linspace(0, spectra.shape[1] - 1, bins)
    low = np.minimum(source.astype(int), spectra.shape[1] - 2)
    frac = source - low
    return spectra[:, low] * (1 - frac) + spectra[:, low + 1] * frac


def normalize_envelope(log_envelope: np.ndarray, loud: np.ndarray, key: VoiceKey) -> np.ndarray:
    """Speaker normalisation of the log envelope (frames × bins): the mean over the loud frames
    (the speaker's timbre, vocal-tract resonances on average, channel) is replaced by the keyed
    target, the covariance of the frame-to-frame deviations (how the speaker's resonances move
    together: the shape of their vowel space) by a fixed one (:func:`whiten_deviations`), and the
    deviations (the phonetic content) are frequency-warped by the key. The speaker's own statistics
    are discarded, so nothing in the output can put them back."""
    reference = loud if loud.sum() >= 10 else np.ones(len(log_envelope), dtype=bool)
    frames = log_envelope[reference]
    mean = frames.mean(axis=0)
    # capped before whitening (a tracker error, the edge of the block) and after it (whitening can
    # raise a frame far above the rest: a spike the level matching turns into a quiet rendition
    # with one click)
    deviation = _cap_outliers(log_envelope - mean, reference)
    deviation = _cap_outliers(whiten_deviations(deviation, reference), reference)
    deviation = warp_envelope(deviation, key.warp)
    warped_mean = warp_envelope(mean[None], key.warp)[0]
    correction = _bounded_correction(target_envelope(key, log_envelope.shape[1]) - warped_mean)
    return warped_mean + correction + deviation


def _cap_outliers(deviation: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Deviations capped, per bin, at what the ``reference`` frames reach (99th percentile) plus 6 dB."""
    return np.minimum(deviation, np.percentile(deviation[reference], 99, axis=0) + 6 * DB)


def target_cepstral_spread(terms: int = CEPSTRAL_TERMS) -> np.ndarray:
    """Standard deviation of each cepstral term (orthonormal DCT of the log envelope, natural log)
    that deviations are given: a power law close to what several voices of ../shared/media show
    (a speaker-independent profile, so it carries nobody's vowel space)."""
    return 32.0 * np.arange(1, terms + 1) ** -0.8


def whiten_deviations(deviation: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """The low-quefrency cepstrum of the deviations (frames × bins) is whitened with the speaker's
    own covariance over the ``reference`` frames (symmetric, ZCA: the rotation closest to the
    identity, so each term keeps its meaning) and given the fixed spread of
    :func:`target_cepstral_spread`. Term 0 is the frame level: the speaker's loudness dynamics go
    too. Per-bin spreads alone leave the correlations between bands, which a trained neural
    verifier separates speakers by (resemblyzer, same key for everyone: equal-error rate 25 % with
    per-bin spreads, 46 % with this and the wider output spread, over 8 keys)."""
    from scipy.fft import dct, idct

    cepstrum = dct(deviation, type=2, norm="ortho", axis=1)
    terms = min(CEPSTRAL_TERMS, cepstrum.shape[1])
    low = cepstrum[:, :terms]
    target = target_cepstral_spread(terms)
    covariance = np.atleast_2d(np.cov(low[reference], rowvar=False))
    covariance += SHRINKAGE * np.diag(np.maximum(np.diag(covariance), 1e-6))
    eigenvalues, vectors = np.linalg.eigh(covariance)
    white = low @ ((vectors * np.maximum(eigenvalues, 1e-12) ** -0.5) @ vectors.T)
    white /= np.maximum(white[reference].std(axis=0), 1e-6)
    cepstrum[:, :terms] = white * target
    return idct(cepstrum, type=2, norm="ortho", axis=1)


def replace_quiet_frames(log_envelope: np.ndarray, key: VoiceKey) -> np.ndarray:
    """Frames more than QUIET_DB below the loud ones (pauses: room noise, hum, distant voices —
    the recording place and device) get one keyed floor envelope instead."""
    level = log_envelope.max(axis=1)
    floor = np.percentile(level, 90) - QUIET_DB * DB
    quiet = level < floor
    target = target_envelope(key, log_envelope.shape[1])
    out = log_envelope.copy()
    out[quiet] = target - target.max() + floor - 10 * DB
    return out


def world_transform(x: np.ndarray, key: VoiceKey) -> np.ndarray:
    """Speaker normalisation in the WORLD domain, resynthesised (same length out): the log-F0
    contour and the envelope statistics are mapped to the key's target voice."""
    x = np.asarray(x, dtype=np.float64)
    if len(x) < FRAME or not np.any(np.abs(x) > 1e-6):
        return x.astype(np.float32)
    world = pyworld()
    f0, times = world.dio(x, RATE, frame_period=WORLD_FRAME_MS, f0_floor=F0_FLOOR, f0_ceil=F0_CEIL, speed=DIO_SPEED)
    f0 = world.stonemask(x, f0, times, RATE)
    envelope = world.cheaptrick(x, f0, times, RATE, f0_floor=F0_FLOOR, fft_size=ANALYSIS_FFT)
    aperiodicity = _resample_bins(_aperiodicity(world, x, f0, times), SYNTHESIS_BINS)
    log_envelope = np.log(_resample_bins(envelope, SYNTHESIS_BINS) + 1e-16)
    level = log_envelope.max(axis=1)
    loud = level >= np.quantile(level, 0.3)
    log_envelope = replace_quiet_frames(normalize_envelope(log_envelope, loud, key), key)
    y = world.synthesize(normalize_f0(f0, key), np.ascontiguousarray(np.exp(log_envelope)),
                         np.ascontiguousarray(aperiodicity), RATE, WORLD_FRAME_MS)
    y = np.pad(y[:len(x)], (0, max(0, len(x) - len(y))))
    y = normalize_output_spectrum(y, key)
    rms_in, rms_out = np.sqrt(np.mean(x * x)), np.sqrt(np.mean(y * y))
    if rms_out > 0:
        y = y * (rms_in / rms_out)
    return y.astype(np.float32)


OUTPUT_FFT, OUTPUT_HOP = 512, 128  # 32 ms frames, 75 % overlap (COLA for a Hann window)
OUTPUT_SMOOTHING = 11  # bins (≈ 340 Hz): wider than the harmonic spacing of any voice


def normalize_output_spectrum(y: np.ndarray, key, *, spread_pull: float = 1.0) -> np.ndarray:
    """Speaker normalisation measured on the resynthesised signal itself: per STFT bin, the mean
    log power over the loud frames is set to the keyed target and the spread of its deviations to
    the fixed one. WORLD's envelope is not the spectrum it synthesises (pulse/noise excitation,
    the speaker's own aperiodicity), so what the envelope step leaves of the speaker's long-term
    spectrum and of its variability, the statistics speaker verifiers rest on, goes here."""
    from scipy.signal import istft, stft

    _, _, spectrum = stft(y, RATE, nperseg=OUTPUT_FFT, noverlap=OUTPUT_FFT - OUTPUT_HOP)
    # the statistics of the envelope, not of single bins: harmonics and the randomness of a
    # noise bin are smoothed away first (and left untouched by the change)
    log_power = np.log(np.abs(spectrum) ** 2 + 1e-12).T  # frames × bins
    envelope = _smooth_bins(log_power, OUTPUT_SMOOTHING)
    level = envelope.max(axis=1)
    loud = level >= np.quantile(level, 0.3)
    if loud.sum() < 10:
        return y
    mean = envelope[loud].mean(axis=0)
    target = mean + _bounded_correction(target_envelope(key, envelope.shape[1]) - mean)
    gain = np.clip(OUTPUT_SPREAD / np.maximum(envelope[loud].std(axis=0), 1e-3), *SPREAD_GAIN_RANGE) ** spread_pull
    change = target + (envelope - mean) * gain - envelope
    _, out = istft(spectrum * np.exp(change.T / 2), RATE, nperseg=OUTPUT_FFT, noverlap=OUTPUT_FFT - OUTPUT_HOP)
    return np.pad(out[:len(y)], (0, max(0, len(y) - len(out))))


def _smooth_bins(rows: np.ndarray, width: int) -> np.ndarray:
    """Each row smoothed along its bins by a normalised Hann kernel (edges: renormalised)."""
    from scipy.ndimage import convolve1d

    kernel = np.hanning(width + 2)[1:-1]
    weight = convolve1d(np.ones(rows.shape[1]), kernel, mode="constant")
    return convolve1d(rows, kernel, axis=1, mode="constant") / weight


def _bounded_correction(correction: np.ndarray) -> np.ndarray:
    """A log-power correction per bin, levelled on the speech band and bounded: a band the
    recording does not contain (phone line above 3.4 kHz) must not be boosted into audible noise."""
    freqs = np.linspace(0.0, RATE / 2, len(correction))
    correction = correction - np.median(correction[(freqs > 300) & (freqs < 3400)])
    low, high = (bound * DB for bound in CORRECTION_RANGE_DB)
    return np.clip(correction, low, high)


def _aperiodicity(world, x: np.ndarray, f0: np.ndarray, times: np.ndarray) -> np.ndarray:
    """D4C on every other frame, linearly interpolated in time (aperiodicity changes slowly; D4C
    is the costliest analysis step)."""
    coarse = world.d4c(x, np.ascontiguousarray(f0[::2]), np.ascontiguousarray(times[::2]), RATE,
                       fft_size=ANALYSIS_FFT)
    out = np.empty((len(f0), coarse.shape[1]))
    out[::2] = coarse
    odd = out[1::2]
    following = coarse[1:len(odd) + 1]
    odd[:len(following)] = 0.5 * (coarse[:len(following)] + following)
    odd[len(following):] = coarse[-1]
    return out


# ------------------------------------------------------------------------------- streaming
def blockwise(chunks: Iterable[np.ndarray], fn: Callable[[np.ndarray], np.ndarray], *,
              block: int, margin: int, fade: int = 0) -> Iterator[np.ndarray]:
    """Apply a length-preserving ``fn`` to a stream in blocks of ``block`` samples, each processed
    with ``margin`` samples of context on both sides (discarded), and ``fade`` samples of
    raised-cosine crossfade between neighbouring blocks. Memory: O(block + 2·margin)."""
    assert fade <= margin
    buffer = np.zeros(0, dtype=np.float32)
    buffer_start = 0  # absolute index of buffer[0]
    position = 0  # next absolute sample to emit
    tail: np.ndarray | None = None
    ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(fade) + 0.5) / fade) if fade else np.zeros(0)

    def run(end_of_stream: bool) -> Iterator[np.ndarray]:
        nonlocal buffer, buffer_start, position, tail
        while True:
            known = buffer_start + len(buffer)
            if position >= known or (not end_of_stream and known < position + block + margin):
                return
            lo, hi = max(position - margin, buffer_start), min(position + block + margin, known)
            out = fn(buffer[lo - buffer_start:hi - buffer_start])
            stop = min(position + block, known)
            body = out[position - lo:stop - lo].astype(np.float32)
            if tail is not None and len(tail):
                n = min(len(tail), len(body))
                body[:n] = body[:n] * ramp[:n] + tail[:n] * (1 - ramp[:n])
            tail = out[stop - lo:min(stop + fade, hi) - lo] if fade else None
            yield body
            position = stop
            drop = max(0, position - margin - buffer_start)
            buffer, buffer_start = buffer[drop:], buffer_start + drop

    for chunk in chunks:
        buffer = np.concatenate([buffer, np.asarray(chunk, dtype=np.float32)])
        yield from run(False)
    yield from run(True)


def disguise_v3_stream(chunks: Iterable[np.ndarray], key: VoiceKey, *, source: bool = True,
                       block_s: float = BLOCK_S) -> Iterator[np.ndarray]:
    """ANONYMIZATION_VERSION 3 (kept to compare against): McAdams, then (``source``) the WORLD
    transform with whitened envelope covariance. It hides the speaker but loses the words."""
    block = int(block_s * RATE) // HOP * HOP
    stream = blockwise(chunks, lambda x: mcadams(x, key.alpha), block=block, margin=FRAME)
    if source:
        stream = blockwise(stream, lambda x: world_transform(x, key), block=block,
                           margin=RATE // 2, fade=RATE // 50)
    for chunk in stream:
        yield np.clip(chunk, -1.0, 1.0)


def disguise_v3(x: np.ndarray, key: VoiceKey, *, source: bool = True) -> np.ndarray:
    parts = list(disguise_v3_stream([np.asarray(x, dtype=np.float32)], key, source=source))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


# ------------------------------------------------------------------------ v4: modes and voices
Mode = VoiceMode  # how strongly a witness's voice is disguised: the consent record names the one accepted
DEFAULT_MODE = Mode.STANDARD  # also the consent record's default


@dataclass(frozen=True)
class Strength:
    """What a mode allows the key to draw, and how much of the speaker's own statistics go."""

    f0_low: tuple[float, float]  # target mean F0 range (Hz), low register
    f0_high: tuple[float, float]  # target mean F0 range (Hz), high register
    f0_spread: tuple[float, float]  # target standard deviation of log F0
    warp: tuple[float, float]  # |log| of the envelope's frequency warp, drawn in this range
    tilt: tuple[float, float]  # target spectral tilt, dB per octave above 400 Hz
    colour_db: float  # amplitude of the keyed envelope colouring
    spread_pull: float  # 0: keep the speaker's per-band envelope spread; 1: the population's
    output_step: bool  # normalise the long-term spectrum measured on the resynthesised signal too
    ltas: bool = True  # replace the envelope's long-term mean (timbre, channel) by the key's target
    away: float = 0.5  # chance that the key's register is the other one than the speaker's (0.5: either)


STRENGTHS: dict[Mode, Strength] = {
    # F0 mapped and formants warped only: the words as WORLD resynthesis keeps them, the speaker's
    # timbre and channel stay (a trained verifier still links most utterances)
    Mode.LIGHT: Strength(f0_low=(90.0, 130.0), f0_high=(180.0, 240.0), f0_spread=(0.08, 0.18),
                         warp=(0.06, 0.12), tilt=(-10.0, -5.0), colour_db=0.0, spread_pull=0.0,
                         output_step=False, ltas=False),
    # + long-term envelope replaced by a keyed one, per-band spread set to the population's (on
    # the envelope and on the output), wider warps, register mostly moved away from the speaker's
    Mode.STANDARD: Strength(f0_low=(85.0, 130.0), f0_high=(180.0, 250.0), f0_spread=(0.08, 0.20),
                            warp=(0.12, 0.22), tilt=(-11.0, -4.0), colour_db=5.0, spread_pull=1.0,
                            output_step=True, away=0.8),
    Mode.STRONG: Strength(f0_low=(80.0, 125.0), f0_high=(185.0, 255.0), f0_spread=(0.08, 0.20),
                          warp=(0.15, 0.25), tilt=(-12.0, -4.0), colour_db=6.0, spread_pull=1.0,
                          output_step=True, away=0.85),
}


# What benchmarks/voice.py measured for each mode (10 LibriSpeech readers × 10 utterances, every
# utterance its own key; GE2E neural verifier; WER added by Whisper base; one core). Printed by
# `kuma voice modes`; docs/anonymization.md quotes the same run.
MEASURED: dict[Mode, dict[str, float]] = {
    Mode.LIGHT: {"eer_ignorant": 0.119, "eer_lazy": 0.144, "wer_added": 0.143, "speed": 27.7},
    Mode.STANDARD: {"eer_ignorant": 0.444, "eer_lazy": 0.373, "wer_added": 0.242, "speed": 30.8},
    Mode.STRONG: {"eer_ignorant": 0.479, "eer_lazy": 0.377, "wer_added": 0.258, "speed": 32.3},
}


@dataclass(frozen=True)
class PseudoVoice:
    """The target voice a key draws within a mode's ranges. Printable (``kuma voice disguise
    --json``): it is derived from the secret and cannot give it back."""

    f0_mean: float
    f0_spread: float
    warp: float
    tilt: float
    shape: tuple[float, ...]
    spread_pull: float
    output_step: bool
    ltas: bool = True

    @classmethod
    def draw(cls, key: VoiceKey, strength: Strength, speaker_f0: float | None = None) -> PseudoVoice:
        """The key's voice within ``strength``. Its register (low or high) is the other one than
        the speaker's (median F0 ``speaker_f0``, split at REGISTER_SPLIT_HZ) with probability
        ``strength.away``, drawn from the key: a voice moved to the other register is far from the
        original (an attacker holding original recordings), and keeping some keys in the
        speaker's own register stops the register from telling the speaker's back."""
        u = key.draws
        away = 0.5 if speaker_f0 is None else strength.away
        speaker_low = speaker_f0 is None or speaker_f0 < REGISTER_SPLIT_HZ
        up = u[0] < away if speaker_low else u[0] >= away
        low, high = strength.f0_high if up else strength.f0_low
        warp = np.exp((1 if up else -1) * (strength.warp[0] + (strength.warp[1] - strength.warp[0]) * u[2]))
        return cls(f0_mean=low + (high - low) * u[1],
                   f0_spread=strength.f0_spread[0] + (strength.f0_spread[1] - strength.f0_spread[0]) * u[3],
                   warp=float(warp), tilt=strength.tilt[0] + (strength.tilt[1] - strength.tilt[0]) * u[4],
                   shape=tuple(strength.colour_db * (2 * u[8 + k] - 1) / np.sqrt(k + 1) for k in range(ENVELOPE_TERMS)),
                   spread_pull=strength.spread_pull, output_step=strength.output_step, ltas=strength.ltas)

    def describe(self) -> dict:
        return {"f0_mean_hz": round(self.f0_mean, 1), "f0_spread": round(self.f0_spread, 3),
                "formant_warp": round(self.warp, 3), "tilt_db_per_octave": round(self.tilt, 2),
                "envelope_colour_db": [round(c, 2) for c in self.shape],
                "spread_pull": self.spread_pull, "output_step": self.output_step, "ltas": self.ltas}


REGISTER_SPLIT_HZ = 165.0  # median F0 between the usual ranges of men's and women's voices
REGISTER_MIN_VOICED_S = 1.0  # of voiced frames before a speaker's register is judged


def pseudo_voice(key: VoiceKey, mode: Mode | str = DEFAULT_MODE, speaker_f0: float | None = None) -> PseudoVoice:
    return PseudoVoice.draw(key, STRENGTHS[Mode(mode)], speaker_f0)


V4_FRAME_MS = 5.0  # 10 ms frames cost 3 more WER points (Whisper base, LibriSpeech): transitions blur
POPULATION_SPREAD_DB = 12.5  # per-band spread of the log envelope over loud frames: median of 20 LibriSpeech utterances


@dataclass(frozen=True)
class WorldAnalysis:
    f0: np.ndarray
    log_envelope: np.ndarray  # frames × SYNTHESIS_BINS, natural log of power
    aperiodicity: np.ndarray  # frames × SYNTHESIS_BINS

    @property
    def median_f0(self) -> float | None:
        voiced = self.f0[self.f0 > 0]
        return float(np.median(voiced)) if len(voiced) * V4_FRAME_MS / 1000 >= REGISTER_MIN_VOICED_S else None


def analyze(x: np.ndarray) -> WorldAnalysis:
    """WORLD analysis at 5 ms frames: DIO + StoneMask F0, CheapTrick envelope, D4C aperiodicity (on 10 ms frames)."""
    world = pyworld()
    f0, times = world.dio(x, RATE, frame_period=V4_FRAME_MS, f0_floor=F0_FLOOR, f0_ceil=F0_CEIL, speed=DIO_SPEED)
    f0 = world.stonemask(x, f0, times, RATE)
    envelope = world.cheaptrick(x, f0, times, RATE, f0_floor=F0_FLOOR, fft_size=ANALYSIS_FFT)
    aperiodicity = _aperiodicity(world, x, f0, times)  # every other frame: half of D4C's cost, the most of any step
    return WorldAnalysis(f0, np.log(_resample_bins(envelope, SYNTHESIS_BINS) + 1e-16),
                         _resample_bins(aperiodicity, SYNTHESIS_BINS))


def _silent(x: np.ndarray) -> bool:
    return len(x) < FRAME or not np.any(np.abs(x) > 1e-6)


def world_disguise(x: np.ndarray, target: PseudoVoice, analysis: WorldAnalysis | None = None) -> np.ndarray:
    """Source-filter disguise in the WORLD domain (same length out): F0 contour mapped to the
    pseudo-speaker's register and range, the envelope's long-term mean replaced by the target's and
    its frequency axis warped (formants move together, vowels stay apart), per-band spread pulled
    toward the population's by ``spread_pull``; aperiodicity warped alike."""
    x = np.asarray(x, dtype=np.float64)
    if _silent(x):
        return x.astype(np.float32)
    analysis = analysis or analyze(x)
    log_envelope = analysis.log_envelope
    level = log_envelope.max(axis=1)
    loud = level >= np.quantile(level, 0.3)
    log_envelope = replace_quiet_frames(_map_envelope(log_envelope, loud, target), target)
    aperiodicity = np.clip(warp_envelope(analysis.aperiodicity, target.warp), 0.0, 1.0)
    y = pyworld().synthesize(normalize_f0(analysis.f0, target), np.ascontiguousarray(np.exp(log_envelope)),
                             np.ascontiguousarray(aperiodicity), RATE, V4_FRAME_MS)
    y = np.pad(y[:len(x)], (0, max(0, len(x) - len(y))))
    if target.output_step:
        y = normalize_output_spectrum(y, target, spread_pull=target.spread_pull)
    return _matched_level(y, x)


class Disguiser:
    """One recording's disguise, block after block: the pseudo-voice is drawn once, on the first
    block with enough voiced speech to judge the speaker's register, and kept for the rest."""

    def __init__(self, key: VoiceKey, mode: Mode | str = DEFAULT_MODE, *, strength: Strength | None = None):
        self.key, self.strength = key, strength or STRENGTHS[Mode(mode)]
        self.target: PseudoVoice | None = None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if _silent(x):
            return x.astype(np.float32)
        analysis = analyze(x)
        target = self.target or PseudoVoice.draw(self.key, self.strength, analysis.median_f0)
        if self.target is None and analysis.median_f0 is not None:
            self.target = target
        return world_disguise(x, target, analysis)


PEAK_CEILING = 0.97


def _matched_level(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``y`` at the RMS level of ``x``, lowered if that would clip: the new voice's peaks are not
    the speaker's, and clipping is distortion on air."""
    rms_in, rms_out = np.sqrt(np.mean(x * x)), np.sqrt(np.mean(y * y))
    if rms_out == 0:
        return y.astype(np.float32)
    gain = rms_in / rms_out
    peak = np.abs(y).max() * gain
    if peak > PEAK_CEILING:
        gain *= PEAK_CEILING / peak
    return (y * gain).astype(np.float32)


def _map_envelope(log_envelope: np.ndarray, loud: np.ndarray, target: PseudoVoice) -> np.ndarray:
    reference = loud if loud.sum() >= 10 else np.ones(len(log_envelope), dtype=bool)
    mean = log_envelope[reference].mean(axis=0)
    deviation = _cap_outliers(log_envelope - mean, reference)
    if target.spread_pull:
        spread = np.maximum(deviation[reference].std(axis=0), 1e-3)
        deviation = deviation * np.clip(POPULATION_SPREAD_DB * DB / spread, *SPREAD_GAIN_RANGE) ** target.spread_pull
    deviation = warp_envelope(deviation, target.warp)
    warped_mean = warp_envelope(mean[None], target.warp)[0]
    if not target.ltas:
        return warped_mean + deviation
    correction = _bounded_correction(target_envelope(target, log_envelope.shape[1]) - warped_mean)
    return warped_mean + correction + deviation


def disguise_stream(chunks: Iterable[np.ndarray], key: VoiceKey, mode: Mode | str = DEFAULT_MODE, *,
                    block_s: float = BLOCK_S, disguiser: Disguiser | None = None) -> Iterator[np.ndarray]:
    """Disguise a 16 kHz mono stream with ``key``'s pseudo-voice in ``mode`` (same length out).
    What the pipeline's renditions and ``kuma voice disguise`` both run; pass a ``disguiser`` to
    read the pseudo-voice it settled on afterwards."""
    disguiser = disguiser or Disguiser(key, mode)
    block = int(block_s * RATE) // HOP * HOP
    for chunk in blockwise(chunks, disguiser, block=block, margin=RATE // 2, fade=RATE // 50):
        yield np.clip(chunk, -1.0, 1.0)


def disguise(x: np.ndarray, key: VoiceKey, mode: Mode | str = DEFAULT_MODE) -> np.ndarray:
    """Whole-array convenience wrapper over :func:`disguise_stream`."""
    parts = list(disguise_stream([np.asarray(x, dtype=np.float32)], key, mode))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


# --------------------------------------------------------------- speaker similarity (checks)
def mfcc(x: np.ndarray, rate: int = RATE, *, coefficients: int = 20, bands: int = 40) -> np.ndarray:
    """MFCCs (frames × coefficients, c0 dropped) of the louder 70 % of 25 ms frames."""
    from scipy.fft import dct

    x = np.asarray(x, dtype=np.float64)
    size, hop, nfft = int(0.025 * rate), int(0.01 * rate), 512
    x = np.concatenate([x, np.zeros(max(0, size - len(x)))])
    x = np.append(x[0], x[1:] - 0.97 * x[:-1])
    count = (len(x) - size) // hop + 1
    frames = np.lib.stride_tricks.as_strided(x, (count, size), (x.strides[0] * hop, x.strides[0])) * np.hamming(size)
    power = np.abs(np.fft.rfft(frames, nfft)) ** 2
    mel = lambda f: 2595 * np.log10(1 + f / 700)
    edges = 700 * (10 ** (np.linspace(mel(60), mel(rate / 2), bands + 2) / 2595) - 1)
    bins = np.fft.rfftfreq(nfft, 1 / rate)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    filters = np.maximum(0, np.minimum((bins - lower) / (centre - lower), (upper - bins) / (upper - centre)))
    energies = np.log(power @ filters.T + 1e-10)
    loud = energies.sum(1) >= np.quantile(energies.sum(1), 0.3)
    return dct(energies[loud], type=2, norm="ortho", axis=1)[:, 1:coefficients + 1]


def speaker_embedding(x: np.ndarray, rate: int = RATE) -> np.ndarray:
    """MFCC statistics (mean and standard deviation, mean-normalised per utterance)."""
    coeffs = mfcc(x, rate)
    return np.concatenate([coeffs.mean(0), coeffs.std(0)])


def cosine_scores(a: list[np.ndarray], b: list[np.ndarray], centre: np.ndarray) -> np.ndarray:
    """Cosine similarity of every embedding of ``a`` with every one of ``b`` after centring."""
    def norm(e):
        e = np.asarray(e) - centre
        return e / np.linalg.norm(e, axis=-1, keepdims=True)

    return norm(np.stack(a)) @ norm(np.stack(b)).T


def equal_error_rate(scores: np.ndarray, target: np.ndarray) -> float:
    """Where false acceptances and false rejections meet, over every threshold a score sets:
    ``scores`` of trials, ``target`` True where both sides are the same speaker."""
    order = np.argsort(-scores, kind="stable")
    ranked, hits = scores[order], target[order]
    false_accept = np.cumsum(~hits) / max(1, (~hits).sum())
    false_reject = 1 - np.cumsum(hits) / max(1, hits.sum())
    thresholds = np.append(ranked[1:] != ranked[:-1], True)  # the last trial of each tie accepts them all
    return float(np.min(np.maximum(false_accept, false_reject)[thresholds]))
