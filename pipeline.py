"""The whole path of a testimony through Kuma, in order: the one list of stages.

    ingest → clean → transcribe → anonymize → review → build_episode → publish

=============  =======================  ==================================================
stage          works on                 does
=============  =======================  ==================================================
ingest         a file in the inbox      original kept byte for byte, clean working copy,
                                        intake metadata and consent (``ingest/``)
clean          a testimony              cleaned copy: noise, rumble and hum removed
                                        (``sound/``); the voice disguise reads it
transcribe     a testimony              Whisper transcript, checked (``transcripts/``)
anonymize      a testimony              disguised voice, bleeps, redacted text, the
                                        intelligibility gate (``anonymization/``)
review         a testimony              a person listens and approves (``kuma review``):
                                        the pipeline stops here and says what waits
build_episode  a rundown file           mixed, mastered, encoded episode (``studio/``)
publish        the feeds                podcast and radio feeds, takedowns (``feeds/``)
=============  =======================  ==================================================

Every stage object has a ``name`` (a :class:`StageName`: the stages' one list of names, also
the key of a testimony's stage status), ``pending(archive)`` (the references it has work for)
and ``run(archive, ref)`` → :class:`StageResult`. ``run`` is idempotent and resumable: it does
only what is missing, writes to temporary names and commits in one transaction, so a crash loses
at most the item in progress and the next run finishes it. It never raises for one item's
failure (that is a ``FAILED`` result, recorded on the testimony); it raises only what would fail
every item (a missing model: :class:`ConfigError`). ``kuma process``, ``kuma worker``, the demo
and ``POST /api/pipeline/run`` all go through :func:`process` or loop over :data:`STAGES`.

A consent change goes through :func:`change_consent` (or :func:`withdraw`): the new version is
recorded, then every effect of :data:`ON_CONSENT_CHANGE` runs, in order.
"""
from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from anonymization import stage as anonymization
from archive import clips, erasure
from archive.consent import Use, current_rendition, decide
from archive.db import Archive
from archive.errors import InputError, KumaError, ReviewRequired
from archive.models import ReviewStatus, StageName, StageState, Testimony
from archive.search import index_testimony
from archive.testimonies import add_consent, get
from archive.testimonies import withdraw as record_withdrawal
from feeds import catalog as feed_catalog
from feeds import publish as feeds
from ingest import inbox
from sound import stage as cleanup
from ingest.pipeline import IngestResult, ingest_file
from studio import episode as studio
from transcripts.engine import Engine
from transcripts.stage import TranscribeResult, Transcriber

Progress = Callable[[float, float], None]  # (done, total), in seconds of audio where there is audio


@dataclass(frozen=True)
class StageResult:
    """What one stage did to one reference."""

    stage: StageName
    ref: str  # inbox file, testimony id, rundown file or "flux"
    state: StageState
    changed: bool = False  # something new was written (a testimony, a transcript version, a rendition…)
    reason: str | None = None
    testimony: str | None = None  # the testimony's public id, when the stage works on one
    detail: dict = field(default_factory=dict)
    source: object = field(default=None, repr=False, compare=False)  # the stage module's own result

    @property
    def failed(self) -> bool:
        return self.state == StageState.FAILED


class Stage(Protocol):
    name: StageName

    def pending(self, archive: Archive) -> list[str]: ...

    def run(self, archive: Archive, ref: str, *, actor: str = "kuma", progress: Progress | None = None) -> StageResult: ...


_engines: weakref.WeakKeyDictionary[Archive, Engine] = weakref.WeakKeyDictionary()


def engine_for(archive: Archive) -> Engine:
    """One transcription engine per archive: the model loads once for transcription and the gate."""
    if archive not in _engines:
        _engines[archive] = Engine(archive.settings)
    return _engines[archive]


# ------------------------------------------------------------------------------ the stages
class Ingest:
    name = StageName.INGEST

    def pending(self, archive: Archive) -> list[str]:
        return [str(path) for path in inbox.waiting(archive.settings.inbox_path)]

    def run(self, archive: Archive, ref: str, *, actor: str = "kuma", progress: Progress | None = None) -> StageResult:
        path = Path(ref)
        result = ingest_file(archive, path, actor=actor)
        if archive.settings.inbox_path.resolve() in path.resolve().parents:
            inbox.settle(archive.settings.inbox_path, result)
        return self.result_of(result)

    def result_of(self, result: IngestResult) -> StageResult:
        """The stage result of one ``ingest/`` result (``kuma ingest`` runs batches in parallel)."""
        state = StageState.FAILED if result.status == "failed" else StageState.DONE
        return StageResult(self.name, str(result.path), state, result.status == "ingested", result.reason,
                           result.public_id, {"duration": result.duration, "duplicate": result.status == "duplicate"},
                           result)


class Clean:
    name = StageName.CLEAN
    STATES = {"cleaned": StageState.DONE, "unchanged": StageState.DONE, "skipped": StageState.SKIPPED,
              "failed": StageState.FAILED}

    def pending(self, archive: Archive) -> list[str]:
        return cleanup.pending(archive)

    def run(self, archive: Archive, ref: str, *, actor: str = "kuma", progress: Progress | None = None) -> StageResult:
        result = cleanup.clean(archive, ref, actor=actor, progress=progress)
        return StageResult(self.name, result.public_id, self.STATES[result.status], result.status == "cleaned",
                           result.reason, result.public_id, {"status": result.status, "duration": result.duration},
                           result)


class Transcribe:
    name = StageName.TRANSCRIBE
    STATES = {"done": StageState.DONE, "up-to-date": StageState.DONE, "human": StageState.DONE,
              "needs-human": StageState.NEEDS_HUMAN, "skipped": StageState.SKIPPED, "failed": StageState.FAILED}

    def transcriber(self, archive: Archive, actor: str = "kuma") -> Transcriber:
        return Transcriber(archive, engine=engine_for(archive), actor=actor)

    def pending(self, archive: Archive) -> list[str]:
        return self.transcriber(archive).pending()

    def run(self, archive: Archive, ref: str, *, actor: str = "kuma", progress: Progress | None = None,
            force: bool = False) -> StageResult:
        done, total = 0.0, self.transcriber(archive).durations([ref])[ref] if progress else 0.0

        def advance(seconds: float) -> None:
            nonlocal done
            done += seconds
            progress(done, total)

        result = self.transcriber(archive, actor).run(ref, force=force, progress=advance if progress else None)
        return self.result_of(result)

    def result_of(self, result: TranscribeResult) -> StageResult:
        return StageResult(self.name, result.public_id, self.STATES[result.status], result.status == "done",
                           result.reason, result.public_id,
                           {"status": result.status, "duration": result.duration, "version": result.version,
                            "segments": result.segments, "language": result.language}, result)


class Anonymize:
    name = StageName.ANONYMIZE
    STATES = {"created": StageState.DONE, "unchanged": StageState.DONE, "waiting": StageState.PENDING,
              "refused": StageState.SKIPPED, "failed": StageState.FAILED}

    def pending(self, archive: Archive) -> list[str]:
        return anonymization.pending(archive)

    def run(self, archive: Archive, ref: str, *, actor: str = "kuma", progress: Progress | None = None) -> StageResult:
        result = anonymization.anonymize(archive, ref, actor=actor, progress=progress, engine=engine_for(archive))
        return StageResult(self.name, ref, self.STATES[result.status], result.status == "created", result.reason, ref,
                           {"status": result.status, "rendition": result.rendition_id, "redactions": result.redactions},
                           result)


class Review:
    """A person's step: ``run`` only reports whether the testimony waits for one."""

    name = StageName.REVIEW

    def pending(self, archive: Archive) -> list[str]:
        with archive.session() as session:
            return [entry.public_id for entry in anonymization.review_queue(session)]

    def run(self, archive: Archive, ref: str, *, actor: str = "kuma", progress: Progress | None = None) -> StageResult:
        with archive.session() as session:
            entry = next((e for e in anonymization.review_queue(session) if e.public_id == ref), None)
            if entry is not None:
                return StageResult(self.name, ref, StageState.NEEDS_HUMAN, False, f"{entry.task} : {entry.reason}", ref,
                                   entry.as_dict())
            testimony = get(session, ref)
            rendition = current_rendition(testimony)
            if rendition is not None and rendition.status == ReviewStatus.APPROVED:
                return StageResult(self.name, ref, StageState.DONE, False, None, ref)
            decision = decide(testimony, Use.PROCESS)
            state, reason = ((StageState.SKIPPED, decision.reason) if not decision.allowed
                             else (StageState.PENDING, "aucune version anonymisée à relire"))
            return StageResult(self.name, ref, state, False, reason, ref)


class BuildEpisode:
    name = StageName.BUILD_EPISODE
    SUFFIXES = (".yaml", ".yml")

    def rundowns(self, archive: Archive) -> list[Path]:
        folder = archive.settings.programme_path
        return sorted(p for p in folder.iterdir() if p.suffix.lower() in self.SUFFIXES) if folder.is_dir() else []

    def pending(self, archive: Archive) -> list[str]:
        return [str(path) for path in self.rundowns(archive) if not studio.up_to_date(archive, path)]

    def run(self, archive: Archive, ref: str, *, actor: str = "kuma", progress: Progress | None = None,
            force: bool = False) -> StageResult:
        report = (lambda step, done, total: progress(done, total)) if progress else None
        try:
            built = studio.build_episode(archive, Path(ref), force=force, actor=actor, progress=report)
        except ReviewRequired as exc:  # an excerpt's rendition is not approved yet: it waits for review
            return StageResult(self.name, ref, StageState.PENDING, False, _problems(exc))
        except KumaError as exc:
            return StageResult(self.name, ref, StageState.FAILED, False, _problems(exc))
        return StageResult(self.name, ref, StageState.DONE, built.built, None, None,
                           {"episode": built.slug, "duration": built.duration, "loudness": built.loudness}, built)


class Publish:
    name = StageName.PUBLISH
    REF = "flux"

    def pending(self, archive: Archive) -> list[str]:
        return [] if feeds.up_to_date(archive) else [self.REF]

    def run(self, archive: Archive, ref: str = REF, *, actor: str = "kuma", progress: Progress | None = None) -> StageResult:
        done = 0

        def advance(_path: str) -> None:
            nonlocal done
            done += 1
            progress(done, 0.0)

        try:
            published = feeds.publish(archive, actor=actor, progress=advance if progress else None)
        except KumaError as exc:
            return StageResult(self.name, ref, StageState.FAILED, False, str(exc))
        return StageResult(self.name, ref, StageState.DONE, published.changed, None, None,
                           {"version": published.version.name, "public": published.public_episodes,
                            "radio": published.radio_episodes, "taken_down": published.taken_down}, published)


def _problems(exc: KumaError) -> str:
    return "; ".join(getattr(exc, "problems", None) or [str(exc)])


INGEST, CLEAN, TRANSCRIBE, ANONYMIZE, REVIEW, BUILD_EPISODE, PUBLISH = (
    Ingest(), Clean(), Transcribe(), Anonymize(), Review(), BuildEpisode(), Publish())
STAGES: tuple[Stage, ...] = (INGEST, CLEAN, TRANSCRIBE, ANONYMIZE, REVIEW, BUILD_EPISODE, PUBLISH)
assert [stage.name for stage in STAGES] == list(StageName), "STAGES and StageName list the stages in one order"


def stage_named(name: str) -> Stage:
    found = next((stage for stage in STAGES if stage.name == name), None)
    if found is None:
        raise InputError(f"étape inconnue {name!r} (attendu : {', '.join(s.name for s in STAGES)})")
    return found


# ------------------------------------------------------------------------------ running
@dataclass
class Hooks:
    """What a caller shows while the pipeline runs (all optional)."""

    on_stage: Callable[[Stage, list[str]], None] | None = None  # a stage starts, with its pending refs
    on_start: Callable[[Stage, str], None] | None = None  # one ref starts
    progress: Callable[[Stage, str], Progress | None] | None = None  # a progress callback for one ref
    on_result: Callable[[StageResult], None] | None = None


def run_stage(archive: Archive, stage: Stage, refs: list[str] | None = None, *, actor: str = "kuma",
              hooks: Hooks | None = None) -> Iterator[StageResult]:
    """Run one stage over ``refs`` (default: its pending work), one ref at a time."""
    hooks = hooks or Hooks()
    refs = stage.pending(archive) if refs is None else refs
    if hooks.on_stage:
        hooks.on_stage(stage, refs)
    for ref in refs:
        if hooks.on_start:
            hooks.on_start(stage, ref)
        progress = hooks.progress(stage, ref) if hooks.progress else None
        result = stage.run(archive, ref, actor=actor, progress=progress)
        if hooks.on_result:
            hooks.on_result(result)
        yield result


def process(archive: Archive, *, actor: str = "kuma", hooks: Hooks | None = None,
            stages: tuple[Stage, ...] = STAGES) -> list[StageResult]:
    """One pass over every stage, in order, on its pending work. Idempotent: run it at any time
    (after a crash, new recordings, an approval, a consent change), it does only what is missing."""
    settle_consent(archive)
    results: list[StageResult] = []
    for stage in stages:
        results.extend(run_stage(archive, stage, actor=actor, hooks=hooks))
    return results


class Runner:
    """Runs :func:`process` in a background thread, one pass at a time (the HTTP API's worker)."""

    def __init__(self, archive: Archive, actor: str = "kuma"):
        self.archive, self.actor = archive, actor
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.stage: str | None = None
        self.ref: str | None = None
        self.last: list[StageResult] = []
        self.error: str | None = None
        self._stopping = threading.Event()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, stages: tuple[Stage, ...] | None = None) -> bool:
        """Start a pass (over ``stages``, default all) unless one is running; returns whether it started."""
        with self._lock:
            if self.running:
                return False
            self._thread = threading.Thread(target=self._pass, args=(stages or STAGES,), name="kuma-pipeline",
                                            daemon=True)
            self._thread.start()
            return True

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def stop(self) -> None:
        """Stop after the item in progress (it finishes: nothing is left half-done)."""
        self._stopping.set()

    def _pass(self, stages: tuple[Stage, ...]) -> None:
        done: list[StageResult] = []

        def started(stage: Stage, ref: str) -> None:
            if self._stopping.is_set():
                raise _Stopped
            self.stage, self.ref = stage.name, ref

        self.error = None
        try:
            process(self.archive, actor=self.actor, hooks=Hooks(on_start=started, on_result=done.append),
                    stages=stages)
        except _Stopped:
            self.error = "arrêté avant la fin du passage"
        except KumaError as exc:
            self.error = str(exc)
        finally:
            self.last, self.stage, self.ref = done, None, None


class _Stopped(Exception):
    pass


# ------------------------------------------------------------------------------ consent changes
@dataclass(frozen=True)
class ConsentEffect:
    """One consequence of a consent change. ``in_transaction`` effects run in the transaction that
    records the new consent version (they commit with it or not at all); the others run after it,
    on files outside the database."""

    name: str
    run: Callable[[Archive, Session | None, Testimony | str, str], str | None]  # a note for the person, or None
    in_transaction: bool


def _reindex(archive: Archive, session: Session, testimony: Testimony, actor: str) -> str | None:
    index_testimony(session, testimony)
    return None


def _take_down(archive: Archive, session: Session, testimony: Testimony, actor: str) -> str | None:
    marked = feed_catalog.mark_takedowns(session, actor=actor)
    return f"émission(s) retirée(s) : {', '.join(marked)}" if marked else None


def _erase(archive: Archive, session: Session, testimony: Testimony, actor: str) -> str | None:
    erased = erasure.erase_disallowed(session, testimony, actor)
    session.info.setdefault("kuma_release", []).extend(erased.released)
    return f"effacé : {', '.join(erased.what)}" if erased else None


def _purge_clips(archive: Archive, session: None, public_id: str, actor: str) -> str | None:
    removed = clips.purge(archive.settings, public_id)
    return f"{removed} extrait(s) en cache supprimé(s)" if removed else None


def _republish(archive: Archive, session: None, public_id: str, actor: str) -> str | None:
    published = feeds.republish_after_consent_change(archive, actor=actor)
    if published.taken_down:
        return f"flux republiés, retirés : {', '.join(published.taken_down)} (radio/takedown.json)"
    return "flux republiés selon le nouveau consentement" if published.changed else None


ON_CONSENT_CHANGE: tuple[ConsentEffect, ...] = (
    ConsentEffect("reindex", _reindex, True),  # search follows consent
    ConsentEffect("takedown", _take_down, True),  # episodes it may no longer be in
    ConsentEffect("erase", _erase, True),  # what consent no longer lets exist (docs/archive.md)
    ConsentEffect("purge_clips", _purge_clips, False),  # cached API clips, in any voice
    ConsentEffect("republish", _republish, False),  # feeds and takedown.json, at once
)


@dataclass
class ConsentChange:
    public_id: str
    version: int
    notes: list[str] = field(default_factory=list)


def change_consent(archive: Archive, public_id: str, actor: str, changes: dict) -> ConsentChange:
    """Record a new consent version (the latest one's values overridden by ``changes``), then run
    :data:`ON_CONSENT_CHANGE`."""
    return _apply(archive, public_id, actor, lambda session, t: add_consent(session, t, actor, **changes))


def withdraw(archive: Archive, public_id: str, actor: str, note: str | None = None) -> ConsentChange:
    """Withdraw consent (final): every use refused from now on; what it erases: docs/archive.md."""
    return _apply(archive, public_id, actor, lambda session, t: record_withdrawal(session, t, actor, note))


def _apply(archive: Archive, public_id: str, actor: str, record) -> ConsentChange:
    with archive.session() as session:
        testimony = get(session, public_id)
        change = ConsentChange(testimony.public_id, record(session, testimony).version)
        for effect in ON_CONSENT_CHANGE:
            if effect.in_transaction:
                _note(change, effect.run(archive, session, testimony, actor))
        released = session.info.pop("kuma_release", [])
    archive.release_media(released)
    for effect in ON_CONSENT_CHANGE:
        if not effect.in_transaction:
            _note(change, effect.run(archive, None, change.public_id, actor))
    return change


def _note(change: ConsentChange, note: str | None) -> None:
    if note:
        change.notes.append(note)


def settle_consent(archive: Archive) -> None:
    """Redo the file effects of consent changes a crash may have cut short (the database ones
    committed with the change): clips of testimonies the policy no longer lets be processed."""
    with archive.session() as session:
        refused = [t.public_id for t in session.scalars(select(Testimony)) if not decide(t, Use.PROCESS).allowed]
    for public_id in refused:
        clips.purge(archive.settings, public_id)
