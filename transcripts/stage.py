"""The "transcribe" stage: one testimony's working copy in, one new ASR transcript version out.

- asks the consent policy first (``Use.PROCESS``): no consent, nothing is processed;
- languages Whisper does not know go to a dedicated model (``settings.language_models``) or are
  marked "needs human transcription" (``StageState.NEEDS_HUMAN``) with the reason;
- idempotent: the stage fingerprint hashes the working audio, the model and the options, so an
  up-to-date transcript is not redone unless ``force``; a human version is never overridden;
- each testimony is its own transaction (the model runs outside it): a crash loses at most the
  testimony in progress, and a re-run resumes; a failure is recorded on the testimony and the
  batch goes on.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import select

from archive import audit
from archive.audio import decode
from archive.consent import Use, decide
from archive.db import Archive
from archive.errors import ConfigError, KumaError, StageError
from archive.models import MediaKind, StageState, Testimony, Transcript, TranscriptSource
from archive.testimonies import get, set_stage
from transcripts.engine import SAMPLE_RATE, AsrSegment, Engine, LanguagePlan, TranscribeOptions, model_identity, resolve_language
from transcripts.quality import RecognitionLimits, check_recognition
from transcripts.versions import STAGE, asr_segments, save_transcript

LOW_WORD_PROBABILITY = 0.5

Progress = Callable[[float], None]  # called with seconds of audio just transcribed


@dataclass
class TranscribeResult:
    public_id: str
    status: str  # done, up-to-date, human, needs-human, skipped, failed
    duration: float = 0.0
    reason: str | None = None
    version: int | None = None
    segments: int = 0
    language: str | None = None


def is_low_confidence(segment: AsrSegment, options: TranscribeOptions) -> bool:
    """Flag a segment for human review: the decoder was unsure, heard silence, or looped."""
    if segment.avg_logprob is not None and segment.avg_logprob < options.log_prob_threshold:
        return True
    if segment.no_speech_prob is not None and segment.no_speech_prob > options.no_speech_threshold:
        return True
    if segment.compression_ratio is not None and segment.compression_ratio > options.compression_ratio_threshold:
        return True
    probabilities = [w.probability for w in segment.words if w.probability is not None]
    return bool(probabilities) and sum(probabilities) / len(probabilities) < LOW_WORD_PROBABILITY


class Transcriber:
    """Runs the stage over testimonies; holds the loaded models for a whole batch."""

    def __init__(self, archive: Archive, *, engine: Engine | None = None,
                 options: TranscribeOptions | None = None, actor: str = "kuma"):
        self.archive = archive
        self.settings = archive.settings
        self.engine = engine or Engine(self.settings)
        self.options = options or TranscribeOptions.from_settings(self.settings)
        self.actor = actor
        self._identities: dict[str, tuple[str, str]] = {}

    # --- planning ---------------------------------------------------------------------------

    def identity(self, reference: str) -> tuple[str, str]:
        if reference not in self._identities:
            self._identities[reference] = model_identity(self.settings, reference)
        return self._identities[reference]

    def fingerprint(self, testimony: Testimony, plan: LanguagePlan) -> str:
        working = testimony.asset(MediaKind.WORKING)  # not the cleaned copy: Whisper hears better without (docs/sound.md)
        name, version = self.identity(plan.model)
        payload = {"audio": working.sha256 if working else None, "model": name, "model_version": version,
                   "language": plan.language, "options": self.options.as_dict()}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    def up_to_date(self, testimony: Testimony) -> bool:
        """Transcribed with this model and these options (a failed recognition check included:
        running the same model again would fail it again; a person has to transcribe it)."""
        status = testimony.stage(STAGE)
        if status is None or status.state not in (StageState.DONE, StageState.NEEDS_HUMAN):
            return False
        if status.fingerprint is None:  # DONE: a human transcript; NEEDS_HUMAN: no model for the language
            return status.state == StageState.DONE
        plan = resolve_language(self.settings, testimony.language)
        return plan.model is not None and status.fingerprint == self.fingerprint(testimony, plan)

    def pending(self) -> list[str]:
        """Public ids of testimonies the policy lets be processed and without an up-to-date
        transcript, oldest first."""
        with self.archive.session() as session:
            testimonies = session.scalars(select(Testimony).order_by(Testimony.id)).all()
            return [t.public_id for t in testimonies if decide(t, Use.PROCESS).allowed and not self.up_to_date(t)]

    def flagged(self) -> list[str]:
        """Public ids of testimonies waiting for a person to transcribe them, oldest first."""
        with self.archive.session() as session:
            testimonies = session.scalars(select(Testimony).order_by(Testimony.id)).all()
            return [t.public_id for t in testimonies
                    if (status := t.stage(STAGE)) is not None and status.state == StageState.NEEDS_HUMAN]

    def durations(self, public_ids: Iterable[str]) -> dict[str, float]:
        with self.archive.session() as session:
            return {pid: get(session, pid).duration for pid in public_ids}

    # --- running ----------------------------------------------------------------------------

    def run(self, public_id: str, *, force: bool = False, progress: Progress | None = None) -> TranscribeResult:
        """Transcribe one testimony. Never raises for a per-testimony failure (it is recorded);
        raises ConfigError when the main model is unusable (every testimony would fail). A missing
        per-language model (KUMA_LANGUAGE_MODELS) fails only the testimonies in that language."""
        try:
            return self._run(public_id, force, progress)
        except ConfigError as exc:
            with self.archive.session() as session:
                testimony = get(session, public_id)
                if resolve_language(self.settings, testimony.language).model == self.settings.whisper_model:
                    raise
                set_stage(session, testimony, STAGE, StageState.FAILED, reason=str(exc)[:2000])
                return TranscribeResult(testimony.public_id, "failed", testimony.duration, str(exc))

    def _run(self, public_id: str, force: bool, progress: Progress | None) -> TranscribeResult:
        with self.archive.session() as session:
            testimony = get(session, public_id)
            early = self._check(session, testimony, force)
            if early is not None:
                return early
            plan = resolve_language(self.settings, testimony.language)
            fingerprint = self.fingerprint(testimony, plan)
            working = testimony.asset(MediaKind.WORKING)
            duration = testimony.duration
            public_id = testimony.public_id
        try:
            if working is None:
                raise StageError(f"{public_id} : copie de travail absente (relancez l'ingestion)")
            return self._transcribe(public_id, working.sha256, duration, plan, fingerprint, progress)
        except ConfigError:
            raise
        except Exception as exc:  # recorded on the testimony; the batch goes on
            reason = str(exc) if isinstance(exc, KumaError) else f"{type(exc).__name__} : {exc}"
            with self.archive.session() as session:
                set_stage(session, get(session, public_id), STAGE, StageState.FAILED, reason=reason[:2000])
            return TranscribeResult(public_id, "failed", duration, reason)

    def _check(self, session, testimony: Testimony, force: bool) -> TranscribeResult | None:
        """The reasons not to run the model on this testimony, or None to go ahead."""
        result = lambda status, reason=None: TranscribeResult(testimony.public_id, status, testimony.duration, reason)
        decision = decide(testimony, Use.PROCESS)
        if not decision.allowed:
            set_stage(session, testimony, STAGE, StageState.SKIPPED, reason=f"non transcrit : {decision.reason}")
            return result("skipped", decision.reason)
        plan = resolve_language(self.settings, testimony.language)
        if plan.model is None:
            set_stage(session, testimony, STAGE, StageState.NEEDS_HUMAN, reason=plan.reason)
            return result("needs-human", plan.reason)
        if force:
            return None
        has_human = session.scalar(select(Transcript.id).where(
            Transcript.testimony_id == testimony.id, Transcript.source == TranscriptSource.HUMAN).limit(1))
        if has_human is not None:
            return result("human", "transcription humaine présente (--force pour relancer la reconnaissance)")
        if self.up_to_date(testimony):
            status = testimony.stage(STAGE)
            if status.state == StageState.NEEDS_HUMAN:
                return result("needs-human", status.reason)
            return result("up-to-date", "déjà transcrit avec ce modèle et ces options")
        return None

    def _transcribe(self, public_id: str, sha256: str, duration: float, plan: LanguagePlan, fingerprint: str,
                    progress: Progress | None) -> TranscribeResult:
        audio = decode(self.archive.store.path(sha256), rate=SAMPLE_RATE, channels=1)
        duration = len(audio) / SAMPLE_RATE or duration
        asr = self.engine.transcribe(audio, model=plan.model, language=plan.language, options=self.options)
        collected, reported = [], 0.0
        for segment in asr.segments:
            collected.append(segment)
            if progress and segment.end > reported:
                progress(min(segment.end, duration) - reported)
                reported = min(segment.end, duration)
        if progress and duration > reported:
            progress(duration - reported)
        name, version = self.identity(plan.model)
        low = lambda s: is_low_confidence(s, self.options)
        speech = asr.speech_duration if asr.speech_duration is not None else duration
        check = check_recognition(collected, speech, low, RecognitionLimits.from_settings(self.settings))
        with self.archive.session() as session:
            testimony = get(session, public_id)
            segments = asr_segments(collected, duration, low)
            transcript = save_transcript(
                session, testimony, segments, source=TranscriptSource.ASR, created_by=self.actor,
                language=plan.known or asr.language,
                language_probability=None if plan.known else asr.language_probability,
                model=name[-256:], model_version=version, options=self.options.as_dict(), quality=check.as_dict())
            state, reason = StageState.DONE, None
            if check.needs_human:
                state, reason = StageState.NEEDS_HUMAN, f"reconnaissance automatique insuffisante : {check.reason}"
            set_stage(session, testimony, STAGE, state, reason=reason, fingerprint=fingerprint)
            audit.record(session, self.actor, "transcript.asr", testimony=testimony, version=transcript.version,
                         model=name, segments=len(segments), needs_human=check.needs_human)
            return TranscribeResult(public_id, "needs-human" if check.needs_human else "done", duration,
                                    reason=reason, version=transcript.version, segments=len(segments),
                                    language=transcript.language)

    def run_many(self, public_ids: Iterable[str], *, force: bool = False, progress: Progress | None = None,
                 on_start: Callable[[str], None] | None = None) -> Iterator[TranscribeResult]:
        """Each testimony in turn; ``progress`` also advances over testimonies that are skipped."""
        for public_id in public_ids:
            if on_start:
                on_start(public_id)
            advanced = 0.0

            def track(seconds: float) -> None:
                nonlocal advanced
                advanced += seconds
                if progress:
                    progress(seconds)

            result = self.run(public_id, force=force, progress=track)
            if progress and result.duration > advanced:
                progress(result.duration - advanced)
            yield result


def transcribe_testimony(archive: Archive, public_id: str, *, force: bool = False,
                         options: TranscribeOptions | None = None, actor: str = "kuma") -> TranscribeResult:
    """The stage function for one testimony (what a worker queue calls)."""
    return Transcriber(archive, options=options, actor=actor).run(public_id, force=force)
