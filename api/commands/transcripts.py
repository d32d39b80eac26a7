"""Transcription commands: ``kuma transcribe``, ``kuma transcript export|import|show``."""
from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

import pipeline
from api import context
from api.context import console, emit_json
from api.progress import progress_bar
from archive.errors import InputError, StageError
from archive.models import StageState
from archive.testimonies import get
from archive.timecode import format_timecode
from transcripts import formats
from transcripts.engine import TranscribeOptions, model_available
from transcripts.stage import TranscribeResult, Transcriber
from transcripts.themes import suggestions_for
from transcripts.versions import STAGE, export_transcript, import_transcript, transcripts_of

transcript_app = typer.Typer(help="Exporter, corriger et consulter les transcriptions.", no_args_is_help=True)

STATUS_LABELS = {
    "done": "[green]✓[/] transcrit",
    "up-to-date": "[dim]=[/] à jour",
    "human": "[dim]=[/] transcription humaine",
    "needs-human": "[yellow]![/] transcription humaine nécessaire",
    "skipped": "[yellow]–[/] non traité",
    "failed": "[red]✗[/] échec",
}


def register(app: typer.Typer) -> None:
    app.command("transcribe")(transcribe)
    app.add_typer(transcript_app, name="transcript")


def transcribe(
    ids: list[str] = typer.Argument(None, help="Identifiants des témoignages (T-000001...)."),
    pending: bool = typer.Option(False, "--pending", help="Tous les témoignages sans transcription à jour."),
    force: bool = typer.Option(False, "--force", help="Refaire même une transcription à jour (nouvelle version)."),
    batch_size: int = typer.Option(None, "--batch-size", help="Pipeline par lots (plus rapide, moins d'options) ; 0 : séquentiel."),
) -> None:
    """Transcrire les témoignages avec faster-whisper (reprise possible ; un enregistrement par témoignage)."""
    archive = context.archive()
    settings = context.settings()
    overrides = {} if batch_size is None else {"batch_size": batch_size}
    transcriber = Transcriber(archive, options=TranscribeOptions.from_settings(settings, **overrides),
                              actor=settings.actor)
    if not ids and not pending:
        raise InputError("indiquez des identifiants de témoignages ou --pending")
    # --pending: what the model has to do, and what still waits for a person (said again on every run)
    queued = transcriber.pending() + transcriber.flagged() if pending else []
    targets = list(dict.fromkeys([i.strip().upper() for i in ids or []] + queued))
    if not targets:
        console.print("Rien à transcrire : toutes les transcriptions sont à jour.")
        return
    durations = transcriber.durations(targets)  # unknown ids fail here, before any work
    results = _run_with_progress(transcriber, targets, durations, force)
    _summary(results)


def _run_with_progress(transcriber: Transcriber, targets: list[str], durations: dict[str, float],
                       force: bool) -> list[TranscribeResult]:
    results = []
    with progress_bar("clock") as progress:
        total = sum(durations.values())
        task = progress.add_task("transcription", total=total or None, clock=_clock(0, total))

        def advance(seconds: float) -> None:
            progress.advance(task, seconds)
            done = progress.tasks[0].completed
            progress.update(task, clock=_clock(done, total))

        def on_start(public_id: str) -> None:
            progress.update(task, description=f"{public_id}")

        for result in transcriber.run_many(targets, force=force, progress=advance, on_start=on_start):
            progress.console.print(_line(result), soft_wrap=True)
            results.append(result)
    return results


def _clock(done: float, total: float) -> str:
    """Audio time transcribed / to transcribe, e.g. "0:12:30 / 1:05:00 d'audio"."""
    as_hms = lambda s: format_timecode(s, millis=False, hour_digits=1)  # noqa: E731
    return f"{as_hms(done)} / {as_hms(total)} d'audio"


def _line(result: TranscribeResult) -> str:
    label = STATUS_LABELS.get(result.status, result.status)
    details = []
    if result.status == "done":
        details.append(f"version {result.version}, {result.segments} segment(s), langue {result.language}")
    if result.reason:
        details.append(result.reason)
    return f"{label} {result.public_id}" + (f" : {' ; '.join(details)}" if details else "")


def _summary(results: list[TranscribeResult]) -> None:
    count = lambda status: sum(r.status == status for r in results)
    console.print(f"Transcrits : {count('done')} · à jour : {count('up-to-date') + count('human')} · "
                  f"transcription humaine nécessaire : {count('needs-human')} · non traités : {count('skipped')} · "
                  f"échecs : {count('failed')}")
    problems = []
    if count("failed"):
        problems.append(f"{count('failed')} témoignage(s) en échec : relancez la commande pour réessayer")
    flagged = [r for r in results if r.status == "needs-human"]
    if flagged:
        lines = "".join(f"\n  {r.public_id} : {r.reason}" for r in flagged)
        problems.append(f"{len(flagged)} témoignage(s) à transcrire par une personne (kuma transcript import ; "
                        f"aucun usage public d'ici là) :{lines}")
    if problems:
        raise StageError("\n".join(problems))


def _quality_line(quality: dict) -> str:
    confidence = quality.get("mean_word_probability")
    figures = f"{quality.get('words', 0)} mot(s) pour {quality.get('speech_s', 0):.0f} s de parole" + (
        f", confiance moyenne {confidence:.2f}" if confidence is not None else "")
    verdict = f"[yellow]à transcrire par une personne[/] : {escape(quality['reason'])}" if quality.get("needs_human") \
        else "[green]reconnaissance vérifiée[/]"
    return f"{figures} — {verdict}"


@transcript_app.command("export")
def export(
    public_id: str = typer.Argument(..., help="Identifiant du témoignage."),
    fmt: str = typer.Option("vtt", "--format", "-f", help=f"Format : {', '.join(formats.FORMATS)}."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Fichier de sortie (défaut : la sortie standard)."),
    version: int | None = typer.Option(None, "--version", help="Une version précise (défaut : la version retenue)."),
) -> None:
    """Exporter la transcription de référence (dernière humaine, sinon automatique). Usage interne : non caviardée."""
    archive = context.archive()
    with archive.session() as session:
        text = export_transcript(session, get(session, public_id), fmt, actor=context.settings().actor,
                                 version=version)
    if output is None:
        print(text, end="")
        return
    output.write_text(text, encoding="utf-8")
    console.print(f"Transcription de {public_id.upper()} écrite dans {output} ({fmt}, usage interne).")


@transcript_app.command("import")
def import_(
    public_id: str = typer.Argument(..., help="Identifiant du témoignage."),
    file: Path = typer.Argument(..., help="Transcription corrigée : VTT, SRT ou TXT."),
    fmt: str | None = typer.Option(None, "--format", "-f", help="vtt, srt ou txt (défaut : d'après le fichier)."),
) -> None:
    """Importer une transcription corrigée comme nouvelle version humaine (les versions automatiques sont conservées)."""
    archive = context.archive()
    with archive.session() as session:
        testimony = get(session, public_id)
        transcript = import_transcript(session, testimony, file, actor=context.settings().actor, fmt=fmt)
        console.print(f"[green]✓[/] {testimony.public_id} : version {transcript.version} (humaine) importée, "
                      f"{len(transcript.segments)} segment(s).")


@transcript_app.command("show")
def show(
    public_id: str = typer.Argument(..., help="Identifiant du témoignage."),
    as_json: bool = typer.Option(False, "--json", help="Sortie JSON."),
) -> None:
    """Afficher les versions de transcription, l'état de l'étape et les thèmes suggérés."""
    archive = context.archive()
    with archive.session() as session:
        testimony = get(session, public_id)
        status = testimony.stage(STAGE)
        data = {
            "id": testimony.public_id,
            "stage": {"state": status.state, "reason": status.reason} if status else None,
            "versions": [{"version": t.version, "source": t.source, "language": t.language,
                          "language_probability": t.language_probability, "model": t.model,
                          "segments": len(t.segments), "low_confidence": sum(s.low_confidence for s in t.segments),
                          "quality": t.quality,
                          "created_by": t.created_by, "created_at": t.created_at.isoformat()}
                         for t in transcripts_of(session, testimony)],
            "theme_suggestions": [{"theme": s.theme_slug, "score": s.score, "evidence": s.evidence}
                                  for s in suggestions_for(session, testimony)],
            "themes": [t.slug for t in testimony.themes],
        }
    if as_json:
        emit_json(data)
        return
    stage = data["stage"]
    console.print(f"[bold]{data['id']}[/] — transcription : {stage['state'] if stage else 'pas encore'}"
                  + (f" ({stage['reason']})" if stage and stage["reason"] else ""), soft_wrap=True)
    for v in data["versions"]:
        console.print(f"  v{v['version']} {v['source']:5} {v['language'] or '?':3} {v['segments']} segment(s), "
                      f"{v['low_confidence']} à relire — {v['created_by'] or ''} {v['created_at'][:16]}")
        if v["quality"]:
            console.print("      " + _quality_line(v["quality"]), soft_wrap=True)
    if data["theme_suggestions"]:
        console.print("  Thèmes suggérés (à valider) : " + ", ".join(
            f"{s['theme']} ({s['score']})" for s in data["theme_suggestions"]))


def demo_step(demo, stage) -> None:
    """Transcribe the samples with the real model (installed into the demo archive from its
    packages), print an excerpt of each and its word error rate against the sample's script."""
    demo.console.print("[bold]3. Transcription[/]")
    settings = demo.archive.settings
    _install_demo_model(demo, settings)
    results = list(pipeline.run_stage(demo.archive, stage, actor="demo"))
    for result in results:
        demo.console.print(_line(result.source), soft_wrap=True)
        _print_quality(demo, result.testimony)
    demo.notes["transcribed_with_model"] = True
    flagged = [r.testimony for r in results if r.state == StageState.NEEDS_HUMAN]
    if flagged:
        _correct_by_hand(demo, flagged)
    _print_excerpt(demo)


def _install_demo_model(demo, settings) -> None:
    from api.commands.models import install_with_progress
    from transcripts.models import CATALOGUE

    if settings.whisper_model in CATALOGUE and not model_available(settings):
        path, _ = install_with_progress(settings, settings.whisper_model)
        demo.console.print(f"Modèle « {settings.whisper_model} » installé depuis ses paquets dans {path}.")


def _script_path(demo, testimony) -> Path:
    """The sample's script: its reference subtitles beside the recording (sample-1-alger.vtt)."""
    return Path(demo.samples) / Path(testimony.source_name or "").with_suffix(".vtt").name


def _script_of(demo, testimony) -> str | None:
    """The sample's script: the text of its reference subtitles, read but never imported."""
    reference = _script_path(demo, testimony)
    if not reference.is_file():
        return None
    cues = formats.parse("vtt", reference.read_text(encoding="utf-8"), duration=testimony.duration, name=reference.name)
    return " ".join(c.text for c in cues)


def _print_quality(demo, public_id: str, lines: int = 2) -> None:
    from archive.consent import preferred_transcript
    from transcripts.quality import word_error_rate

    with demo.archive.session() as session:
        testimony = get(session, public_id)
        transcript = preferred_transcript(session, testimony.id)
        if transcript is None:
            return
        for segment in transcript.segments[:lines]:
            demo.console.print(f"    [{format_timecode(segment.start)}] {segment.text}",
                               soft_wrap=True, markup=False)
        script = _script_of(demo, testimony)
        quality = transcript.quality or {}
        confidence = quality.get("mean_word_probability")
        figures = [f"confiance moyenne des mots {confidence:.2f}"] if confidence is not None else []
        if script:
            error = word_error_rate(script, " ".join(s.text for s in transcript.segments), transcript.language)
            figures.insert(0, f"taux d'erreur sur les mots (WER) {error.wer:.0%} sur {error.reference_words} mots du script")
        if figures:
            demo.console.print("    " + " · ".join(figures), soft_wrap=True)


def _correct_by_hand(demo, public_ids: list[str]) -> None:
    """What the team does with a flagged testimony: a person transcribes it. The demo stands in
    for that person with the sample's script, imported as a human version."""
    demo.console.print("Témoignage(s) à transcrire par une personne : une personne de l'équipe corrige "
                       "(ici, le script de l'exemple tient lieu de sa correction).", soft_wrap=True)
    with demo.archive.session() as session:
        for public_id in public_ids:
            testimony = get(session, public_id)
            reference = _script_path(demo, testimony)
            if reference.is_file():
                transcript = import_transcript(session, testimony, reference, actor="demo")
                demo.console.print(f"[green]✓[/] {public_id} : kuma transcript import {reference.name} "
                                   f"→ version {transcript.version} (humaine)")


def _print_excerpt(demo, lines: int = 3) -> None:
    if not demo.public_ids:
        return
    from archive.consent import preferred_transcript

    with demo.archive.session() as session:
        testimony = get(session, demo.public_ids[0])
        transcript = preferred_transcript(session, testimony.id)
        if transcript is None:
            return
        demo.console.print(f"Extrait de {testimony.public_id} (v{transcript.version}, {transcript.source}) :")
        for segment in transcript.segments[:lines]:
            demo.console.print(f"  [{format_timecode(segment.start)} → {format_timecode(segment.end)}] "
                               f"{segment.text}", soft_wrap=True, markup=False)
        suggested = [f"{s.theme_slug} ({s.score})" for s in suggestions_for(session, testimony)]
        if suggested:
            demo.console.print("  Thèmes suggérés (à valider) : " + ", ".join(suggested), soft_wrap=True)
