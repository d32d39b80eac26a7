"""Voice commands: ``kuma voice disguise`` (any file, with a key label) and ``kuma voice modes``."""
from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from api import context
from api.context import console, emit_json
from studio import disguise, voice

voice_app = typer.Typer(help="Déguiser une voix et comparer les modes de déguisement.", no_args_is_help=True)

MODE_DESCRIPTIONS = {
    voice.Mode.LIGHT: "léger : la voix change le moins, les mots restent les plus nets ; cache le moins bien qui parle",
    voice.Mode.STANDARD: "standard : l'équilibre entre voix méconnaissable et mots compris (mode par défaut)",
    voice.Mode.STRONG: "fort : la voix la plus éloignée de l'originale, au prix d'un peu d'intelligibilité",
}
FIGURES = (("eer_ignorant", "EER ignorant"), ("eer_lazy", "EER informé"), ("wer_added", "WER ajouté"),
           ("speed", "vitesse"))
UNMEASURED = "non mesuré"


def register(app: typer.Typer) -> None:
    app.add_typer(voice_app, name="voice")


@voice_app.command("disguise")
def disguise_command(
    source: Path = typer.Argument(..., help="Fichier audio à déguiser (tout format lisible : wav, flac, mp3, m4a, ogg…)."),
    destination: Path = typer.Argument(..., help="Fichier à écrire : .wav ou .flac (mono, même fréquence "
                                                 "d'échantillonnage et même durée que l'entrée)."),
    key: str = typer.Option(..., "--key", help="Étiquette de la clé : avec la clé secrète de l'archive, elle fixe "
                                               "la voix (même étiquette, même voix)."),
    mode: voice.Mode = typer.Option(voice.DEFAULT_MODE.value, "--mode", help="Force du déguisement (kuma voice modes)."),
    as_json: bool = typer.Option(False, "--json", help="Sortie JSON : durée, vitesse, mode et paramètres de la voix."),
) -> None:
    """Déguiser la voix d'un fichier audio avec la clé tirée de la clé secrète et de l'étiquette, comme le fait l'anonymisation (sortie mono)."""
    disguise.output_format(destination)  # a bad suffix is refused before any work
    voice_key = disguise.key_for(context.settings(), key)
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f} %"),
                  TimeRemainingColumn(), console=console, transient=True) as progress:
        task = progress.add_task(source.name[:40], total=None)
        report = disguise.disguise_file(source, destination, voice_key, mode,
                                        progress=lambda done, total: progress.update(task, completed=done,
                                                                                     total=total or None))
    if as_json:
        emit_json({"input": str(source), "output": str(destination), "duration": round(report.duration, 3),
                   "sample_rate": report.sample_rate, "channels": 1, "speed": round(report.speed, 2),
                   "mode": report.mode, "voice": report.voice and report.voice.describe()})
        return
    console.print(f"{destination} : voix déguisée (mode {report.mode}), {report.duration:.1f} s à "
                  f"{report.sample_rate} Hz, mono, {report.speed:.1f} × le temps réel.", soft_wrap=True)


@voice_app.command("modes")
def modes_command(as_json: bool = typer.Option(False, "--json", help="Sortie JSON.")) -> None:
    """Les modes de déguisement de la voix, avec ce que le banc d'essai a mesuré (EER : qui parle reste caché ; WER ajouté : mots perdus)."""
    measured = getattr(voice, "MEASURED", {})
    rows = [{"mode": m.value, "default": m == voice.DEFAULT_MODE, "description": MODE_DESCRIPTIONS[m],
             "measured": measured.get(m)} for m in voice.Mode]
    if as_json:
        emit_json({"data": rows, "count": len(rows)})
        return
    table = Table("mode", "description", *(label for _, label in FIGURES), title="Modes de déguisement de la voix",
                  caption="EER : taux d'erreur d'un vérificateur de locuteur (50 % : il ne reconnaît plus "
                          "personne), référence non déguisée (ignorant) ou déguisée par sa propre clé (informé) ; "
                          "WER ajouté : mots perdus par la reconnaissance ; vitesse : × le temps réel sur un cœur.")
    for row in rows:
        table.add_row(row["mode"] + (" (défaut)" if row["default"] else ""), row["description"],
                      *(_figure(row["measured"], name) for name, _ in FIGURES))
    console.print(table)


def _figure(figures: dict | None, name: str) -> str:
    value = (figures or {}).get(name)
    if value is None:
        return UNMEASURED
    return f"{value:.1f} ×" if name == "speed" else f"{value:.0%}"
