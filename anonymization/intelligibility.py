"""The intelligibility gate: is a disguised rendition still understood?

After the anonymize stage makes a disguised rendition, :func:`measure` re-transcribes its audio
(disguise and bleeps, as it airs) with the archive's model in the testimony's language, through the
transcription engine (transcripts/engine.py, the archive's own options), and computes the word
error rate (transcripts/quality.py) against the testimony's ruling transcript.

Bleeped words are not errors. Both word sequences are aligned whole (``masked_error_rate``), so the
words around a bleep pair up as they were said whatever times the recognizer gave them; then:

- a transcript word that overlaps a bleeped or muted span (padding included) is never an error
  (it is not heard as spoken), and is not counted among the reference words;
- a word the recognizer inserted is an error only when its middle falls outside the bleeped spans
  and outside the time of the transcript words left out (the tone, often written as words, or a
  name cut in half by the padding, is not).

The ruling transcript's words carry their times (ASR versions); a segment without word times (a
human version imported from subtitles) has its words' times estimated from their character
positions.

The result is stored with the rendition (``Rendition.intelligibility``): ``status`` ``measured``
(``wer``, counts, ``model``, ``model_version``, ``language``), ``unmeasured`` (``reason``: no model,
a language Whisper does not know, no word left to compare) or ``original`` (original voice: nothing
to measure). :func:`problem` says why approval needs ``--accept-unintelligible``: a WER above
``KUMA_VOICE_MAX_WER``, or no measurement at all (the gate never passes silently).
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from archive.errors import ConfigError
from archive.settings import Settings
from transcripts.engine import Engine, TranscribeOptions, model_identity, resolve_language
from transcripts.quality import masked_error_rate

SOURCE = "intelligibility"  # the flag's source
ORIGINAL = {"status": "original", "reason": "voix originale : rien à mesurer"}
NO_REFERENCE = "aucun mot de la transcription hors des passages masqués"
TOKEN = re.compile(r"\S+")


@dataclass(frozen=True)
class TimedWord:
    start: float
    end: float
    text: str


def reference_words(segments) -> list[TimedWord]:
    """The ruling transcript's words with their times (estimated where a segment has none)."""
    words: list[TimedWord] = []
    for segment in segments:
        if segment.words:
            words += [TimedWord(w.start, w.end, w.word) for w in segment.words]
        else:
            words += _estimated(segment.start, segment.end, segment.text or "")
    return words


def _estimated(start: float, end: float, text: str) -> list[TimedWord]:
    scale = (end - start) / max(len(text), 1)
    return [TimedWord(start + m.start() * scale, start + m.end() * scale, m.group()) for m in TOKEN.finditer(text)]


def overlaps(word: TimedWord, spans: Sequence[tuple[float, float]]) -> bool:
    return any(word.start < end and word.end > start for start, end in spans)


def centred_in(word: TimedWord, spans: Sequence[tuple[float, float]]) -> bool:
    middle = (word.start + word.end) / 2
    return any(start <= middle <= end for start, end in spans)


def measure(settings: Settings, engine: Engine, audio: np.ndarray, reference: list[TimedWord],
            language: str | None, spans: Sequence[tuple[float, float]]) -> dict:
    """Re-transcribe ``audio`` (16 kHz mono) and compare it with ``reference`` outside ``spans``."""
    dropped = [w for w in reference if overlaps(w, spans)]
    if len(dropped) == len(reference):
        return {"status": "unmeasured", "reason": NO_REFERENCE}
    plan = resolve_language(settings, language)
    if plan.model is None:
        return {"status": "unmeasured", "reason": plan.reason}
    try:
        asr = engine.transcribe(audio, model=plan.model, language=plan.language,
                                options=TranscribeOptions.from_settings(settings))
        heard = [TimedWord(w.start, w.end, w.word) for segment in asr.segments for w in segment.words]
    except ConfigError as exc:
        return {"status": "unmeasured", "reason": str(exc)}
    name, version = model_identity(settings, plan.model)
    left_out = [*spans, *((w.start, w.end) for w in dropped)]
    error = masked_error_rate([(w.text, not overlaps(w, spans)) for w in reference],
                              [(w.text, not centred_in(w, left_out)) for w in heard], language)
    return {"status": "measured", **error.as_dict(), "excluded_words": len(dropped),
            "model": name, "model_version": version, "language": plan.language or asr.language}


def problem(result: dict | None, max_wer: float) -> str | None:
    """Why a person must accept this rendition's intelligibility explicitly, or None."""
    if result is None:
        return "intelligibilité non mesurée (version faite sans la vérification)"
    if result["status"] == "original":
        return None
    if result["status"] != "measured":
        return f"intelligibilité non mesurée ({result['reason']})"
    if result["wer"] > max_wer:
        return f"voix déguisée peu intelligible : {result['wer']:.0%} de mots mal reconnus (seuil {max_wer:.0%})"
    return None


def describe(result: dict | None, max_wer: float) -> str:
    """One line for the reviewer: the WER and the model, or why it was not measured."""
    if result is None or result["status"] != "measured":
        reason = result["reason"] if result else "version faite sans la vérification"
        return f"non mesuré ({reason})"
    verdict = "au-dessus du seuil" if result["wer"] > max_wer else "sous le seuil"
    return (f"WER {result['wer']:.0%} sur {result['reference_words']} mot(s) hors passages masqués, "
            f"{verdict} de {max_wer:.0%} (modèle {Path(result['model']).name}, langue {result['language'] or '?'})")


def flag(problem_text: str, duration: float, n: int, wer: float | None) -> dict:
    """The review flag of a rendition that needs ``--accept-unintelligible``: the whole recording."""
    return {"n": n, "segment": None, "start": 0.0, "end": round(duration, 3), "timecode": "00:00:00", "kind": None,
            "source": SOURCE, "reason": f"{problem_text} : l'écouter en entier (kuma review audio), approuver avec "
                                        f"--accept-unintelligible", "score": wer, "term_id": None, "chars": None,
            "estimated": False, "context": ""}
