"""Anonymization commands: ``kuma anonymize`` and the review gate ``kuma review …``."""
from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

import pipeline
from anonymization import stage
from api import context
from api.context import console, emit_json
from api.progress import progress_bar
from archive.errors import InputError, StageError
from archive.models import StageState, TermKind
from archive.testimonies import get
from archive.timecode import format_timecode
from transcripts import formats

review_app = typer.Typer(help="Relire, corriger et approuver les versions anonymisées.", no_args_is_help=True)

STATUS_LABELS = {"created": "[green]créée (à relire)[/]", "unchanged": "à jour", "waiting": "[yellow]en attente[/]",
                 "refused": "[yellow]refusé[/]", "failed": "[red]échec[/]"}


def register(app: typer.Typer) -> None:
    app.command("anonymize")(anonymize)
    app.add_typer(review_app, name="review")


def anonymize(
    ids: list[str] = typer.Argument(None, help="Identifiants des témoignages (T-000001 …)."),
    pending: bool = typer.Option(False, "--pending", help="Tous les témoignages sans version anonymisée à jour."),
) -> None:
    """Préparer la version anonymisée (voix déguisée, passages masqués, texte caviardé) pour relecture."""
    archive = context.archive()
    if not ids and not pending:
        raise InputError("indiquez des identifiants ou --pending")
    targets = list(ids or []) + (stage.pending(archive) if pending else [])
    if not targets:
        console.print("Rien à anonymiser : toutes les versions anonymisées sont à jour.")
        return
    results = _run(archive, list(dict.fromkeys(targets)), context.settings().actor)
    failed = [r for r in results if r.status == "failed"]
    console.print(f"{len(results)} témoignage(s) : "
                  f"{sum(r.status == 'created' for r in results)} à relire, {len(failed)} en échec.")
    if failed:
        raise StageError(f"{len(failed)} témoignage(s) en échec")


def _run(archive, public_ids: list[str], actor: str) -> list[stage.AnonymizeResult]:
    with progress_bar() as bar:
        def progress(_step, ref: str):
            task = bar.add_task(ref, total=None)
            return lambda done, total: bar.update(task, completed=done, total=total or None, visible=done < total)

        hooks = pipeline.Hooks(progress=progress, on_result=lambda r: console.print(_line(r.source), soft_wrap=True))
        return [r.source for r in pipeline.run_stage(archive, pipeline.ANONYMIZE, public_ids, actor=actor, hooks=hooks)]


def _line(result: stage.AnonymizeResult) -> str:
    detail = f" ({result.redactions} passage(s) masqué(s))" if result.status in ("created", "unchanged") else ""
    reason = f" : {escape(result.reason)}" if result.reason else ""
    return f"{result.public_id} : {STATUS_LABELS[result.status]}{detail}{reason}"


@review_app.command("list")
def review_list(as_json: bool = typer.Option(False, "--json", help="Sortie JSON.")) -> None:
    """La file de relecture : ce qui attend une personne, le plus urgent d'abord (transcriptions à faire, puis versions à écouter)."""
    archive = context.archive()
    with archive.session() as session:
        queue = stage.review_queue(session)
    if as_json:
        emit_json({"data": [entry.as_dict() for entry in queue], "count": len(queue)})
        return
    if not queue:
        console.print("Rien n'attend de relecture.")
        return
    table = Table(title=f"File de relecture — {len(queue)} témoignage(s)")
    for column in ("témoignage", "à faire", "masqués", "douteux", "pourquoi"):
        table.add_column(column)
    for entry in queue:
        task = "[yellow]transcrire[/] (kuma transcript import)" if entry.task == "transcrire" else "relire (kuma review show)"
        table.add_row(entry.public_id, task, str(entry.bleeps) if entry.task == "relire" else "",
                      str(entry.flags) if entry.task == "relire" else "", escape(entry.reason))
    console.print(table)


@review_app.command("show")
def review_show(
    public_id: str = typer.Argument(..., help="Identifiant du témoignage."),
    audio: Path | None = typer.Option(None, "--audio", help="Fichier d'écoute (défaut : relecture-<ID>.ogg)."),
    no_audio: bool = typer.Option(False, "--no-audio", help="Ne pas écrire de fichier d'écoute."),
    as_json: bool = typer.Option(False, "--json", help="Sortie JSON."),
) -> None:
    """Lister chaque passage masqué et chaque passage signalé avec son minutage, et écrire un court fichier d'écoute."""
    archive = context.archive()
    with archive.session() as session:
        testimony = get(session, public_id)
        rendition = stage.current_or_raise(testimony)
        items = stage.review_items(session, rendition)
        flags = stage.review_flags(session, rendition)
        audio_path = None
        if not no_audio:
            audio_path = stage.write_review_audio(archive, rendition, audio or Path(f"relecture-{testimony.public_id}.ogg"))
        gate = stage.intelligibility_of(rendition, archive.settings.voice_max_wer)
        if as_json:
            emit_json({"testimony": testimony.public_id, "status": rendition.status, "data": items,
                       "count": len(items), "flags": flags, "flag_count": len(flags), "intelligibility": gate,
                       "audio": str(audio_path) if audio_path else None})
            return
        print_review(testimony.public_id, rendition.status, items)
        print_flags(flags)
        print_intelligibility(gate)
        if audio_path:
            console.print(f"Extraits à écouter : {audio_path} (version entière : « kuma review audio "
                          f"{testimony.public_id} --out FICHIER »)", soft_wrap=True)


def print_review(public_id: str, status: str, items: list[dict], out=None) -> None:
    out = out or console
    table = Table(title=f"{public_id} — {len(items)} passage(s) masqué(s), statut : {status}")
    for column in ("n°", "temps", "type", "retiré", "contexte"):
        table.add_column(column)
    for item in items:
        kind = item["placeholder"] or "passage coupé"
        when = item["timecode"] + (" ~" if item.get("estimated") else "")
        table.add_row(str(item["n"]), when, kind, item["original"] or "", item["context"])
    out.print(table)


def print_intelligibility(gate: dict, out=None) -> None:
    out = out or console
    mark = "[yellow]à accepter (--accept-unintelligible)[/]" if gate["problem"] else "[green]ok[/]"
    out.print(f"Intelligibilité de la voix : {escape(gate['summary'])} — {mark}", soft_wrap=True)


def print_flags(flags: list[dict], out=None) -> None:
    """What was NOT removed but must be checked by ear: weaker matches and low-confidence segments."""
    out = out or console
    if not flags:
        out.print("Aucun passage signalé.")
        return
    table = Table(title=f"{len(flags)} passage(s) signalé(s) : à vérifier à l'écoute (non masqués)")
    for column in ("n°", "temps", "fin", "type", "mots", "raison", "contexte"):
        table.add_column(column)
    for flag in flags:
        when = flag["timecode"] + (" ~" if flag.get("estimated") else "")
        table.add_row(str(flag["n"]), when, format_timecode(flag["end"], millis=False),
                      stage.FLAG_LABELS.get(flag["source"], flag["source"]), flag.get("original") or "",
                      flag["reason"], flag["context"])
    out.print(table)


@review_app.command("audio")
def review_audio(
    public_id: str = typer.Argument(..., help="Identifiant du témoignage."),
    out: Path = typer.Option(..., "--out", help="Fichier à écrire : .wav, .flac, .mp3, .ogg ou .opus."),
) -> None:
    """Écrire la version anonymisée entière, exactement telle qu'elle sera diffusée (voix déguisée, passages masqués)."""
    archive = context.archive()
    with archive.session() as session:
        testimony = get(session, public_id)
        rendition = stage.current_or_raise(testimony)
        path = stage.write_rendition_audio(archive, rendition, out)
        console.print(f"{testimony.public_id} : version anonymisée entière ({len(rendition.redactions)} passage(s) "
                      f"masqué(s), {len(rendition.flags or [])} signalé(s)) : {path}", soft_wrap=True)


@review_app.command("add-term")
def review_add_term(
    public_id: str = typer.Argument(..., help="Identifiant du témoignage."),
    term: str = typer.Argument(..., help="Nom, lieu ou numéro à masquer."),
    kind: str = typer.Option("name", "--kind", help="name, place, phone ou other."),
    run: bool = typer.Option(True, "--run/--no-run", help="Refaire la version anonymisée tout de suite."),
) -> None:
    """Ajouter un terme sensible ; la version anonymisée repart en relecture."""
    if kind not in {k.value for k in TermKind}:
        raise InputError(f"type inconnu {kind!r} (attendu : {', '.join(TermKind)})")
    _change_terms(public_id, run, lambda session, t, actor: stage.add_term(session, t, term, kind, actor))


@review_app.command("ignore")
def review_ignore(
    public_id: str = typer.Argument(..., help="Identifiant du témoignage."),
    term: str = typer.Argument(..., help="Mot masqué à tort (faux positif), tel qu'affiché dans « retiré »."),
    run: bool = typer.Option(True, "--run/--no-run", help="Refaire la version anonymisée tout de suite."),
) -> None:
    """Marquer une détection comme fausse alerte ; la version anonymisée repart en relecture."""
    _change_terms(public_id, run, lambda session, t, actor: stage.ignore_term(session, t, term, actor))


def _change_terms(public_id: str, run: bool, change) -> None:
    archive = context.archive()
    actor = context.settings().actor
    with archive.session() as session:
        testimony = get(session, public_id)
        change(session, testimony, actor)
        public_id = testimony.public_id
    console.print(f"{public_id} : termes mis à jour, la version anonymisée repasse en relecture.")
    if run:
        _run(archive, [public_id], actor)
    else:
        console.print(f"Relancez « kuma anonymize {public_id} ».")


@review_app.command("approve")
def review_approve(
    public_id: str = typer.Argument(..., help="Identifiant du témoignage."),
    accept_unintelligible: bool = typer.Option(
        False, "--accept-unintelligible",
        help="Approuver une voix déguisée jugée peu intelligible, ou dont l'intelligibilité n'a pas pu être "
             "mesurée, après l'avoir écoutée en entier (noté dans le journal d'audit)."),
) -> None:
    """Approuver la version anonymisée actuelle : elle peut désormais sortir de l'archive (selon le consentement)."""
    archive = context.archive()
    with archive.session() as session:
        testimony = get(session, public_id)
        stage.approve(archive, session, testimony, context.settings().actor,
                      accept_unintelligible=accept_unintelligible)
        console.print(f"{testimony.public_id} : version anonymisée approuvée.")


@review_app.command("export")
def review_export(
    public_id: str = typer.Argument(..., help="Identifiant du témoignage."),
    fmt: str = typer.Option("vtt", "--format", help=f"Format : {', '.join(formats.FORMATS)}."),
    out: Path | None = typer.Option(None, "--out", help="Fichier de sortie (défaut : sortie standard)."),
) -> None:
    """Écrire la transcription caviardée de la version actuelle (en attente ou approuvée)."""
    archive = context.archive()
    with archive.session() as session:
        testimony = get(session, public_id)
        text = export_redacted(testimony, fmt)
    if out:
        out.write_text(text, encoding="utf-8")
        console.print(f"Transcription caviardée : {out}")
    else:
        print(text, end="")


def export_redacted(testimony, fmt: str) -> str:
    rendition = stage.current_or_raise(testimony)
    meta = {"testimony": testimony.public_id, "redacted": True, "status": rendition.status}
    return formats.render(fmt, formats.as_cues(rendition.redacted_segments), meta)


def demo_step(demo, step) -> None:
    """Anonymize the samples."""
    demo.console.print("[bold]4. Anonymisation[/] : voix déguisée, données personnelles coupées, texte caviardé")
    with progress_bar() as bar:
        def progress(_stage, ref: str):
            task = bar.add_task(ref, total=None)
            return lambda done, total: bar.update(task, completed=done, total=total or None, visible=done < total)

        hooks = pipeline.Hooks(progress=progress, on_result=lambda r: demo.console.print(_line(r.source), soft_wrap=True))
        results = list(pipeline.run_stage(demo.archive, step, actor="demo", hooks=hooks))
    demo.notes["anonymized"] = [r.testimony for r in results if r.state == StageState.DONE]


def demo_review(demo, step) -> None:
    """What review sees; the demo approves as the reviewer would, and says where the results are."""
    demo.console.print("[bold]5. Relecture[/] : ce que la personne qui relit voit, puis son approbation")
    archive = demo.archive
    out = demo.home / "anonymise"
    out.mkdir(parents=True, exist_ok=True)
    for result in pipeline.run_stage(archive, step, actor="demo"):
        if result.state != StageState.NEEDS_HUMAN or result.detail.get("task") != "relire":
            continue
        with archive.session() as session:
            testimony = get(session, result.ref)
            rendition = stage.current_or_raise(testimony)
            print_review(testimony.public_id, rendition.status, stage.review_items(session, rendition), demo.console)
            print_flags(stage.review_flags(session, rendition), demo.console)
            gate = stage.intelligibility_of(rendition, archive.settings.voice_max_wer)
            print_intelligibility(gate, demo.console)
            if gate["problem"]:
                demo.console.print("    (démonstration : approuvé quand même, comme avec --accept-unintelligible)")
            stage.approve(archive, session, testimony, "demo", accept_unintelligible=True)
            audio = archive.store.copy_out(rendition.audio.sha256, out / f"{testimony.public_id}-anonyme.flac")
            vtt = out / f"{testimony.public_id}-caviarde.vtt"
            vtt.write_text(export_redacted(testimony, "vtt"), encoding="utf-8")
            demo.console.print(f"{testimony.public_id} approuvé — voix déguisée : {audio}\n"
                               f"    transcription caviardée : {vtt}", soft_wrap=True)
