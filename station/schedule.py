"""``kuma-station init --every N``: a line in the user's crontab that runs ``sync`` every N minutes.

The line carries a ``# kuma-station`` mark: running init again replaces it instead of adding one.
The sync's lock makes overlapping runs harmless; ``--quiet`` keeps cron's mail to errors only.
"""
from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

from station.errors import ConfigError

MARK = "# kuma-station"


def command(config_path: Path) -> str:
    """How cron starts this very client (console script, ``python -m station`` or the .pyz)."""
    program = Path(sys.argv[0]).resolve()
    runner = [sys.executable, "-m", "station"] if program.name == "__main__.py" else [sys.executable, str(program)]
    return shlex.join([*runner, "--config", str(config_path.resolve()), "sync", "--quiet"])


def cron_line(every_minutes: int, config_path: Path) -> str:
    if 1 <= every_minutes < 60:
        when = f"*/{every_minutes} * * * *"
    elif every_minutes % 60 == 0 and 60 <= every_minutes <= 1440:
        hours = every_minutes // 60
        when = "0 0 * * *" if hours == 24 else f"0 */{hours} * * *"
    else:
        raise ConfigError("--every : de 1 à 59 minutes, ou un nombre entier d'heures (60, 120… 1440)")
    return f"{when} {command(config_path)} {MARK}"


def install(line: str, crontab: str = "crontab") -> None:
    try:
        current = subprocess.run([crontab, "-l"], capture_output=True, text=True)
    except FileNotFoundError:
        raise ConfigError("crontab introuvable (apt install cron), ou utilisez le minuteur systemd de docs/station.md") from None
    kept = [entry for entry in current.stdout.splitlines() if not entry.rstrip().endswith(MARK)] \
        if current.returncode == 0 else []  # "no crontab for <user>": start one
    written = subprocess.run([crontab, "-"], input="\n".join([*kept, line]) + "\n", text=True, capture_output=True)
    if written.returncode != 0:
        raise ConfigError(f"crontab a refusé la ligne : {written.stderr.strip() or written.returncode}")
