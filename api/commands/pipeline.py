"""``kuma process`` and ``kuma worker``: the pipeline (``pipeline.py``) run from the command line.

This module only shows what the stages did; what they do, and in which order, is ``pipeline.STAGES``.
"""
from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.markup import escape

import pipeline
from api import context
from api.context import console, emit_json
from api.progress import progress_bar
from archive.errors import StageError, printable
from archive.models import StageState

STAGE_TITLES = {
    "ingest": "Ingestion (dossier de dépôt)",
    "clean": "Nettoyage du son (bruit, grondement, ronflement)",
    "transcribe": "Transcription",
    "anonymize": "Anonymisation",
    "review": "Relecture humaine",
    "build_episode": "Montage des émissions (conducteurs)",
    "publish": "Publication des flux",
}
STATE_MARKS = {
    StageState.DONE: "[green]✓[/]",
    StageState.PENDING: "[yellow]…[/]",
    StageState.NEEDS_HUMAN: "[yellow]![/]",
    StageState.SKIPPED: "[dim]–[/]",
    StageState.FAILED: "[red]✗[/]",
}


def register(app: typer.Typer) -> None:
    app.command("process")(process)
    app.command("worker")(worker)


def process(
    stage: list[str] = typer.Option(None, "--stage", help="Seulement cette étape (répétable) : "
                                    + ", ".join(s.name for s in pipeline.STAGES) + "."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Dire seulement ce que chaque étape a à faire."),
    json_output: bool = typer.Option(False, "--json", help="Résultats en JSON."),
) -> None:
    """Lancer les étapes, dans l'ordre, sur tout ce qui n'est pas à jour (reprend après une panne)."""
    archive = context.archive()
    stages = tuple(pipeline.stage_named(name) for name in stage) if stage else pipeline.STAGES
    if dry_run:
        _show_pending(archive, stages, json_output)
        return
    results = _run(archive, stages, quiet=json_output)
    if json_output:
        emit_json({"data": [_as_json(r) for r in results], "count": len(results)})
    else:
        _summary(results)
    failed = [r for r in results if r.failed]
    if failed:
        raise StageError(f"{len(failed)} élément(s) en échec (raisons ci-dessus)")


def worker(
    once: bool = typer.Option(False, "--once", help="Un seul passage, puis s'arrêter."),
    interval: float = typer.Option(None, "--interval", min=1, help="Secondes entre deux passages (défaut : KUMA_WORKER_INTERVAL_S)."),
) -> None:
    """Traiter en continu : dossier de dépôt, transcription, anonymisation, montage et publication (Ctrl-C pour arrêter)."""
    archive = context.archive()
    wait = interval or context.settings().worker_interval_s
    console.print(f"Dépôt : {archive.settings.inbox_path} — conducteurs : {archive.settings.programme_path}", soft_wrap=True)
    while True:
        results = _run(archive, pipeline.STAGES, quiet=False, rules=False)
        if once:
            if any(r.failed for r in results):
                raise StageError(f"{sum(r.failed for r in results)} élément(s) en échec")
            return
        if not any(r.changed for r in results):  # nothing new (a failing item is retried after the pause)
            time.sleep(wait)


def _run(archive, stages, *, quiet: bool, rules: bool = True) -> list[pipeline.StageResult]:
    actor = context.settings().actor
    with progress_bar() as bar:
        task = None

        def on_stage(stage, refs: list[str]) -> None:
            if rules and not quiet:
                console.rule(f"{STAGE_TITLES[stage.name]} — {len(refs)} à traiter")

        def progress(stage, ref: str):
            nonlocal task
            if task is not None:
                bar.remove_task(task)
            task = bar.add_task(_short(ref), total=None)
            return lambda done, total: bar.update(task, completed=done, total=total or None)

        def on_result(result: pipeline.StageResult) -> None:
            if not quiet and (result.changed or result.state != StageState.DONE or rules):
                console.print(_line(result), soft_wrap=True)

        hooks = pipeline.Hooks(on_stage=on_stage, progress=progress, on_result=on_result)
        return pipeline.process(archive, actor=actor, hooks=hooks, stages=stages)


def _summary(results: list[pipeline.StageResult]) -> None:
    changed = sum(r.changed for r in results)
    waiting = {r.testimony or r.ref for r in results if r.state == StageState.NEEDS_HUMAN}
    failed = sum(r.failed for r in results)
    console.rule()
    console.print(f"{changed} élément(s) traité(s), {len(waiting)} en attente d'une personne, {failed} en échec.")
    if waiting:
        console.print("Ce qui attend une personne : `kuma review list` ; relire : `kuma review show ID`, "
                      "puis `kuma review approve ID`.")


def _show_pending(archive, stages, json_output: bool) -> None:
    pending = {stage.name.value: stage.pending(archive) for stage in stages}
    if json_output:
        emit_json(pending)
        return
    for name, refs in pending.items():
        shown = ", ".join(_short(r) for r in refs[:8]) + (" …" if len(refs) > 8 else "")
        console.print(f"{STAGE_TITLES[name]:40} {len(refs):4d}  {escape(shown)}", soft_wrap=True)


def _line(result: pipeline.StageResult) -> str:
    what = result.testimony or _short(result.ref)
    if result.testimony and result.ref != result.testimony:
        what = f"{_short(result.ref)} → {result.testimony}"
    detail = " (nouveau)" if result.changed else ""
    reason = f" : {escape(printable(result.reason))}" if result.reason else ""
    return f"{STATE_MARKS[result.state]} {escape(what)}{detail}{reason}"


def _short(ref: str) -> str:
    return printable(Path(ref).name if "/" in ref else ref)


def _as_json(result: pipeline.StageResult) -> dict:
    return {"stage": result.stage.value, "ref": printable(result.ref), "state": result.state.value, "changed": result.changed,
            "reason": result.reason, "testimony": result.testimony, "detail": result.detail}


def demo_step(demo) -> None:
    """Nothing left to do: the demo ran every stage; say how to run them again."""
    demo.console.print("Pour tout relancer (reprise après une panne, nouveaux dépôts) : "
                       f"[bold]KUMA_HOME={demo.home} kuma process[/]")
