"""Feed commands: ``kuma publish`` and ``kuma radios add/list/revoke/status``."""
from __future__ import annotations

import typer
from rich.table import Table

import pipeline
from api import context
from api.context import console, emit_json
from api.progress import progress_bar
from archive.errors import NotFound, TakedownOverdue
from archive.db import Archive
from feeds import radios as radio_registry
from feeds import receipts
from feeds.build import LOWBAND, PUBLIC, Urls
from feeds.publish import PublishResult, publish as publish_feeds

radios_app = typer.Typer(help="Radios partenaires : jetons d'accès au flux privé.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("publish")(publish)
    app.add_typer(radios_app, name="radios")


def publish(json_output: bool = typer.Option(False, "--json", help="Résultat en JSON.")) -> None:
    """Construire les flux selon le consentement actuel et basculer le répertoire public d'un coup."""
    archive = context.archive()
    result = _publish_with_progress(archive)
    if json_output:
        emit_json(_result_json(result, archive))
        return
    _print_result(result, archive)


def _publish_with_progress(archive: Archive) -> PublishResult:
    with progress_bar("count") as progress:
        task = progress.add_task("publication", total=None)

        def advance(path: str) -> None:
            progress.update(task, description=path[-50:])
            progress.advance(task)

        return publish_feeds(archive, actor=context.settings().actor, progress=advance)


@radios_app.command("add")
def radios_add(
    name: str = typer.Argument(..., help="Nom de la radio, p. ex. « Radio Kayira Ségou »."),
    slug: str | None = typer.Option(None, help="Identifiant ASCII (par défaut : tiré du nom)."),
    json_output: bool = typer.Option(False, "--json", help="Résultat en JSON."),
) -> None:
    """Enregistrer une radio partenaire et afficher l'adresse de son flux privé (affichée une seule fois)."""
    archive = context.archive()
    with archive.session() as session:
        station, token = radio_registry.add(session, name, slug=slug, actor=context.settings().actor)
        slug = station.slug
    publish_feeds(archive, actor=context.settings().actor)
    url = radio_feed_url(archive, token)
    if json_output:
        emit_json({"slug": slug, "name": name, "feed_url": url})
        return
    console.print(f"Radio « {name} » ajoutée ({slug}).")
    console.print(f"Adresse privée de son flux (notez-la : elle ne sera plus affichée) :\n{url}", soft_wrap=True)
    client = f"{Urls(archive.settings).base}/station/kuma-station.pyz"
    console.print("Sur l'ordinateur de la radio (docs/station.md) :", soft_wrap=True)
    console.print(f"  wget -O ~/kuma-station.pyz {client}\n  python3 ~/kuma-station.pyz init --feed '{url}' --every 30",
                  soft_wrap=True, markup=False)


@radios_app.command("list")
def radios_list(json_output: bool = typer.Option(False, "--json", help="Liste en JSON.")) -> None:
    """Lister les radios partenaires (les jetons ne sont jamais réaffichés)."""
    with context.archive().session() as session:
        rows = [{"slug": s.slug, "name": s.name, "created_at": s.created_at, "revoked_at": s.revoked_at}
                for s in radio_registry.stations(session)]
    if json_output:
        emit_json({"data": rows, "count": len(rows)})
        return
    table = Table("radio", "nom", "créée le", "état")
    for row in rows:
        state = f"révoquée le {row['revoked_at']:%Y-%m-%d}" if row["revoked_at"] else "active"
        table.add_row(row["slug"], row["name"], f"{row['created_at']:%Y-%m-%d}", state)
    console.print(table)


@radios_app.command("revoke")
def radios_revoke(slug: str = typer.Argument(..., help="Identifiant de la radio.")) -> None:
    """Révoquer le jeton d'une radio ; les flux sont republiés pour qu'il cesse de fonctionner aussitôt."""
    archive = context.archive()
    with archive.session() as session:
        station = radio_registry.revoke(session, slug, actor=context.settings().actor)
        name = station.name
    publish_feeds(archive, actor=context.settings().actor)
    console.print(f"Accès de « {name} » révoqué : son adresse de flux ne fonctionne plus.")


@radios_app.command("status")
def radios_status(
    slug: str | None = typer.Argument(None, help="Une radio (par défaut : toutes)."),
    json_output: bool = typer.Option(False, "--json", help="État en JSON."),
) -> None:
    """Ce que chaque radio a déclaré : dernier contact, épisodes détenus, retraits confirmés ou en attente.

    Sort avec le code 8 quand un retrait n'est pas confirmé après KUMA_TAKEDOWN_CONFIRM_DAYS jours."""
    archive = context.archive()
    with archive.session() as session:
        statuses = receipts.status(session, confirm_days=archive.settings.takedown_confirm_days, station=slug)
    if slug is not None and not statuses:
        raise NotFound(f"radio inconnue : {slug}")
    if json_output:
        emit_json({"data": [_status_json(s) for s in statuses], "count": len(statuses)})
    else:
        _print_status(statuses, archive.settings.takedown_confirm_days, detailed=slug is not None)
    if late := [s.slug for s in statuses if s.flagged]:
        days = archive.settings.takedown_confirm_days
        raise TakedownOverdue(f"retrait non confirmé après {days:g} jours par : {', '.join(late)}")


@radios_app.command("confirm")
def radios_confirm(
    slug: str = typer.Argument(..., help="Identifiant de la radio."),
    episode: str = typer.Argument(..., help="Épisode retiré (son identifiant, p. ex. demystification-0007)."),
    note: str = typer.Option("", help="Comment la radio l'a confirmé (appel, message…)."),
) -> None:
    """Confirmer à la main qu'une radio a supprimé un épisode retiré (elle l'a dit par téléphone)."""
    archive = context.archive()
    with archive.session() as session:
        receipts.confirm_by_hand(session, slug, episode, actor=context.settings().actor, note=note or None)
    console.print(f"Retrait de {episode} confirmé pour {slug} (à la main, noté dans le journal d'audit).")


def _status_json(entry: receipts.StationStatus) -> dict:
    return {
        "slug": entry.slug, "name": entry.name, "active": entry.active, "last_contact": entry.last_contact,
        "client": entry.client, "problems": entry.problems, "flagged": entry.flagged, "airings": entry.airings,
        "held": [{"slug": h.slug, "file": h.file, "state": h.state} for h in entry.held], "missing": entry.missing,
        "takedowns": [{"slug": t.slug, "taken_down_at": t.taken_down_at, "reason": t.reason, "state": t.state,
                       "confirmed_at": t.confirmed_at, "confirmed_by": t.confirmed_by} for t in entry.takedowns],
    }


def _print_status(statuses: list[receipts.StationStatus], days: float, *, detailed: bool) -> None:
    table = Table("radio", "dernier contact", "épisodes", "retraits confirmés", "en attente", "alerte")
    for entry in statuses:
        contact = f"{entry.last_contact:%Y-%m-%d %H:%M} UTC" if entry.last_contact else "jamais"
        if not entry.active:
            contact += " (révoquée)"
        overdue = entry.takedowns_in("overdue")
        table.add_row(entry.slug, contact, f"{entry.current} à jour, {len(entry.missing)} manquant(s)",
                      str(len(entry.takedowns_in("confirmed"))), str(len(entry.unconfirmed)),
                      f"[red]{len(overdue)} retrait(s) non confirmé(s) après {days:g} j[/]" if overdue else "")
    console.print(table)
    for entry in statuses if detailed else []:
        for held in entry.held:
            console.print(f"  détient {held.file} ({held.slug}) : {receipts.STATE_LABELS[held.state]}")
        for slug in entry.missing:
            console.print(f"  manque {slug}")
        for item in entry.takedowns:
            by = f" par {item.confirmed_by}, à la main" if item.confirmed_by else ""
            console.print(f"  retrait {item.slug} ({item.taken_down_at:%Y-%m-%d}) : {receipts.STATE_LABELS[item.state]}{by}")
        for problem in entry.problems:
            console.print(f"  problème signalé : {problem}", soft_wrap=True)


def radio_feed_url(archive: Archive, token: str) -> str:
    return radio_registry.feed_url(archive.settings, token)


def _result_json(result: PublishResult, archive: Archive) -> dict:
    urls = Urls(archive.settings)
    return {
        "changed": result.changed, "version": result.version.name, "directory": str(result.current),
        "public_feed": urls.feed(PUBLIC), "lowband_feed": urls.feed(LOWBAND),
        "public_episodes": result.public_episodes, "radio_episodes": result.radio_episodes,
        "taken_down": result.taken_down, "files": result.files,
    }


def _print_result(result: PublishResult, archive: Archive) -> None:
    urls = Urls(archive.settings)
    state = "publié" if result.changed else "inchangé (rien à republier)"
    console.print(f"Flux {state} : {result.current} → {result.version.name}")
    console.print(f"  public      {urls.feed(PUBLIC)}  ({len(result.public_episodes)} épisode(s))")
    console.print(f"  bas débit   {urls.feed(LOWBAND)}")
    console.print(f"  radios      {urls.base}/radio/<jeton>/feed.xml  ({len(result.radio_episodes)} épisode(s))")
    if result.taken_down:
        console.print(f"  retirés     {', '.join(result.taken_down)} (radio/takedown.json)")


def demo_step(demo, step) -> None:
    """Publish the feeds (public, low-band, one demo radio) and say how to serve them."""
    demo.console.print("[bold]7. Flux[/] : publication du flux public, du flux bas débit et d'un flux radio")
    archive = demo.archive
    with archive.session() as session:
        _, token = radio_registry.add(session, "Radio de démonstration", slug="radio-demo", actor="demo")
    published = next(iter(pipeline.run_stage(archive, step, [step.REF], actor="demo")))
    if published.failed:
        demo.console.print(f"  [red]✗[/] {published.reason}", soft_wrap=True)
        return
    result = published.source
    urls = Urls(archive.settings)
    current = result.current
    radio_url = radio_feed_url(archive, token)
    demo.notes["feeds"] = {"directory": str(current), "public": urls.feed(PUBLIC), "lowband": urls.feed(LOWBAND),
                           "radio": radio_url, "radio_token": token}
    demo.console.print(f"  répertoire publié : {current} (version {result.version.name})")
    demo.console.print(f"  flux public       : {urls.feed(PUBLIC)}  → {current / 'podcast' / 'feed.xml'}")
    demo.console.print(f"  flux bas débit    : {urls.feed(LOWBAND)}  → {current / 'podcast' / 'feed-lowband.xml'}")
    demo.console.print(f"  flux radio démo   : {radio_url}", soft_wrap=True)
    demo.console.print(f"  poste de la radio : kuma-station init --feed '{radio_url}' --folder {demo.home / 'radio-demo'}"
                       " puis kuma-station sync, kuma serve lancé (docs/station.md)", soft_wrap=True)
    demo.console.print(f"  épisodes : {len(result.public_episodes)} public(s), {len(result.radio_episodes)} pour les radios")
    if not result.radio_episodes:
        demo.console.print("  [yellow]aucun épisode publiable pour l'instant (consentement ou relecture manquants)[/]")
    demo.console.print(f"  pour les servir : [bold]KUMA_HOME={demo.home} kuma serve[/] "
                       f"(ou un serveur statique sur {current / 'podcast'})")
