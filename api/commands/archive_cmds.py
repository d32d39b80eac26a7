"""Archive commands: ingest, verify, testimonies, consent."""
from __future__ import annotations

from contextlib import nullcontext
import shutil
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select

import pipeline
from api import context
from api.context import console, emit_json
from api.progress import progress_bar
from archive.consent import Use, decide
from archive.db import ensure_private_dir
from archive.errors import InputError, IntegrityError, KumaError, StageError, printable
from archive.models import MediaAsset, Testimony, Theme
from archive.store import STALE_AFTER_S, Temporary, VerifyReport
from archive.testimonies import get
from ingest.pipeline import AUDIO_SUFFIXES, IngestResult, collect_files, ingest_paths, quick_duration
from ingest.sidecar import SIDECAR_SUFFIXES

testimonies_app = typer.Typer(help="Lister et consulter les témoignages.", no_args_is_help=True)
consent_app = typer.Typer(help="Consulter et modifier le consentement (historique conservé).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
    app.command("verify")(verify)
    app.add_typer(testimonies_app, name="testimonies")
    app.add_typer(consent_app, name="consent")


def ingest(
    paths: list[Path] = typer.Argument(..., help="Fichiers audio ou dossiers (parcourus récursivement)."),
    meta: Path | None = typer.Option(None, "--meta", help="Métadonnées (YAML/JSON) pour tous les fichiers, au lieu des fichiers voisins."),
    jobs: int | None = typer.Option(None, "--jobs", "-j", min=1, help="Processus en parallèle (défaut : KUMA_INGEST_JOBS, sinon un par cœur)."),
) -> None:
    """Ingérer des enregistrements : original intact, copie de travail propre, métadonnées et consentement."""
    archive = context.archive()
    files, _ = collect_files(paths)
    durations = {path: quick_duration(path) for path in files}
    results: list[IngestResult] = []
    with _progress() as progress:
        files_task = progress.add_task("fichiers", total=len(files))
        audio_task = progress.add_task("minutes d'audio", total=round(sum(durations.values()) / 60, 1))

        def on_start(path: Path) -> None:
            progress.update(files_task, description=escape(printable(path.name)[:40]))

        def on_done(result: IngestResult) -> None:
            progress.advance(files_task)
            progress.advance(audio_task, durations.get(result.path, 0.0) / 60)
            _print_result(result)

        for result in ingest_paths(archive, paths, meta=meta, actor=context.settings().actor,
                                   jobs=jobs or context.settings().ingest_workers, on_start=on_start, on_done=on_done):
            if result.status == "failed" and result.path not in durations:
                _print_result(result)
            results.append(result)
    _summary(results)


def _progress() -> Progress:
    return progress_bar("amount")


def _print_result(result: IngestResult) -> None:
    name = escape(printable(result.path.name))
    if result.status == "ingested":
        console.print(f"[green]✓[/] {name} → {result.public_id} ({result.duration:.1f} s)")
    elif result.status == "duplicate":
        console.print(f"[yellow]=[/] {name} : déjà ingéré ({result.public_id})")
    else:
        console.print(f"[red]✗[/] {escape(printable(result.reason or ''))}", soft_wrap=True)


def _summary(results: list[IngestResult]) -> None:
    counts = {status: sum(r.status == status for r in results) for status in ("ingested", "duplicate", "failed")}
    minutes = sum(r.duration for r in results if r.status == "ingested") / 60
    console.print(f"Ingérés : {counts['ingested']} ({minutes:.1f} min d'audio) · déjà présents : "
                  f"{counts['duplicate']} · refusés : {counts['failed']}")
    failed = [r for r in results if r.status == "failed"]
    if failed:
        raise batch_error(failed)


def batch_error(failed: list[IngestResult]) -> KumaError:
    """The error a batch with failures ends with (the other files were done): 1 when any file
    failed unexpectedly (a bug), 2 when every failure is bad input, 7 otherwise."""
    codes = {result.exit_code for result in failed}
    message = f"{len(failed)} fichier(s) non ingéré(s), voir ci-dessus"
    if KumaError.exit_code in codes:
        return KumaError(f"{message} (erreur inattendue : à signaler)")
    if codes == {InputError.exit_code}:
        return InputError(message)
    return StageError(message)


def verify(
    repair: bool = typer.Option(False, "--repair", help="Supprimer les fichiers orphelins et les temporaires "
                                "abandonnés (intouchés depuis une heure)."),
    as_json: bool = typer.Option(False, "--json", help="Sortie JSON."),
) -> None:
    """Revérifier chaque fichier stocké ; signaler les fichiers manquants, altérés, orphelins et les temporaires abandonnés (code de sortie non nul)."""
    archive = context.archive()
    with archive.session() as session:
        expected = set(session.scalars(select(MediaAsset.sha256)))
    with nullcontext() if as_json else _progress() as progress:
        task = progress.add_task("vérification", total=len(expected)) if progress else None
        report = archive.store.verify(expected, progress=lambda _sha: progress and progress.advance(task))
    removed = _repair(archive, report) if repair else None
    if as_json:
        emit_json(_verify_json(report, removed))
    else:
        _print_verify(report, removed)
    if _problems_left(report, removed):
        raise IntegrityError("le stockage ne correspond pas à l'archive")


def _repair(archive, report: VerifyReport) -> dict[str, list]:
    """Remove the orphans untouched for STALE_AFTER_S that still have no record, and the stale
    temporaries. Younger ones may belong to an ingest running now: they stay."""
    settled = [sha for sha in report.orphans if archive.store.age_s(sha) >= STALE_AFTER_S]
    return {"orphans": archive.release_media(settled), "temporaries": archive.store.clean_temp()}


def _problems_left(report: VerifyReport, removed: dict | None) -> bool:
    if removed is None:
        return not report.ok
    orphans_left = set(report.orphans) - set(removed["orphans"])
    temps_left = {t.path for t in report.temporaries} - {t.path for t in removed["temporaries"]}
    return bool(report.missing or report.corrupt or orphans_left or temps_left)


def _print_verify(report: VerifyReport, removed: dict | None) -> None:
    for label, shas in (("manquant", report.missing), ("altéré", report.corrupt), ("orphelin", report.orphans)):
        for sha in shas:
            console.print(f"[red]{label}[/] {sha}")
    for temp in report.temporaries:
        console.print(f"[red]temporaire abandonné[/] {_temp_text(temp)}")
    weight = f" ({_bytes_text(report.temporary_bytes)})" if report.temporaries else ""
    console.print(f"{report.checked} fichier(s) vérifié(s) : {len(report.missing)} manquant(s), "
                  f"{len(report.corrupt)} altéré(s), {len(report.orphans)} orphelin(s), "
                  f"{len(report.temporaries)} temporaire(s) abandonné(s){weight}", soft_wrap=True)
    if removed is None:
        return
    for sha in removed["orphans"]:
        console.print(f"[green]supprimé[/] orphelin {sha}")
    for temp in removed["temporaries"]:
        console.print(f"[green]supprimé[/] temporaire {_temp_text(temp)}")
    young = len(report.orphans) - len(removed["orphans"])
    if young:
        console.print(f"{young} orphelin(s) laissé(s) : écrit(s) il y a moins d'une heure, une ingestion "
                      "peut être en cours ; relancez kuma verify --repair plus tard.")


def _temp_text(temp: Temporary) -> str:
    return f"{escape(printable(temp.path.name))} ({_bytes_text(temp.size)}, {temp.age_s / 3600:.0f} h)"


def _bytes_text(size: int) -> str:
    return f"{size / 1e6:.1f} Mo".replace(".", ",") if size >= 1_000_000 else f"{size} octet(s)"


def _verify_json(report: VerifyReport, removed: dict | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "checked": report.checked, "missing": report.missing, "corrupt": report.corrupt,
        "orphans": report.orphans, "temporaries": [_temp_json(t) for t in report.temporaries],
        "temporary_bytes": report.temporary_bytes,
    }
    if removed is not None:
        data["removed"] = {"orphans": removed["orphans"],
                           "temporaries": [_temp_json(t) for t in removed["temporaries"]]}
    data["ok"] = not _problems_left(report, removed)
    return data


def _temp_json(temp: Temporary) -> dict[str, Any]:
    return {"name": printable(temp.path.name), "bytes": temp.size, "age_s": round(temp.age_s)}


def testimony_summary(testimony: Testimony) -> dict[str, Any]:
    """What staff see of a testimony (internal: never sent to partners as is)."""
    consent = testimony.consent
    return {
        "id": testimony.public_id,
        "pseudonym": testimony.pseudonym,
        "recorded_at": testimony.recorded_at.isoformat() if testimony.recorded_at else None,
        "place": testimony.place,
        "language": testimony.language,
        "expelled_from": testimony.expelled_from,
        "route": testimony.route,
        "themes": [t.slug for t in testimony.themes],
        "duration": testimony.duration,
        "stages": {s.stage: s.state for s in testimony.stages},
        "consent_version": consent.version if consent else None,
        "uses": {use.value: decide(testimony, use).allowed for use in Use},
    }


@testimonies_app.command("list")
def list_testimonies(
    theme: str | None = typer.Option(None, help="Thème (vocabulaire contrôlé)."),
    language: str | None = typer.Option(None, help="Code de langue (fr, bm…)."),
    status: str | None = typer.Option(None, help="État d'une étape, ex. transcribe:failed ou needs_human."),
    use: Use | None = typer.Option(None, help="Seulement ceux que le consentement autorise pour cet usage."),
    as_json: bool = typer.Option(False, "--json", help="Sortie JSON."),
) -> None:
    """Lister les témoignages, l'état de chaque étape et ce que leur consentement permet."""
    archive = context.archive()
    with archive.session() as session:
        query = select(Testimony).order_by(Testimony.id)
        if theme:
            if session.get(Theme, theme) is None:
                raise InputError(f"thème inconnu : {theme}")
            query = query.where(Testimony.themes.any(Theme.slug == theme))
        if language:
            query = query.where(Testimony.language == language)
        rows = [testimony_summary(t) for t in session.scalars(query) if _matches(t, status, use)]
    if as_json:
        emit_json({"data": rows, "count": len(rows)})
        return
    table = Table("id", "pseudonyme", "langue", "durée", "thèmes", "étapes", "usages permis")
    for row in rows:
        table.add_row(row["id"], row["pseudonym"] or "—", row["language"] or "?", f"{row['duration']:.0f} s",
                      ", ".join(row["themes"]), " ".join(f"{k}:{v}" for k, v in row["stages"].items()),
                      ", ".join(k for k, v in row["uses"].items() if v) or "aucun")
    console.print(table)
    console.print(f"{len(rows)} témoignage(s)")


def _matches(testimony: Testimony, status: str | None, use: Use | None) -> bool:
    if use is not None and not decide(testimony, use).allowed:
        return False
    if status:
        stage, _, state = status.rpartition(":")
        states = [s for s in testimony.stages if not stage or s.stage == stage]
        return any(s.state == state for s in states)
    return True


@testimonies_app.command("show")
def show_testimony(public_id: str, as_json: bool = typer.Option(False, "--json", help="Sortie JSON.")) -> None:
    """Afficher un témoignage : métadonnées, médias, consentement, étapes."""
    archive = context.archive()
    with archive.session() as session:
        testimony = get(session, public_id)
        data = testimony_summary(testimony)
        data["media"] = [{"kind": a.kind, "sha256": a.sha256, "format": a.format, "duration": a.duration,
                          "sample_rate": a.sample_rate, "channels": a.channels, "size": a.size}
                         for a in testimony.assets]
        data["sensitive_terms"] = len(testimony.sensitive_terms)
        data["reasons"] = {use.value: decide(testimony, use).reason for use in Use}
    if as_json:
        emit_json(data)
        return
    for key, value in data.items():
        console.print(f"[bold]{key}[/] : {value}", soft_wrap=True)


def consent_record(record) -> dict[str, Any]:
    return {
        "version": record.version, "archive": record.archive, "advocacy": record.advocacy,
        "broadcast": record.broadcast, "online": record.online, "identity": record.identity,
        "voice": record.voice, "voice_mode": record.voice_mode, "withdrawn_at": record.withdrawn_at,
        "collected_by": record.collected_by, "method": record.method, "recorded_by": record.recorded_by,
        "recorded_at": record.recorded_at, "note": record.note,
    }


@consent_app.command("show")
def consent_show(public_id: str, as_json: bool = typer.Option(False, "--json", help="Sortie JSON.")) -> None:
    """Afficher l'historique du consentement (la dernière version fait foi) et ce qu'il permet maintenant."""
    archive = context.archive()
    with archive.session() as session:
        testimony = get(session, public_id)
        history = [consent_record(r) for r in testimony.consents]
        decisions = {use.value: {"allowed": d.allowed, "reason": d.reason}
                     for use, d in ((u, decide(testimony, u)) for u in Use)}
    if as_json:
        emit_json({"id": public_id, "history": history, "decisions": decisions})
        return
    if not history:
        console.print("Aucun consentement enregistré : conservé, rien n'est traité ni diffusé.")
    for record in history:
        console.print(record, soft_wrap=True)
    for use, decision in decisions.items():
        mark = "[green]oui[/]" if decision["allowed"] else "[red]non[/]"
        console.print(f"{use:10} {mark} — {decision['reason']}")


def _flag(value: str | None, name: str) -> bool | None:
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in ("yes", "oui", "true", "1", "y", "o"):
        return True
    if lowered in ("no", "non", "false", "0", "n"):
        return False
    raise InputError(f"{name} : oui/non attendu, reçu {value!r}")


@consent_app.command("set")
def consent_set(
    public_id: str,
    archive_: str | None = typer.Option(None, "--archive", help="oui/non : conserver dans l'archive."),
    advocacy: str | None = typer.Option(None, help="oui/non : accessible aux partenaires (plaidoyer)."),
    broadcast: str | None = typer.Option(None, help="oui/non : diffusion par les radios partenaires."),
    online: str | None = typer.Option(None, help="oui/non : publication sur internet."),
    identity: str | None = typer.Option(None, help="anonymous / pseudonym / named."),
    voice: str | None = typer.Option(None, help="disguise / original."),
    voice_mode: str | None = typer.Option(None, "--voice-mode",
                                          help="light / standard / strong : force du déguisement de la voix "
                                               "(kuma voice modes) ; la version anonymisée repasse en relecture."),
    collected_by: str | None = typer.Option(None, help="Qui a recueilli le consentement."),
    method: str | None = typer.Option(None, help="Comment (oral enregistré, écrit…)."),
    note: str | None = typer.Option(None, help="Remarque."),
) -> None:
    """Enregistrer une nouvelle version du consentement (les précédentes sont conservées)."""
    changes = {k: v for k, v in {
        "archive": _flag(archive_, "archive"), "advocacy": _flag(advocacy, "advocacy"),
        "broadcast": _flag(broadcast, "broadcast"), "online": _flag(online, "online"),
        "identity": identity, "voice": voice, "voice_mode": voice_mode, "collected_by": collected_by,
        "method": method, "note": note,
    }.items() if v is not None}
    if not changes:
        raise InputError("rien à changer : indiquez au moins une option (--broadcast oui, --online non…)")
    change = pipeline.change_consent(context.archive(), public_id, context.settings().actor, changes)
    console.print(f"{change.public_id} : consentement version {change.version} enregistré.")
    _print_notes(change)


@consent_app.command("withdraw")
def consent_withdraw(public_id: str, note: str | None = typer.Option(None, help="Remarque.")) -> None:
    """Retirer le consentement : tout usage est refusé désormais et les publications sont retirées."""
    change = pipeline.withdraw(context.archive(), public_id, context.settings().actor, note)
    console.print(f"{change.public_id} : consentement retiré (version {change.version}). Plus aucun usage n'est autorisé.")
    _print_notes(change)


def _print_notes(change: pipeline.ConsentChange) -> None:
    for note in change.notes:
        console.print(f"  {note}", soft_wrap=True)


def demo_step(demo, stage) -> None:
    """The bundled sample testimonies are dropped in the inbox (with their sidecars), where the
    ingest stage takes them in."""
    demo.console.print("[bold]1. Ingestion[/] des témoignages d'exemple, déposés dans le dossier de dépôt")
    drop = ensure_private_dir(demo.archive.settings.inbox_path)
    for sample in sorted(demo.samples.iterdir()):
        if sample.suffix.lower() in (*AUDIO_SUFFIXES, *SIDECAR_SUFFIXES):
            shutil.copy2(sample, drop / sample.name)  # keeps the old mtime: no wait for a copy to settle
    for result in pipeline.run_stage(demo.archive, stage, actor="demo"):
        demo.console.print(f"[green]✓[/] {Path(result.ref).name} → {result.testimony}" if result.changed
                           else f"[red]✗[/] {escape(result.reason or '')}", soft_wrap=True)
        if result.testimony:
            demo.public_ids.append(result.testimony)
