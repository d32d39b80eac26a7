"""The one wrapper around faster-whisper. Nothing else in Kuma imports ``faster_whisper``.

Settings pick the model (a size name, or a local CTranslate2 directory), the device, compute type
and threads; :class:`TranscribeOptions` holds the decoding options, tuned for long, noisy field
recordings. :func:`resolve_language` says, before any model is loaded, whether a testimony can
be transcribed at all (Bambara and other languages Whisper does not know need a dedicated model
from ``settings.language_models`` or a human transcript).
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from archive.errors import ConfigError
from archive.languages import language_code
from archive.settings import Settings

SAMPLE_RATE = 16000  # what Whisper listens at; the working copy is already 16 kHz mono


@dataclass(frozen=True)
class TranscribeOptions:
    """Decoding options. Defaults are for the archive: long, noisy, one-speaker-at-a-time field
    recordings, where hallucinated text in silences is the worst failure."""

    beam_size: int = 5
    temperature: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    word_timestamps: bool = True
    # Each window decoded on its own: one hallucination cannot propagate through an hour of audio.
    condition_on_previous_text: bool = False
    # Skip silent stretches > 2 s around segments that look hallucinated (needs word timestamps).
    hallucination_silence_threshold: float | None = 2.0
    no_speech_threshold: float = 0.6
    log_prob_threshold: float = -1.0
    compression_ratio_threshold: float = 2.4
    # Silero VAD (shipped inside faster-whisper): field recordings have long pauses, background
    # talk and street noise; pauses of 1 s split speech, 400 ms of padding keep word edges.
    vad_filter: bool = True
    vad_threshold: float = 0.5
    vad_min_speech_ms: int = 250
    vad_min_silence_ms: int = 1000
    vad_speech_pad_ms: int = 400
    max_new_tokens: int | None = None  # only for tests and experiments
    # 0: the sequential transcriber. N > 0: the batched pipeline, N chunks at a time (faster; it
    # ignores condition_on_previous_text, hallucination_silence_threshold and temperature fallback).
    batch_size: int = 0

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["temperature"] = list(self.temperature)
        return values

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> TranscribeOptions:
        return cls(**{"batch_size": settings.whisper_batch_size, **overrides})

    def vad_parameters(self) -> dict[str, Any]:
        return {"threshold": self.vad_threshold, "min_speech_duration_ms": self.vad_min_speech_ms,
                "min_silence_duration_ms": self.vad_min_silence_ms, "speech_pad_ms": self.vad_speech_pad_ms}

    def transcribe_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of ``WhisperModel.transcribe`` these options stand for."""
        kwargs: dict[str, Any] = dict(
            beam_size=self.beam_size, temperature=list(self.temperature), word_timestamps=self.word_timestamps,
            condition_on_previous_text=self.condition_on_previous_text,
            hallucination_silence_threshold=self.hallucination_silence_threshold,
            no_speech_threshold=self.no_speech_threshold, log_prob_threshold=self.log_prob_threshold,
            compression_ratio_threshold=self.compression_ratio_threshold,
            vad_filter=self.vad_filter, vad_parameters=self.vad_parameters() if self.vad_filter else None,
        )
        if self.max_new_tokens:
            kwargs["max_new_tokens"] = self.max_new_tokens
        return kwargs

    def batched_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = dict(
            batch_size=self.batch_size, beam_size=self.beam_size, word_timestamps=self.word_timestamps,
            no_speech_threshold=self.no_speech_threshold, log_prob_threshold=self.log_prob_threshold,
            compression_ratio_threshold=self.compression_ratio_threshold,
            vad_filter=True, vad_parameters=self.vad_parameters(),
        )
        if self.max_new_tokens:
            kwargs["max_new_tokens"] = self.max_new_tokens
        return kwargs


@dataclass
class AsrWord:
    start: float
    end: float
    word: str
    probability: float | None


@dataclass
class AsrSegment:
    start: float
    end: float
    text: str
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    compression_ratio: float | None = None
    temperature: float | None = None
    words: list[AsrWord] = field(default_factory=list)


@dataclass
class AsrResult:
    """What one run produced. ``segments`` is lazy: iterate it to decode (and to follow progress)."""

    language: str | None
    language_probability: float | None
    duration: float
    segments: Iterator[AsrSegment]
    speech_duration: float | None = None  # what Silero VAD kept (None: VAD off)


@dataclass(frozen=True)
class LanguagePlan:
    """How a testimony's language will be transcribed, decided before any model is loaded."""

    model: str | None  # the model reference to load; None: needs a human transcript
    language: str | None  # the language token to force; None: let the model detect it
    reason: str | None = None  # why no model (French, shown to the team)
    known: str | None = None  # the testimony's language from the intake; None: detect and record it


def whisper_languages() -> frozenset[str]:
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    return frozenset(_LANGUAGE_CODES)


def normalize_language(code: str | None) -> str | None:
    """ISO 639-1 where one exists ("fra" -> "fr", "bam" -> "bm"); None when unknown."""
    if not code or not code.strip():
        return None
    code = code.strip().lower()
    return language_code(code) or code


def resolve_language(settings: Settings, language: str | None) -> LanguagePlan:
    """Which model and language token to use for a testimony recorded in ``language``."""
    code = normalize_language(language)
    mapped = {normalize_language(k): v for k, v in settings.language_models.items()}
    if code in mapped:
        # A dedicated model (e.g. a converted Bambara fine-tune): force the language only if its
        # tokenizer has that token, else let it use the token it was fine-tuned with.
        return LanguagePlan(mapped[code], code if code in whisper_languages() else None, known=code)
    if code is None:
        return LanguagePlan(settings.whisper_model, None)
    if code not in whisper_languages():
        return LanguagePlan(None, code, (
            f"langue « {code} » inconnue de Whisper : transcription humaine nécessaire "
            f"(kuma transcript import), ou un modèle dédié dans KUMA_LANGUAGE_MODELS"), known=code)
    return LanguagePlan(settings.whisper_model, code, known=code)


def missing_model_message(settings: Settings, reference: str) -> str:
    from transcripts.models import CATALOGUE, install_hint

    offline = " (mode hors ligne : rien n'est téléchargé)" if settings.offline else ""
    if reference in CATALOGUE:
        return (f"modèle de transcription « {reference} » non installé{offline}. Installez-le : "
                f"{install_hint(CATALOGUE[reference])}, puis kuma models install {reference}")
    target = settings.models_path / Path(reference).name
    return (f"modèle de transcription introuvable : « {reference} »{offline}. Placez un modèle "
            f"CTranslate2 (dossier avec model.bin, tokenizer.json, converti par ct2-transformers-converter) "
            f"dans {target}, ou indiquez son dossier : KUMA_WHISPER_MODEL=/chemin/vers/le/modele")


def local_model_dir(settings: Settings, reference: str) -> Path | None:
    """The local CTranslate2 directory ``reference`` names, if there is one."""
    for candidate in (Path(reference).expanduser(), settings.models_path / reference):
        if (candidate / "model.bin").is_file():
            return candidate
    return None


def model_available(settings: Settings, reference: str | None = None) -> bool:
    """True when the model can be loaded without the network."""
    return local_model_dir(settings, reference or settings.whisper_model) is not None


def model_identity(settings: Settings, reference: str) -> tuple[str, str]:
    """(name, version) recorded with each transcript and used in the stage fingerprint.

    For a local directory the version hashes its config and vocabulary and the size of its
    weights (cheap even for gigabyte models); for a size name, the library versions."""
    import ctranslate2
    import faster_whisper

    libs = f"fw{faster_whisper.__version__}/ct2-{ctranslate2.__version__}"
    directory = local_model_dir(settings, reference)
    if directory is None:
        return reference, libs
    digest = hashlib.sha256()
    for name in ("config.json", "vocabulary.json", "vocabulary.txt", "tokenizer.json"):
        path = directory / name
        if path.is_file():
            digest.update(path.read_bytes())
    digest.update(str((directory / "model.bin").stat().st_size).encode())
    return str(directory.resolve()), f"{libs}/{digest.hexdigest()[:12]}"


class Engine:
    """Loads models on first use (one per reference) and transcribes audio arrays."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._models: dict[str, Any] = {}

    def model(self, reference: str):
        if reference not in self._models:
            self._models[reference] = load_whisper_model(self.settings, reference)
        return self._models[reference]

    def transcribe(self, audio: np.ndarray, *, model: str, language: str | None,
                   options: TranscribeOptions) -> AsrResult:
        whisper = self.model(model)
        if options.batch_size > 0:
            from faster_whisper import BatchedInferencePipeline

            segments, info = BatchedInferencePipeline(model=whisper).transcribe(
                audio, language=language, **options.batched_kwargs())
        else:
            segments, info = whisper.transcribe(audio, language=language, **options.transcribe_kwargs())
        detected = info.language if language is None else language
        probability = float(info.language_probability) if language is None else None
        speech = float(info.duration_after_vad) if options.vad_filter or options.batch_size > 0 else None
        return AsrResult(detected, probability, float(info.duration), (_convert(s) for s in segments), speech)


def load_whisper_model(settings: Settings, reference: str):
    """A ``faster_whisper.WhisperModel`` for ``reference``; ConfigError saying how to provide it."""
    from faster_whisper import WhisperModel

    directory = local_model_dir(settings, reference)
    if directory is None and settings.offline:
        raise ConfigError(missing_model_message(settings, reference))
    settings.models_path.mkdir(parents=True, exist_ok=True)
    kwargs = dict(device=settings.whisper_device, compute_type=settings.whisper_compute_type,
                  cpu_threads=settings.whisper_cpu_threads, download_root=str(settings.models_path),
                  local_files_only=settings.offline)
    try:
        return WhisperModel(str(directory) if directory else reference, **kwargs)
    except ValueError as exc:
        if "compute type" in str(exc) or "compute_type" in str(exc):
            raise ConfigError(f"KUMA_WHISPER_COMPUTE_TYPE invalide pour ce matériel : {exc}") from exc
        raise ConfigError(f"{missing_model_message(settings, reference)} ({exc})") from exc
    except (OSError, RuntimeError) as exc:
        raise ConfigError(f"{missing_model_message(settings, reference)} ({_first_line(exc)})") from exc
    except Exception as exc:  # huggingface_hub errors (offline, unknown repository)
        if type(exc).__module__.startswith("huggingface_hub"):
            raise ConfigError(f"{missing_model_message(settings, reference)} ({_first_line(exc)})") from exc
        raise


def _convert(segment) -> AsrSegment:
    words = [AsrWord(float(w.start), float(w.end), w.word, float(w.probability)) for w in (segment.words or [])]
    return AsrSegment(
        start=float(segment.start), end=float(segment.end), text=segment.text.strip(),
        avg_logprob=_num(getattr(segment, "avg_logprob", None)),
        no_speech_prob=_num(getattr(segment, "no_speech_prob", None)),
        compression_ratio=_num(getattr(segment, "compression_ratio", None)),
        temperature=_num(getattr(segment, "temperature", None)),
        words=words,
    )


def _num(value) -> float | None:
    return None if value is None else float(value)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__

