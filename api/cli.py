"""The ``kuma`` command. Each area registers its commands from ``api/commands/``.

Exit codes (docs/archive.md): 0 success; 1 unexpected error; 2 bad input; 3 configuration;
4 not found; 5 consent refused; 6 integrity failure; 7 some items of a batch failed; 8 a station's
takedown is overdue (``kuma radios status``). An ingest
batch whose files failed for different reasons exits with the most serious: 1, then 7, then 2.
"""
from __future__ import annotations

import sys

import typer
from rich.markup import escape

from api.commands import anonymize, archive_cmds, cleanup, episodes, feeds, models, pipeline, server, transcripts, users, voice
from api.context import err_console
from archive.errors import KumaError, printable

app = typer.Typer(
    name="kuma",
    help="Kuma : témoignages, anonymisation, émissions et flux pour les radios de proximité.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for module in (archive_cmds, cleanup, models, transcripts, anonymize, voice, pipeline, episodes, feeds, server, users):
    module.register(app)


@app.command()
def demo(home: str = typer.Option("kuma-demo", help="Data directory of the demo archive (recreated).")) -> None:
    """Construire une archive de démonstration complète à partir des témoignages d'exemple."""
    from api.demo import run_demo

    run_demo(home)


def main(argv: list[str] | None = None) -> int:
    try:
        app(args=argv, standalone_mode=False)
    except KumaError as exc:
        err_console.print(f"[bold red]Erreur :[/] {escape(printable(str(exc)))}", soft_wrap=True)
        return exc.exit_code
    except typer.Abort:
        err_console.print("Interrompu.")
        return 130
    except KeyboardInterrupt:
        err_console.print("Interrompu : rien n'est perdu, relancez la même commande pour terminer.")
        return 130
    except typer.Exit as exc:
        return exc.exit_code
    except Exception as exc:  # click usage errors
        from click.exceptions import ClickException

        if isinstance(exc, ClickException):
            exc.show()
            return exc.exit_code
        raise
    return 0


def run() -> None:
    sys.exit(main())
