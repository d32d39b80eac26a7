"""The archive's secret key: from the settings, else generated once into ``<home>/secret.key``."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from archive.errors import ConfigError
from archive.settings import Settings

KEY_FILE = "secret.key"


def secret_key(settings: Settings) -> str:
    """``settings.secret_key`` when set; otherwise the key in ``<home>/secret.key`` (created 0600 on first use).

    Losing this key changes every future voice disguise; keep it with the database backups.
    """
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.home) / KEY_FILE
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
        key = path.read_text().strip()
    except FileExistsError:  # created concurrently by another process: read theirs
        key = path.read_text().strip()
    except OSError as exc:
        raise ConfigError(f"clé secrète illisible ou impossible à créer ({path}) : {exc.strerror}") from exc
    if not key:
        raise ConfigError(f"clé secrète vide : {path}")
    return key
