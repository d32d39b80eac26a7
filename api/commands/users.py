"""``kuma users``: people's accounts for the web studio (create, list, password, disable)."""
from __future__ import annotations

import secrets
import sys

import typer
from rich.table import Table
from sqlalchemy import select

from api import context, users
from archive.errors import InputError
from archive.models import User

users_app = typer.Typer(help="Comptes des personnes qui utilisent le studio web.", no_args_is_help=True)
ROLE_HELP = "admin, producer ou advocate."


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")


def _password(stdin: bool, generate: bool) -> tuple[str, bool]:
    """(the password, whether it was generated and must be shown once)."""
    if stdin and generate:
        raise InputError("choisir --password-stdin ou --generate, pas les deux")
    if generate:
        return secrets.token_urlsafe(12), True
    if stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    return typer.prompt("Mot de passe", hide_input=True, confirmation_prompt="Encore une fois"), False


@users_app.command("create")
def create(name: str = typer.Argument(..., help="Nom d'utilisateur (pour se connecter)."),
           role: str = typer.Option(..., "--role", help=ROLE_HELP),
           password_stdin: bool = typer.Option(False, "--password-stdin", help="Lire le mot de passe sur l'entrée standard."),
           generate: bool = typer.Option(False, "--generate", help="Tirer un mot de passe au hasard (affiché une fois).")) -> None:
    """Créer un compte (mot de passe demandé, ou lu, ou tiré au hasard)."""
    password, shown = _password(password_stdin, generate)
    with context.archive().session() as session:
        users.create_user(session, name, role, password, context.settings().actor)
    context.console.print(f"Compte « {name} » ({role}) créé.")
    if shown:
        context.console.print(f"Mot de passe (affiché une seule fois) : {password}", soft_wrap=True)


@users_app.command("list")
def list_users(json: bool = typer.Option(False, "--json", help="Sortie JSON.")) -> None:
    """Lister les comptes (rôle, création, dernière connexion, désactivation)."""
    with context.archive().session() as session:
        rows = [{"name": u.name, "role": u.role, "created_at": u.created_at, "created_by": u.created_by,
                 "last_login_at": u.last_login_at, "disabled_at": u.disabled_at, "locked_until": u.locked_until}
                for u in session.scalars(select(User).order_by(User.id))]
    if json:
        context.emit_json(rows)
        return
    table = Table("nom", "rôle", "créé le", "par", "dernière connexion", "désactivé le")
    when = lambda value: f"{value:%Y-%m-%d %H:%M}" if value else ""  # noqa: E731
    for row in rows:
        table.add_row(row["name"], row["role"], when(row["created_at"]), row["created_by"] or "",
                      when(row["last_login_at"]), when(row["disabled_at"]))
    context.console.print(table if rows else "Aucun compte.")


@users_app.command("password")
def password(name: str = typer.Argument(..., help="Nom d'utilisateur."),
             password_stdin: bool = typer.Option(False, "--password-stdin", help="Lire le mot de passe sur l'entrée standard."),
             generate: bool = typer.Option(False, "--generate", help="Tirer un mot de passe au hasard (affiché une fois).")) -> None:
    """Changer le mot de passe d'un compte (ses sessions ouvertes sont fermées, son blocage levé)."""
    secret, shown = _password(password_stdin, generate)
    with context.archive().session() as session:
        users.set_password(session, name, secret, context.settings().actor)
    context.console.print(f"Mot de passe de « {name} » changé.")
    if shown:
        context.console.print(f"Mot de passe (affiché une seule fois) : {secret}", soft_wrap=True)


@users_app.command("disable")
def disable(name: str = typer.Argument(..., help="Nom d'utilisateur.")) -> None:
    """Désactiver un compte (effet immédiat : ses sessions sont fermées)."""
    with context.archive().session() as session:
        users.disable_user(session, name, context.settings().actor)
    context.console.print(f"Compte « {name} » désactivé.")
