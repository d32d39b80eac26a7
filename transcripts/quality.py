"""How good a transcript is: word error rate against a reference (jiwer), on normalised words.

Both sides are folded the same way before counting: case, punctuation, apostrophes and hyphens
("l'aventure", "soixante-seize") and written numbers, spelled out in the transcript's language
("2019" → "deux mille dix-neuf"), so that a recognizer is not charged for writing digits where the
script has words. ``masked_error_rate`` counts errors on some reference words only (the intelligibility
gate leaves bleeped words out, anonymization/intelligibility.py) while aligning all of them.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import jiwer
from num2words import num2words

NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
NOT_WORD = re.compile(r"[^\w]+", re.UNICODE)


def spell_numbers(text: str, language: str | None) -> str:
    lang = (language or "fr")[:2]

    def spell(match: re.Match) -> str:
        number = match.group().replace(",", ".")
        try:
            return " " + num2words(float(number) if "." in number else int(number), lang=lang) + " "
        except (NotImplementedError, OverflowError, ValueError):
            return " " + match.group() + " "

    return NUMBER.sub(spell, text)


def normalize(text: str, language: str | None = "fr") -> str:
    """Lowercase words only, numbers spelled out, apostrophes and hyphens split."""
    text = unicodedata.normalize("NFC", spell_numbers(text, language)).lower()
    return " ".join(NOT_WORD.sub(" ", text).replace("_", " ").split())


@dataclass(frozen=True)
class ErrorRate:
    wer: float  # (substitutions + deletions + insertions) / reference words
    reference_words: int
    substitutions: int
    deletions: int
    insertions: int

    def as_dict(self) -> dict:
        return {"wer": round(self.wer, 4), "reference_words": self.reference_words,
                "substitutions": self.substitutions, "deletions": self.deletions, "insertions": self.insertions}


def word_error_rate(reference: str, hypothesis: str, language: str | None = "fr") -> ErrorRate:
    return masked_error_rate([(reference, True)], [(hypothesis, True)], language)


def masked_error_rate(reference: Sequence[tuple[str, bool]], hypothesis: Sequence[tuple[str, bool]],
                      language: str | None = "fr") -> ErrorRate:
    """Word error rate over the reference words marked True. Every word takes part in the alignment,
    so that the words around an unmarked one (a bleeped name) pair up as they were said; an error
    counts only on a marked reference word, or for an inserted hypothesis word that is marked."""
    ref, hyp = _tokens(reference, language), _tokens(hypothesis, language)
    counted = sum(mark for _, mark in ref)
    if not ref:
        inserted = sum(mark for _, mark in hyp)
        return ErrorRate(0.0 if not inserted else 1.0, 0, 0, 0, inserted)
    errors = {"substitute": 0, "delete": 0, "insert": 0}
    for chunk in jiwer.process_words(" ".join(t for t, _ in ref), " ".join(t for t, _ in hyp)).alignments[0]:
        if chunk.type in ("substitute", "delete"):
            errors[chunk.type] += sum(mark for _, mark in ref[chunk.ref_start_idx:chunk.ref_end_idx])
        elif chunk.type == "insert":
            errors["insert"] += sum(mark for _, mark in hyp[chunk.hyp_start_idx:chunk.hyp_end_idx])
    total = sum(errors.values())
    wer = total / counted if counted else float(bool(total))
    return ErrorRate(wer, counted, errors["substitute"], errors["delete"], errors["insert"])


def _tokens(words: Sequence[tuple[str, bool]], language: str | None) -> list[tuple[str, bool]]:
    """Normalised tokens, each with its word's mark."""
    return [(token, mark) for text, mark in words for token in normalize(text, language).split()]


@dataclass(frozen=True)
class RecognitionCheck:
    """Did the recognizer hear what was said? Computed on every ASR version and stored with it.

    ``needs_human`` when speech was heard (Silero VAD) but the transcript is empty, far too short
    for that much speech, or its words are mostly guesses: such a transcript cannot be trusted to
    find names to bleep, so it blocks every public use until a person transcribes the testimony."""

    speech_s: float
    words: int
    mean_word_probability: float | None
    low_confidence_share: float  # share of the transcribed time in low-confidence segments
    needs_human: bool
    reason: str | None = None

    def as_dict(self) -> dict:
        return {"speech_s": round(self.speech_s, 2), "words": self.words,
                "mean_word_probability": None if self.mean_word_probability is None else round(self.mean_word_probability, 3),
                "low_confidence_share": round(self.low_confidence_share, 3),
                "needs_human": self.needs_human, "reason": self.reason}


@dataclass(frozen=True)
class RecognitionLimits:
    # less speech than this: nothing to expect (Silero pads each detection by 400 ms on both sides;
    # street noise gives 1 to 2 s of false "speech" on a quarter-minute)
    min_speech_s: float = 3.0
    min_words_per_speech_s: float = 0.5  # read or spoken French runs at 2 to 3 words a second
    min_mean_word_probability: float = 0.6
    max_low_confidence_share: float = 0.5

    @classmethod
    def from_settings(cls, settings) -> RecognitionLimits:
        return cls(min_words_per_speech_s=settings.transcript_min_words_per_second,
                   min_mean_word_probability=settings.transcript_min_confidence,
                   max_low_confidence_share=settings.transcript_max_doubtful_share)


def check_recognition(segments, speech_s: float, is_low_confidence, limits: RecognitionLimits) -> RecognitionCheck:
    """``segments``: AsrSegment-like (start, end, words with probability); ``speech_s``: VAD speech."""
    words = [w for s in segments for w in s.words if w.word.strip()]
    probabilities = [w.probability for w in words if w.probability is not None]
    mean = sum(probabilities) / len(probabilities) if probabilities else None
    spoken = sum(max(0.0, s.end - s.start) for s in segments)
    doubtful = sum(max(0.0, s.end - s.start) for s in segments if is_low_confidence(s))
    share = doubtful / spoken if spoken > 0 else 0.0
    reason = None
    if speech_s >= limits.min_speech_s:
        seconds = f"{speech_s:.0f} s de parole détectée"
        if not words:
            reason = f"aucun mot reconnu ({seconds})"
        elif len(words) < limits.min_words_per_speech_s * speech_s:
            reason = f"transcription trop courte : {len(words)} mot(s) pour {seconds}"
        elif mean is not None and mean < limits.min_mean_word_probability:
            reason = f"reconnaissance peu sûre : confiance moyenne des mots {mean:.2f} (seuil {limits.min_mean_word_probability:.2f})"
        elif share > limits.max_low_confidence_share:
            reason = f"reconnaissance peu sûre : {share:.0%} du texte en segments douteux"
    return RecognitionCheck(speech_s, len(words), mean, share, reason is not None, reason)
