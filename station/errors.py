"""The client's errors. Each one's message is the one line ``kuma-station`` prints (French: a
station's operator reads it); ``exit_code`` is what cron or systemd sees.

    StationError
    ├── ConfigError      no usable configuration (run ``kuma-station init``)      exit 2
    ├── AccessRefused    the archive refuses this feed (token revoked, or wrong)  exit 3
    ├── LinkDown         the server stayed unreachable through every retry        exit 4
    ├── HTTPStatusError  an answer that retrying will not change (4xx)            exit 4
    ├── IntegrityFailure a file kept arriving different from what the feed says   exit 4
    ├── DiskFull         not enough free space for the next file                  exit 4
    └── Busy             another sync holds the lock                              exit 75
"""
from __future__ import annotations

import re

TOKEN_IN_URL = re.compile(r"/radio/[^/\s?#]+")


def redact(text: str) -> str:
    """Messages and logs never show the station's token."""
    return TOKEN_IN_URL.sub("/radio/***", text)


class StationError(Exception):
    exit_code = 1

    def __init__(self, message: str):
        super().__init__(redact(message))


class ConfigError(StationError):
    exit_code = 2


class AccessRefused(StationError):
    exit_code = 3


class LinkDown(StationError):
    exit_code = 4


class HTTPStatusError(StationError):
    exit_code = 4

    def __init__(self, status: int, url: str):
        self.status = status
        super().__init__(f"le serveur a répondu HTTP {status} pour {url}")


class IntegrityFailure(StationError):
    exit_code = 4


class DiskFull(StationError):
    exit_code = 4


class Busy(StationError):
    exit_code = 75
