"""``kuma clean``: the clean stage from the command line (cleaned copies of testimonies)."""
from __future__ import annotations

import typer
from rich.markup import escape

import pipeline
from api import context
from api.context import console
from api.progress import progress_bar
from archive.errors import InputError, StageError
from archive.testimonies import get
from sound.stage import DISABLED, CleanResult

LABELS = {"cleaned": "[green]✓[/] nettoyé", "unchanged": "[dim]=[/] à jour", "skipped": "[yellow]–[/] non traité",
          "failed": "[red]✗[/] échec"}


def register(app: typer.Typer) -> None:
    app.command("clean")(clean)


def clean(
    ids: list[str] = typer.Argument(None, help="Identifiants des témoignages (T-000001...)."),
    pending: bool = typer.Option(False, "--pending", help="Tous les témoignages sans copie nettoyée à jour."),
) -> None:
    """Nettoyer la copie de travail des témoignages (bruit, grondement, ronflement secteur) ;
    la transcription et le déguisement de la voix liront la copie nettoyée."""
    archive = context.archive()
    if not archive.settings.clean_speech:
        raise InputError(DISABLED)
    if not ids and not pending:
        raise InputError("indiquez des identifiants de témoignages ou --pending")
    targets = list(dict.fromkeys([i.strip().upper() for i in ids or []]
                                 + (pipeline.CLEAN.pending(archive) if pending else [])))
    if not targets:
        console.print("Rien à nettoyer : toutes les copies nettoyées sont à jour.")
        return
    with archive.session() as session:
        durations = {ref: get(session, ref).duration or 0.0 for ref in targets}  # unknown ids fail here
    results = run_with_progress(archive, targets, durations)
    failed = [r for r in results if r.status == "failed"]
    console.print(f"Nettoyés : {sum(r.status == 'cleaned' for r in results)} · à jour : "
                  f"{sum(r.status == 'unchanged' for r in results)} · échecs : {len(failed)}")
    if failed:
        raise StageError(f"{len(failed)} témoignage(s) en échec : relancez la commande pour réessayer")


def run_with_progress(archive, targets: list[str], durations: dict[str, float]) -> list[CleanResult]:
    results: list[CleanResult] = []
    with progress_bar("amount") as progress:
        task = progress.add_task("nettoyage", total=sum(durations.values()) or None)
        before = 0.0
        for ref in targets:
            progress.update(task, description=f"nettoyage {ref}")
            report = lambda done, _total, start=before: progress.update(task, completed=start + done)  # noqa: E731
            result = pipeline.CLEAN.run(archive, ref, actor=archive.settings.actor, progress=report).source
            before += durations[ref]
            progress.update(task, completed=before)
            progress.console.print(line(result), soft_wrap=True)
            results.append(result)
    return results


def line(result: CleanResult) -> str:
    text = f"{LABELS.get(result.status, result.status)} {result.public_id}"
    return text + (f" : {escape(result.reason)}" if result.reason else "")


def demo_step(demo, stage) -> None:
    """Clean the ingested samples (the real DeepFilterNet 3 model, from its wheel)."""
    demo.console.print("[bold]2. Nettoyage[/] des enregistrements (bruit de fond, grondement, ronflement secteur)")
    for result in pipeline.run_stage(demo.archive, stage, actor="demo"):
        demo.console.print(line(result.source), soft_wrap=True)
