"""CLI of the archive API (issue 7): ``kuma serve``, ``kuma keys create/list/revoke``,
``kuma audit``, ``kuma reindex``; and the demo step that shows an advocate's searches."""
from __future__ import annotations

import re
import secrets
import shlex

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select

from api import context, users
from api.deps import create_key, revoke_key
from api.progress import progress_bar
from archive.models import ApiKey, AuditEvent, Role, Testimony

keys_app = typer.Typer(help="Clés d'accès à l'API (stockées hachées, une par partenaire).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.add_typer(keys_app, name="keys")
    app.command()(audit)
    app.command()(reindex)


def serve(host: str = typer.Option(None, help="Adresse d'écoute (défaut : KUMA_HOST)."),
          port: int = typer.Option(None, help="Port (défaut : KUMA_PORT)."),
          workers: int = typer.Option(1, min=1, help="Processus uvicorn.")) -> None:
    """Lancer l'API (documentation interactive sur /docs)."""
    import uvicorn

    settings = context.settings()
    context.archive()  # migrate and fail early with a clear message
    host, port = host or settings.host, port or settings.port
    context.console.print(f"API Kuma sur http://{host}:{port} — documentation : http://{host}:{port}/docs — "
                          f"studio web : http://{host}:{port}/studio/")
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers, log_level="info")


@keys_app.command("create")
def keys_create(name: str = typer.Argument(..., help="Nom du partenaire ou de la personne."),
                role: Role = typer.Option(..., "--role", help="admin, producer, advocate ou radio."),
                json: bool = typer.Option(False, "--json", help="Sortie JSON.")) -> None:
    """Créer une clé ; elle n'est affichée qu'une seule fois."""
    with context.archive().session() as session:
        key, token = create_key(session, name, role.value, context.settings().actor)
        row = _key_row(key)
    if json:
        context.emit_json({**row, "key": token})
        return
    context.console.print(f"Clé « {name} » ({role.value}) créée. Conservez-la, elle ne sera plus affichée :")
    context.console.print(token, soft_wrap=True)


@keys_app.command("list")
def keys_list(json: bool = typer.Option(False, "--json", help="Sortie JSON.")) -> None:
    """Lister les clés (préfixe, rôle, création, révocation)."""
    with context.archive().session() as session:
        rows = [_key_row(k) for k in session.scalars(select(ApiKey).order_by(ApiKey.id))]
    if json:
        context.emit_json(rows)
        return
    table = Table("nom", "rôle", "préfixe", "créée le", "par", "révoquée le")
    for row in rows:
        table.add_row(row["name"], row["role"], row["prefix"] + "…", _date(row["created_at"]),
                      row["created_by"] or "", _date(row["revoked_at"]))
    context.console.print(table if rows else "Aucune clé.")


@keys_app.command("revoke")
def keys_revoke(name: str = typer.Argument(..., help="Nom ou préfixe de la clé.")) -> None:
    """Révoquer une clé (effet immédiat)."""
    with context.archive().session() as session:
        key = revoke_key(session, name)
        context.console.print(f"Clé « {key.name} » révoquée.")


def _key_row(key: ApiKey) -> dict:
    return {"name": key.name, "role": key.role, "prefix": key.prefix, "created_at": key.created_at,
            "created_by": key.created_by, "revoked_at": key.revoked_at}


def _date(value) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value else ""


def audit(limit: int = typer.Option(50, min=1, help="Nombre d'entrées (les plus récentes)."),
          testimony: str = typer.Option(None, help="Seulement ce témoignage (T-000001)."),
          actor: str = typer.Option(None, help="Seulement cet acteur (ex. api:maitre-diallo)."),
          action: str = typer.Option(None, help="Seulement cette action (ex. testimony.read)."),
          json: bool = typer.Option(False, "--json", help="Sortie JSON.")) -> None:
    """Journal d'audit : qui a lu ou modifié quoi, et quand."""
    statement = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if testimony:
        statement = statement.where(AuditEvent.target == testimony.strip().upper())
    if actor:
        statement = statement.where(AuditEvent.actor == actor)
    if action:
        statement = statement.where(AuditEvent.action == action)
    with context.archive().session() as session:
        rows = [{"at": e.at, "actor": e.actor, "action": e.action, "target": e.target, "detail": e.detail}
                for e in session.scalars(statement)]
    if json:
        context.emit_json(rows)
        return
    table = Table("quand", "qui", "action", "quoi", "détail")
    for row in rows:
        detail = ", ".join(f"{k}={v}" for k, v in (row["detail"] or {}).items())
        table.add_row(f"{row['at']:%Y-%m-%d %H:%M:%S}", row["actor"], row["action"], row["target"] or "", detail)
    context.console.print(table if rows else "Journal vide.")


def reindex() -> None:
    """Reconstruire l'index de recherche de tous les témoignages."""
    from archive.search import reindex_all

    with context.archive().session() as session, progress_bar("count") as progress:
        total = session.query(Testimony).count()
        task = progress.add_task("Indexation", total=total)
        count = reindex_all(session, progress=lambda _t: progress.advance(task))
    context.console.print(f"{count} témoignage(s) indexé(s).")


# --- demo ---------------------------------------------------------------------------------

DEMO_QUERIES = ("refoulé", '"frontière" OR désert')
DEMO_ACCOUNT = "demo-production"


def demo_step(demo) -> None:
    """Print how to serve the API, an advocate key and two searches (run here in-process)."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from archive.search import reindex_all

    console = demo.console
    console.rule("[bold]API des archives (plaidoyer)")
    with demo.archive.session() as session:
        reindex_all(session)
        _key, token = create_key(session, "demo-avocat", Role.ADVOCATE.value, "demo")
    base = demo.archive.settings.base_url.rstrip("/")
    console.print(f"Lancer l'API : [bold]KUMA_HOME={shlex.quote(str(demo.home))} kuma serve[/]  (docs : {base}/docs)")
    console.print(f"Clé de démonstration (rôle advocate) : [bold]{token}[/]", soft_wrap=True)
    demo.notes["advocate_key"] = token
    password = secrets.token_urlsafe(12)
    with demo.archive.session() as session:
        users.create_user(session, DEMO_ACCOUNT, Role.PRODUCER.value, password, "demo")
    console.print(f"Studio web : [bold]{base}/studio/[/] — compte de démonstration (rôle producer) : "
                  f"[bold]{DEMO_ACCOUNT}[/], mot de passe [bold]{password}[/]", soft_wrap=True)
    demo.notes["studio_account"] = (DEMO_ACCOUNT, password)
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(demo.archive.settings, archive=demo.archive)) as client:
        with demo.archive.session() as session:
            spare = _words_of_the_archive(session)
        for number, query in enumerate(DEMO_QUERIES):
            response = client.get("/api/search", params={"q": query, "limit": 3}, headers=headers)
            if response.status_code == 200 and not response.json()["data"] and len(spare) > number:
                query = spare[number]  # the demo's texts do not use these words: search one of theirs
                response = client.get("/api/search", params={"q": query, "limit": 3}, headers=headers)
            console.print(f"\n$ curl -H 'Authorization: Bearer {token}' "
                          f"'{base}/api/search?{_urlencode(query)}'", soft_wrap=True, markup=False)
            _print_hits(console, response)


def _words_of_the_archive(session) -> list[str]:
    """The most frequent long words of the redacted texts advocates may search."""
    from collections import Counter

    from archive.models import SearchAccess, SearchSegment

    texts = session.scalars(select(SearchSegment.redacted).join(
        SearchAccess, SearchAccess.testimony_id == SearchSegment.testimony_id).where(SearchAccess.advocacy_ok)).all()
    words = Counter(w.lower() for t in texts for w in re.findall(r"[^\W\d_]{6,}", t))
    return [w for w, _n in words.most_common(2)]


def _urlencode(query: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"q": query})


def _print_hits(console, response) -> None:
    if response.status_code != 200:
        console.print(f"  → {response.status_code} {response.text}", markup=False)
        return
    body = response.json()
    if not body["data"]:
        console.print("  → aucun résultat (aucun témoignage n'a encore de version anonymisée approuvée "
                      "avec consentement de plaidoyer)")
    for hit in body["data"]:
        snippet = escape(hit["snippet"]).replace("<mark>", "[bold yellow]").replace("</mark>", "[/]")
        console.print(f"  → {hit['testimony']} {hit['start_tc']}–{hit['end_tc']} : {snippet}")
    console.print(f"  ({body['count']} segment(s) trouvé(s))")
