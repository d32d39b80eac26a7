"""``kuma episode``: build an episode from a rundown, list and show episodes, make a radio pack."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import typer
from rich.markup import escape
from rich.table import Table

import pipeline
from api import context
from api.context import console, emit_json, err_console
from api.progress import progress_bar
from archive.audio import encode
from archive.yamlfile import dump_yaml
from archive.errors import ConsentRefused, RundownError
from archive.models import Episode
from studio.episode import build_episode, episode_by_ref
from studio.pack import make_pack

episode_app = typer.Typer(help="Émissions : montage depuis un conducteur, liste, paquet radio.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(episode_app, name="episode")


@episode_app.command("build")
def build(
    rundown: Path = typer.Argument(..., help="Conducteur YAML de l'épisode."),
    public: bool | None = typer.Option(None, "--public/--radio-only",
                                       help="Épisode public (flux en ligne) ou réservé aux radios ; défaut : le conducteur."),
    force: bool = typer.Option(False, "--force", help="Reconstruire même si rien n'a changé."),
) -> None:
    """Valider un conducteur, puis monter, mastériser et encoder l'émission avec ses fichiers annexes."""
    archive = context.archive()
    try:
        result = _build_with_progress(archive, rundown, public, force)
    except (RundownError, ConsentRefused) as exc:
        problems = getattr(exc, "problems", None) or [str(exc)]
        err_console.print(f"[bold red]Conducteur refusé[/] ({len(problems)} problème(s)) :")
        for line in problems:
            err_console.print(f"  - {line}", soft_wrap=True)
        # re-raised with a short message: main() prints it and exits with the error's code
        raise type(exc)(f"conducteur refusé : {len(problems)} problème(s), détail ci-dessus") from exc
    verb = "construit" if result.built else "inchangé (rien à refaire)"
    console.print(f"Épisode {result.slug} {verb} — durée {result.duration / 60:.1f} min")
    print_loudness(result.loudness)


def _build_with_progress(archive, rundown: Path, public: bool | None, force: bool):
    with progress_bar() as progress:
        tasks: dict[str, int] = {}

        def report(stage: str, done: float, total: float) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage.capitalize(), total=total or None)
            progress.update(tasks[stage], completed=done)

        return build_episode(archive, rundown, public=public, force=force, actor=context.settings().actor,
                             progress=report)


RENDITIONS = ("broadcast", "podcast", "lowband", "lowband-opus")


def print_loudness(loudness: dict, out=console) -> None:
    """Loudness measured on each encoded file (decoded again after encoding), and the producer's flags."""
    table = Table(title="Niveaux mesurés sur les fichiers encodés (ITU-R BS.1770)")
    for column in ("version", "cible LUFS", "mesuré LUFS", "crête vraie dBTP", "plage LU", "gain dB", "passes"):
        table.add_column(column)
    source = loudness.get("source", {})
    table.add_row("mixage brut (avant mastering)", "", _fmt(source.get("integrated")), _fmt(source.get("true_peak")),
                  _fmt(source.get("lra")), "", "")
    for name in RENDITIONS:
        row = loudness.get(name)
        if row:
            table.add_row(_rendition_label(name, row), _fmt(row.get("target")), _fmt(row.get("integrated")),
                          _fmt(row.get("true_peak")), _fmt(row.get("lra")), _fmt(row.get("gain_db")),
                          str(row.get("passes", "")))
    out.print(table)
    print_voices(loudness.get("items", []), out)
    for flag in loudness.get("flags", []):
        out.print(f"[yellow]à écouter[/] : {flag}", soft_wrap=True)


def print_voices(items: list[dict], out=console) -> None:
    """What the build did to each speech item: cleaned or not, level as recorded, gain to the speech level."""
    if not items:
        return
    table = Table(title="Voix mises à niveau (avant mixage)")
    for column in ("élément", "nettoyé", "niveau enregistré LUFS", "gain dB"):
        table.add_column(column)
    for item in items:
        table.add_row(escape(item["title"]), "oui" if item["cleaned"] else "non", _fmt(item["measured"]),
                      _fmt(item["gain_db"]))
    out.print(table)


def _rendition_label(name: str, row: dict) -> str:
    if row.get("measured_on") != "file":
        return f"{name} (mesuré avant encodage)"  # episodes built before the figures were taken on the files
    return name if row.get("on_target", True) else f"{name} (hors cible)"


def _fmt(value) -> str:
    return "" if value is None else f"{value:.1f}"


def _summary(episode: Episode) -> dict:
    return {"id": episode.id, "slug": episode.slug, "programme": episode.programme, "number": episode.number,
            "title": episode.title, "date": episode.date.isoformat(), "public": episode.public,
            "duration": episode.duration, "built_at": episode.built_at, "taken_down_at": episode.taken_down_at}


@episode_app.command("list")
def list_episodes(as_json: bool = typer.Option(False, "--json", help="Sortie JSON.")) -> None:
    """Lister les émissions construites."""
    with context.archive().session() as session:
        rows = [_summary(e) for e in session.query(Episode).order_by(Episode.date.desc(), Episode.number.desc())]
    if as_json:
        emit_json({"data": rows, "count": len(rows)})
        return
    table = Table(title=f"{len(rows)} épisode(s)")
    for column in ("id", "slug", "n°", "titre", "date", "durée", "public"):
        table.add_column(column)
    for row in rows:
        table.add_row(str(row["id"]), row["slug"], str(row["number"]), row["title"], row["date"],
                      f"{(row['duration'] or 0) / 60:.1f} min", "oui" if row["public"] else "radios")
    console.print(table)


@episode_app.command("show")
def show(ref: str = typer.Argument(..., help="Identifiant, slug de l'épisode."),
         as_json: bool = typer.Option(False, "--json", help="Sortie JSON.")) -> None:
    """Afficher une émission : conducteur minuté, niveaux sonores, fichiers."""
    with context.archive().session() as session:
        episode = episode_by_ref(session, ref)
        data = {**_summary(episode), "description": episode.description, "cue": episode.cue,
                "loudness": episode.loudness,
                "testimonies": sorted(link.testimony.public_id for link in episode.testimonies),
                "assets": [{"role": a.role, "format": a.format, "sha256": a.sha256, "size": a.size,
                            "bitrate": a.bitrate, "duration": a.duration} for a in sorted(episode.assets, key=lambda a: a.id)]}
    if as_json:
        emit_json(data)
        return
    console.print(f"[bold]{data['title']}[/] — {data['programme']} n° {data['number']} ({data['date']}) — {data['slug']}")
    table = Table(title="Conducteur")
    for column in ("début", "durée", "type", "titre", "intervenant"):
        table.add_column(column)
    for entry in data["cue"]:
        table.add_row(f"{entry['start']:.1f} s", f"{entry['duration']:.1f} s", entry["kind"], entry["title"],
                      entry.get("speaker") or "")
    console.print(table)
    print_loudness(data["loudness"])
    for asset in data["assets"]:
        console.print(f"  {asset['role']:<16} {asset['format']:<5} {asset['size'] / 1024:>9.0f} Kio  {asset['sha256'][:12]}")


@episode_app.command("pack")
def pack(ref: str = typer.Argument(..., help="Identifiant ou slug de l'épisode."),
         output: Path = typer.Option(Path("."), "--output", "-o", help="Dossier (ou fichier .zip) de sortie.")) -> None:
    """Écrire le paquet radio (zip) pour les stations sans internet ; le consentement est revérifié."""
    path = make_pack(context.archive(), ref, output, actor=context.settings().actor)
    console.print(f"Paquet radio : {path} ({path.stat().st_size / 1e6:.1f} Mo)")


# --- demo -------------------------------------------------------------------------------------

DEMO_RATE = 48000


def _demo_sounds(folder: Path) -> None:
    """Jingle, host link and music bed made with numpy (no audio is shipped for them)."""
    folder.mkdir(parents=True, exist_ok=True)
    t = np.arange(4 * DEMO_RATE) / DEMO_RATE
    notes = np.select([t < 1, t < 2, t < 3], [523.25, 659.25, 783.99], 1046.5)
    jingle = 0.3 * np.sin(2 * np.pi * np.cumsum(notes) / DEMO_RATE) * np.exp(-(t % 1) * 2)
    encode(np.stack([jingle, jingle], axis=1).astype(np.float32), folder / "jingle.flac", rate=DEMO_RATE)
    t = np.arange(6 * DEMO_RATE) / DEMO_RATE
    pitch = 140 * (1 + 0.1 * np.sin(2 * np.pi * 0.6 * t))
    phase = 2 * np.pi * np.cumsum(pitch) / DEMO_RATE
    voice = sum(np.sin(k * phase) / k for k in range(1, 10)) * (np.sin(2 * np.pi * 3 * t) > -0.2)
    encode((0.15 * voice).astype(np.float32), folder / "animation.flac", rate=DEMO_RATE)
    t = np.arange(20 * DEMO_RATE) / DEMO_RATE
    chord = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.18, 329.63)) / 3
    bed = 0.25 * chord * (0.8 + 0.2 * np.sin(2 * np.pi * 0.25 * t))
    encode(np.stack([bed, bed * 0.9], axis=1).astype(np.float32), folder / "nappe.flac", rate=DEMO_RATE)


def demo_step(demo, step) -> None:
    """Write a public episode's rundown (testimonies allowed online) and a radio-only one into the
    programme folder, where the build stage finds them; then a radio pack."""
    demo.console.print("[bold]6. Émission[/] : conducteur, montage, niveaux, encodages, chapitres, paquet radio")
    from archive.consent import Use, decide
    from archive.testimonies import get

    candidates = demo.notes.get("anonymized") or demo.public_ids
    with demo.archive.session() as session:
        broadcast = [pid for pid in candidates if decide(get(session, pid), Use.BROADCAST).allowed]
        online = [pid for pid in broadcast if decide(get(session, pid), Use.ONLINE).allowed]
    if not broadcast:
        demo.console.print("  aucun témoignage approuvé pour la diffusion : étape sautée")
        return
    folder = demo.archive.settings.programme_path
    _demo_sounds(folder / "sons")
    plans = [(2, "Revenir, et après ?", broadcast[:2], False)]
    if online:
        plans.insert(0, (1, "Ce qu'on ne nous avait pas dit", online[:1], True))
    public_rundowns = {str(_demo_rundown(demo, folder, number, title, public_ids, public)): public
                       for number, title, public_ids, public in plans}
    built = None
    for result in pipeline.run_stage(demo.archive, step, actor="demo"):
        if result.failed:
            demo.console.print(f"  [red]✗[/] {Path(result.ref).name} : {result.reason}", soft_wrap=True)
            continue
        built = result.source
        audience = "public (internet et radios)" if public_rundowns.get(result.ref) else "radios partenaires seulement"
        demo.console.print(f"  conducteur : {result.ref}\n  épisode {built.slug} — {built.duration:.1f} s — {audience}",
                           soft_wrap=True)
        print_loudness(built.loudness, demo.console)
    if built is None:
        return
    pack_path = make_pack(demo.archive, built.episode_id, demo.home / "paquets", actor="demo")
    demo.console.print(f"  paquet radio : {pack_path}", soft_wrap=True)
    demo.notes["episode"] = {"id": built.episode_id, "slug": built.slug, "pack": str(pack_path)}


def _demo_rundown(demo, folder: Path, number: int, title: str, public_ids: list[str], public: bool) -> Path:
    items = [{"type": "jingle", "file": "sons/jingle.flac", "title": "Générique", "fade_out": 1.0},
             {"type": "host", "file": "sons/animation.flac", "title": "Présentation", "crossfade": 0.5}]
    for index, public_id in enumerate(public_ids):
        if index:
            items.append({"type": "bed", "file": "sons/nappe.flac", "title": "Intermède", "duration": 4,
                          "duck": 15, "fade_in": 1.0, "fade_out": 1.5})
        items.append({"type": "excerpt", "testimony": public_id, "in": 0, "out": 20,
                      "title": f"Témoignage {index + 1}"})
    items.append({"type": "jingle", "file": "sons/jingle.flac", "title": "Fin", "crossfade": 0.5})
    rundown = {"number": number, "title": title, "date": f"2026-11-{20 + 7 * (number - 1):02d}", "language": "fr",
               "description": "Des voix de retour au Mali racontent le voyage et l'arrivée.", "public": public,
               "items": items}
    _clip_outs(demo, rundown)
    path = folder / f"episode-{number:03d}.yaml"
    path.write_text(dump_yaml(rundown), encoding="utf-8")
    return path


def _clip_outs(demo, rundown: dict) -> None:
    """Excerpts of at most 20 s, within each rendition's length."""
    from archive.consent import Use, decide
    from archive.testimonies import get

    with demo.archive.session() as session:
        for item in rundown["items"]:
            if item["type"] == "excerpt":
                audio = decide(get(session, item["testimony"]), Use.BROADCAST).rendition.audio
                item["out"] = round(min(item["out"], audio.duration or item["out"]), 2)
