"""The station's settings: one JSON file, readable by its owner only (it holds the feed's token).

Default places follow the XDG layout: ``~/.config/kuma-station/config.json`` for the settings
(``KUMA_STATION_CONFIG`` or ``--config`` elsewhere), ``~/.local/state/kuma-station/`` for what
the client keeps between runs (partial downloads, cached feed documents, state.json).
"""
from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit

from station.errors import ConfigError
from station.files import write_atomic

RENDITIONS = ("broadcast", "podcast", "lowband", "opus")
FEED_PATH = re.compile(r"/radio/[A-Za-z0-9_-]{16,128}/feed\.xml$")
RATE = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*([kKmM]?)[oObB]?(?:/s)?\s*$")


def default_config_path() -> Path:
    if env := os.environ.get("KUMA_STATION_CONFIG"):
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "kuma-station" / "config.json"


def default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "kuma-station"


@dataclass
class Config:
    feed: str  # the private feed URL, token included
    folder: Path = field(default_factory=lambda: Path.home() / "kuma-emissions")
    state: Path = field(default_factory=default_state_dir)
    rendition: str = "broadcast"  # broadcast (WAV) | podcast | lowband | opus
    keep: int = 0  # newest episodes kept in the folder; 0: every episode the feed offers
    rate_limit: int = 0  # bytes per second; 0: no limit
    timeout: float = 30.0  # seconds without a byte before a connection counts as stalled
    retries: int = 8  # attempts without progress before a download is left for the next run
    backoff: float = 2.0  # first wait between attempts, doubled each time (with jitter)
    max_backoff: float = 300.0
    playout_log: Path | None = None  # lines naming an episode's file with a date: "aired at"
    receipt: bool = True  # report to the archive after each sync
    on_install: str | None = None  # shell command run after an episode is installed (KUMA_FILE, KUMA_SLUG…)
    on_takedown: str | None = None  # shell command run after a takedown (KUMA_SLUG, KUMA_FILES…); must succeed

    def __post_init__(self) -> None:
        self.feed = self.feed.strip()
        check_feed_url(self.feed)
        self.folder, self.state = Path(self.folder).expanduser(), Path(self.state).expanduser()
        self.playout_log = Path(self.playout_log).expanduser() if self.playout_log else None
        if self.rendition not in RENDITIONS:
            raise ConfigError(f"version inconnue : {self.rendition!r} (au choix : {', '.join(RENDITIONS)})")
        for name in ("keep", "rate_limit", "retries"):
            if int(getattr(self, name)) < 0:
                raise ConfigError(f"{name} ne peut pas être négatif")
        if self.timeout <= 0 or self.backoff < 0 or self.max_backoff < 0:
            raise ConfigError("timeout doit être positif, backoff et max_backoff positifs ou nuls")

    @property
    def receipt_url(self) -> str:
        return self.feed.rsplit("/", 1)[0] + "/receipt"

    def to_json(self) -> dict:
        values = asdict(self)
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in values.items()}


def check_feed_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or not FEED_PATH.search(parts.path):
        raise ConfigError("adresse de flux invalide : attendu https://<serveur>/radio/<jeton>/feed.xml, "
                          "l'adresse privée donnée par l'association")


def parse_rate(text: str) -> int:
    """'200k' -> 200000 bytes/s, '1.5M' -> 1500000, '0' -> no limit."""
    match = RATE.match(text or "")
    if not match:
        raise ConfigError(f"débit invalide : {text!r} (exemples : 0, 50k, 1.5M octets par seconde)")
    number, unit = float(match.group(1).replace(",", ".")), match.group(2).lower()
    return int(number * {"": 1, "k": 1000, "m": 1_000_000}[unit])


def load(path: Path | None = None) -> Config:
    path = path or default_config_path()
    try:
        mode = path.stat().st_mode
        values = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"pas de configuration ({path}) : lancez d'abord « kuma-station init --feed <adresse> »") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"configuration illisible ({path}) : {exc}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        os.chmod(path, 0o600)  # it holds the token: owner only
    known = {f.name for f in fields(Config)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"configuration ({path}) : réglage(s) inconnu(s) {', '.join(unknown)}")
    try:
        return Config(**values)
    except (TypeError, ValueError) as exc:  # a value of the wrong kind, edited by hand
        raise ConfigError(f"configuration ({path}) : {exc}") from None


def save(config: Config, path: Path | None = None) -> Path:
    """Write the settings atomically, mode 0600 from the first byte."""
    path = path or default_config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    text = json.dumps(config.to_json(), indent=2, ensure_ascii=False) + "\n"
    write_atomic(path, text.encode("utf-8"), mode=0o600)
    return path
