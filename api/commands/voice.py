"""Voice commands: ``kuma voice disguise`` (any file, with a key label) and ``kuma voice modes``."""
from __future__ import annotations

from pathlib import Path

import typer

from api import context
from api.context import console, emit_json
from api.progress import progress_bar
from anonymization import disguise, voice

voice_app = typer.Typer(help="Déguiser une voix et comparer les modes de déguisement.", no_args_is_help=True)

MODE_DESCRIPTIONS = {
    voice.Mode.LIGHT: "léger : hauteur et formants changés, les mots restent les plus nets ; un vérificateur "
                      "entraîné reconnaît encore souvent la personne",
    voice.Mode.STANDARD: "standard : timbre remplacé aussi ; l'équilibre entre voix méconnaissable et mots compris",
    voice.Mode.STRONG: "fort : la voix la plus éloignée de l'originale, au prix d'un peu plus de mots perdus",
}
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
    with progress_bar() as progress:
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
    rows = [{"mode": m.value, "default": m == voice.DEFAULT_MODE, "description": MODE_DESCRIPTIONS[m],
             "measured": voice.MEASURED.get(m)} for m in voice.Mode]
    if as_json:
        emit_json({"data": rows, "count": len(rows)})
        return
    for row in rows:
        console.print(f"[bold]{row['mode']}[/]{' (défaut)' if row['default'] else ''} — {row['description']}",
                      highlight=False)
        console.print(f"    {_figures(row['measured'])}", highlight=False)
    console.print("EER : taux d'erreur d'un vérificateur de locuteur entraîné (50 % : il ne reconnaît plus personne), "
                  "sa référence non déguisée (ignorant) ou déguisée avec sa propre clé (informé) ; WER ajouté : "
                  "mots perdus par la reconnaissance (points) ; vitesse : × le temps réel sur un cœur "
                  "(benchmarks/voice.py).", style="dim", highlight=False)


def _figures(figures: dict | None) -> str:
    if not figures:
        return UNMEASURED
    return (f"EER ignorant {figures['eer_ignorant']:.0%} · EER informé {figures['eer_lazy']:.0%} · "
            f"WER ajouté {100 * figures['wer_added']:.0f} points · {figures['speed']:.1f} × le temps réel")
