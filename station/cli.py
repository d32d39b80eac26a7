"""``kuma-station``: init, sync, status (argparse: nothing to install beyond Python).

Exit codes: 0 done; 1 unexpected error or a file the system refuses (one line); 2 configuration; 3 the archive refuses this feed (token
revoked or wrong: nothing is deleted); 4 the link failed, some episodes could not be fetched or a
station command (--on-install, --on-takedown) failed (what arrived is installed, the rest is
tried again next run); 75 another sync is running.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from station import CLIENT, config as config_module, schedule, state as state_module
from station.config import Config, parse_rate
from station.errors import AccessRefused, StationError, redact
from station.feed import parse_feed
from station.sync import make_link, sync


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except StationError as error:
        print(f"kuma-station : {error}", file=sys.stderr)
        return error.exit_code
    except OSError as error:  # a folder it may not write, a full disk: the system's words, one line
        print(f"kuma-station : {redact(f'{error.strerror or error} ({error.filename})' if error.filename else str(error))}",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("kuma-station : interrompu ; rien n'est perdu, la prochaine synchronisation reprendra.", file=sys.stderr)
        return 130


def run() -> None:
    sys.exit(main())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kuma-station", description=(
        "Tient à jour la copie des émissions d'une radio partenaire : téléchargements repris après "
        "coupure et vérifiés, retraits exécutés, compte rendu à l'association."))
    parser.add_argument("--version", action="version", version=CLIENT)
    parser.add_argument("--config", type=Path, default=None,
                        help="fichier de configuration (défaut : ~/.config/kuma-station/config.json)")
    commands = parser.add_subparsers(dest="command")

    init = commands.add_parser("init", help="enregistrer l'adresse privée du flux et le dossier des émissions")
    init.add_argument("--feed", required=True, help="adresse privée du flux donnée par l'association")
    init.add_argument("--folder", type=Path, help="dossier surveillé par le logiciel de diffusion (défaut : ~/kuma-emissions)")
    init.add_argument("--state", type=Path, help="dossier de travail (défaut : ~/.local/state/kuma-station)")
    init.add_argument("--rendition", choices=config_module.RENDITIONS, default="broadcast",
                      help="version à télécharger : broadcast (WAV, défaut), podcast (MP3), lowband (MP3 bas débit), opus")
    init.add_argument("--keep", type=int, default=0, help="garder les N émissions les plus récentes (0 : toutes)")
    init.add_argument("--limit-rate", default="0", help="débit maximal, p. ex. 50k ou 1M octets/s (0 : sans limite)")
    init.add_argument("--timeout", type=float, default=30.0, help="secondes sans données avant de relancer")
    init.add_argument("--playout-log", type=Path, help="journal du logiciel de diffusion (lignes « diffusé à »)")
    init.add_argument("--on-install", metavar="COMMANDE",
                      help="commande lancée après chaque installation (variables KUMA_FILE, KUMA_SLUG, KUMA_TITLE)")
    init.add_argument("--on-takedown", metavar="COMMANDE",
                      help="commande lancée après chaque retrait, p. ex. pour l'effacer aussi du logiciel de diffusion "
                           "(KUMA_SLUG, KUMA_FILES) ; tant qu'elle échoue, le retrait n'est pas confirmé")
    init.add_argument("--no-receipt", action="store_true", help="ne pas envoyer de compte rendu à l'association")
    init.add_argument("--no-check", action="store_true", help="ne pas essayer le flux maintenant")
    init.add_argument("--every", type=int, metavar="MINUTES",
                      help="synchroniser toutes les N minutes (ajoute une ligne à la crontab de l'utilisateur)")
    init.set_defaults(run=_init)

    run_sync = commands.add_parser("sync", help="synchroniser maintenant (pour cron ou systemd)")
    run_sync.add_argument("--quiet", action="store_true", help="n'afficher que les erreurs")
    run_sync.set_defaults(run=_sync)

    status = commands.add_parser("status", help="ce que la station détient, sans réseau")
    status.add_argument("--json", action="store_true", help="en JSON")
    status.set_defaults(run=_status)
    return parser


def _init(args) -> int:
    values = {"feed": args.feed, "rendition": args.rendition, "keep": args.keep,
              "rate_limit": parse_rate(args.limit_rate), "timeout": args.timeout, "receipt": not args.no_receipt}
    for name in ("folder", "state", "playout_log", "on_install", "on_takedown"):
        if getattr(args, name) is not None:
            values[name] = getattr(args, name)
    config = Config(**values)
    if not args.no_check:
        _check(config)
    config.folder.mkdir(parents=True, exist_ok=True)
    line = schedule.cron_line(args.every, args.config or config_module.default_config_path()) if args.every else None
    path = config_module.save(config, args.config)
    print(f"configuration enregistrée : {path} (lisible par vous seul)")
    print(f"dossier des émissions : {config.folder}")
    if line:
        schedule.install(line)
        print(f"synchronisation toutes les {args.every} min (crontab) : {line}")
    else:
        print("prochaine étape : « kuma-station sync », puis --every 30 pour la planifier (ou un minuteur systemd)")
    return 0


def _check(config: Config) -> None:
    """Try the feed once: a wrong or revoked address is said now, not at the first night's sync."""
    link = make_link(config)
    link.retries = min(link.retries, 2)
    try:
        fetched = link.document(config.feed)
    except StationError as error:
        status = getattr(error, "status", None)
        if status in (401, 403, 404, 410):
            raise AccessRefused(f"le serveur refuse cette adresse (HTTP {status}) : vérifiez-la auprès de "
                               "l'association ; rien n'a été enregistré") from None
        print(f"attention : flux injoignable pour l'instant ({error}) ; configuration enregistrée quand même",
              file=sys.stderr)
        return
    page = parse_feed(fetched.body or b"")
    print(f"flux « {page.title} » : {len(page.episodes)} émission(s) proposée(s)")


def _sync(args) -> int:
    config = config_module.load(args.config)
    say = (lambda _: None) if args.quiet else (lambda text: print(text, flush=True))
    progress = _Progress() if sys.stderr.isatty() and not args.quiet else None
    outcome = sync(config, say=say, progress=progress)
    if progress:
        progress.done()
    if not args.quiet:
        print(f"{outcome.offered} émission(s) proposée(s), {len(outcome.installed)} installée(s), "
              f"{len(outcome.taken_down)} retirée(s), {len(outcome.failed)} en échec ; "
              f"{outcome.received_bytes / 1e6:.1f} Mo reçus ; compte rendu : {outcome.receipt or 'désactivé'}")
    for slug, reason in outcome.failed:
        print(f"kuma-station : {slug} : {reason}", file=sys.stderr)
    for problem in outcome.problems:
        print(f"kuma-station : {problem}", file=sys.stderr)
    return 4 if outcome.failed or outcome.problems else 0


def _status(args) -> int:
    config = config_module.load(args.config)
    state = state_module.load(config.state)
    partial = sorted(state.partial_dir.glob("*.part")) if state.partial_dir.exists() else []
    payload = {
        "feed": redact(config.feed), "folder": str(config.folder), "rendition": config.rendition,
        "episodes": [{"slug": h["slug"], "file": h["file"], "title": h.get("title"), "size": h["size"],
                      "present": (config.folder / h["file"]).is_file()} for h in state.episodes.values()],
        "takedowns": [{"slug": t["slug"], "executed_at": t["executed_at"], "files_deleted": t["files_deleted"]}
                      for t in state.takedowns.values()],
        "partial": [{"file": p.name, "bytes": p.stat().st_size} for p in partial],
        "last_sync": state.last_sync, "last_receipt": state.last_receipt.get("at"),
        "aired_pending": len(state.aired_pending),
    }
    if args.json:
        print(json.dumps(payload, ensure_ascii=False, indent=2))
        return 0
    print(f"flux : {payload['feed']}\ndossier : {config.folder} (version {config.rendition})")
    last = state.last_sync
    print(f"dernière synchronisation : {last.get('finished') or 'jamais'}"
          + (f", {len(last.get('failed', []))} échec(s)" if last else ""))
    print(f"dernier compte rendu reçu par l'association : {payload['last_receipt'] or 'jamais'}")
    print(f"{len(payload['episodes'])} émission(s) détenue(s) :")
    for entry in sorted(payload["episodes"], key=lambda e: e["slug"], reverse=True):
        print(f"  {entry['file']}  {entry['size'] / 1e6:.1f} Mo  {entry['title'] or ''}"
              + ("" if entry["present"] else "  (ABSENT du dossier : sera retéléchargé)"))
    for entry in payload["partial"]:
        print(f"  en cours : {entry['bytes'] / 1e6:.1f} Mo reçus ({entry['file'][:12]}…)")
    for entry in payload["takedowns"]:
        if entry["files_deleted"]:
            print(f"  retiré le {entry['executed_at']} : {entry['slug']} ({', '.join(entry['files_deleted'])})")
    return 0


class _Progress:
    """One line on a terminal, redrawn at most 4 times a second."""

    def __init__(self):
        self.last, self.shown = 0.0, False

    def __call__(self, slug: str, have: int, size: int) -> None:
        now = time.monotonic()
        if now - self.last < 0.25 and have < size:
            return
        self.last, self.shown = now, True
        share = have / size if size else 1
        bar = "#" * int(share * 30)
        print(f"\r  {slug[:32]:32} [{bar:30}] {share:4.0%} {have / 1e6:7.1f}/{size / 1e6:.1f} Mo",
              end="", file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.shown:
            print(file=sys.stderr)


if __name__ == "__main__":
    run()
