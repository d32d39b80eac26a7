"""HTTP over a weak, intermittent link (standard library only).

- :meth:`Link.document`: a small document by conditional GET (``If-None-Match`` /
  ``If-Modified-Since``): an unchanged feed costs a few hundred bytes;
- :meth:`Link.download`: a big file into a partial file, resumed with ``Range`` (and ``If-Range``)
  after any break, the sha256 computed as the bytes arrive, verified (size and digest) before the
  caller moves it into place; a bad file is deleted and fetched again, never handed over;
- every request is retried with exponential backoff and jitter; an attempt that moved bytes
  resets the count, so a link that drops every few megabytes still finishes;
- a stall (no byte for ``timeout`` seconds) counts as a break; ``rate_limit`` caps the average
  bytes per second so the station's other traffic (and its on-air stream) keeps some room.
"""
from __future__ import annotations

import hashlib
import http.client
import json
import os
import random
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path

from station import CLIENT
from station.errors import HTTPStatusError, IntegrityFailure, LinkDown, redact

CHUNK = 64 * 1024
RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}
BREAKS = (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError, socket.timeout, OSError)


@dataclass(frozen=True)
class Fetched:
    """A document: its body (None when the server said 304 Not Modified) and validators."""

    status: int
    body: bytes | None
    etag: str | None
    modified: str | None


class Broken(Exception):
    """One attempt failed in a way the next attempt may not (a break, a stall, a 5xx)."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.retry_after = retry_after


class Link:
    def __init__(self, *, timeout: float = 30.0, retries: int = 8, backoff: float = 2.0, max_backoff: float = 300.0,
                 rate_limit: int = 0, sleep: Callable[[float], None] = time.sleep, rng: random.Random | None = None):
        self.timeout, self.retries = timeout, retries
        self.backoff, self.max_backoff = backoff, max_backoff
        self.rate_limit = rate_limit
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.received = 0  # bytes of bodies received this run (what the link carried, headers aside)

    # --- small documents -------------------------------------------------------------------

    def document(self, url: str, *, etag: str | None = None, modified: str | None = None) -> Fetched:
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        elif modified:
            headers["If-Modified-Since"] = modified
        return self._retrying(url, lambda: self._get_document(url, headers))

    def _get_document(self, url: str, headers: dict[str, str]) -> Fetched:
        with self._open(url, headers) as response:
            if response.status == 304:
                return Fetched(304, None, response.headers.get("ETag"), response.headers.get("Last-Modified"))
            body = self._read_all(response)
            return Fetched(response.status, body, response.headers.get("ETag"), response.headers.get("Last-Modified"))

    def post_json(self, url: str, payload: dict) -> dict:
        data = json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8")

        def attempt() -> dict:
            request = urllib.request.Request(url, data=data, method="POST", headers={
                "Content-Type": "application/json", "User-Agent": CLIENT, "Accept": "application/json"})
            with self._urlopen(request) as response:
                return json.loads(self._read_all(response) or b"{}")

        return self._retrying(url, attempt)

    # --- big files -------------------------------------------------------------------------

    def download(self, url: str, partial: Path, *, size: int, sha256: str,
                 progress: Callable[[int, int], None] | None = None) -> Path:
        """Fill ``partial`` with the file at ``url`` and verify it; returns ``partial``.

        Bytes already in ``partial`` (an earlier run, a ``kill -9``) are kept and the rest is asked
        for with ``Range``. A file whose size or sha256 is wrong once complete is deleted and
        fetched once more; if it is wrong again, :class:`IntegrityFailure`."""
        for attempt in (1, 2):
            transfer = _Transfer(partial, size)
            self._retrying(url, lambda: self._fill(url, transfer, progress), progress_of=lambda: transfer.have)
            if transfer.have == size and transfer.hexdigest() == sha256:
                return partial
            partial.unlink(missing_ok=True)
            _meta_path(partial).unlink(missing_ok=True)
        raise IntegrityFailure(f"{redact(url)} : le fichier reçu ne correspond pas à son empreinte sha256 "
                               f"(deux fois de suite) ; il n'a pas été installé")

    def _fill(self, url: str, transfer: _Transfer, progress) -> None:
        if transfer.have >= transfer.size:
            return
        headers = {}
        validator = transfer.validator()
        if transfer.have:
            headers["Range"] = f"bytes={transfer.have}-"
            if validator:
                headers["If-Range"] = validator
        try:
            opened = self._open(url, headers)
        except HTTPStatusError as error:
            if error.status != 416:
                raise
            transfer.restart()  # what we hold is longer than the file now served
            raise Broken("HTTP 416") from None
        with opened as response:
            if response.status == 206:
                start = _range_start(response.headers.get("Content-Range", ""))
                if start != transfer.have:
                    transfer.restart()
                    raise Broken(f"plage inattendue ({response.headers.get('Content-Range')})")
            elif transfer.have:
                transfer.restart()  # 200: the server sends the whole file (it changed, or ignores Range)
            transfer.remember(response.headers.get("ETag") or response.headers.get("Last-Modified"))
            self._stream(response, transfer, progress)
        if transfer.have < transfer.size:
            raise Broken("réponse tronquée")

    def _stream(self, response, transfer: _Transfer, progress) -> None:
        chunk = CHUNK if not self.rate_limit else max(1024, min(CHUNK, self.rate_limit // 10))
        started, sent = time.monotonic(), 0
        with transfer.open() as handle:
            while transfer.have < transfer.size:
                block = response.read(min(chunk, transfer.size - transfer.have))
                if not block:
                    break
                transfer.write(handle, block)
                self.received += len(block)
                sent += len(block)
                if progress:
                    progress(transfer.have, transfer.size)
                if self.rate_limit:
                    ahead = sent / self.rate_limit - (time.monotonic() - started)
                    if ahead > 0:
                        time.sleep(ahead)
            if transfer.have >= transfer.size and response.read(1):
                transfer.restart()
                raise Broken("le serveur envoie plus d'octets que la taille annoncée par le flux")

    # --- plumbing --------------------------------------------------------------------------

    def _retrying(self, url: str, attempt: Callable, progress_of: Callable[[], int] | None = None):
        failures = 0
        while True:
            before = progress_of() if progress_of else 0
            try:
                return attempt()
            except Broken as exc:
                reason, retry_after = str(exc), exc.retry_after
            except BREAKS as exc:
                reason, retry_after = _describe(exc), None
            moved = progress_of is not None and progress_of() > before
            failures = 1 if moved else failures + 1
            if failures > self.retries:
                raise LinkDown(f"{url} : toujours injoignable après {self.retries} essais ({reason})")
            self.sleep(self._wait(failures, retry_after))

    def _wait(self, failures: int, retry_after: float | None) -> float:
        ceiling = min(self.max_backoff, self.backoff * 2 ** (failures - 1))
        wait = ceiling / 2 + self.rng.uniform(0, ceiling / 2)  # "equal jitter": never all at once, never zero
        return min(self.max_backoff, max(wait, retry_after or 0))

    def _open(self, url: str, headers: dict[str, str]):
        request = urllib.request.Request(url, headers={"User-Agent": CLIENT, **headers})
        return self._urlopen(request)

    def _urlopen(self, request: urllib.request.Request):
        try:
            return urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as error:
            if error.code == 304:
                return _NotModified(error)
            if error.code in RETRYABLE_STATUS:
                raise Broken(f"HTTP {error.code}", _retry_after(error.headers.get("Retry-After"))) from None
            raise HTTPStatusError(error.code, request.full_url) from None

    def _read_all(self, response) -> bytes:
        parts = []
        while block := response.read(CHUNK):
            parts.append(block)
            self.received += len(block)
        body = b"".join(parts)
        expected = response.headers.get("Content-Length")
        if expected is not None and expected.isdigit() and len(body) != int(expected):
            raise Broken("réponse tronquée")
        return body


class _NotModified:
    """A 304 as urllib raises it, made to look like a response."""

    status = 304

    def __init__(self, error: urllib.error.HTTPError):
        self.headers = error.headers
        self._error = error

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._error.close()


class _Transfer:
    """A partial file with its running sha256 and the validator (ETag) its bytes came with."""

    def __init__(self, partial: Path, size: int):
        self.partial, self.size = partial, size
        partial.parent.mkdir(parents=True, exist_ok=True)
        self.digest = hashlib.sha256()
        self.have = 0
        if partial.exists():
            with open(partial, "rb") as handle:  # bytes an earlier run left: keep them, hash them once
                while (block := handle.read(1 << 20)) and self.have < size:
                    block = block[: size - self.have]
                    self.digest.update(block)
                    self.have += len(block)
            if partial.stat().st_size != self.have:
                os.truncate(partial, self.have)

    def validator(self) -> str | None:
        try:
            return json.loads(_meta_path(self.partial).read_text("utf-8")).get("validator")
        except (FileNotFoundError, ValueError):
            return None

    def remember(self, validator: str | None) -> None:
        if validator and validator != self.validator():
            _meta_path(self.partial).write_text(json.dumps({"validator": validator}), encoding="utf-8")

    def restart(self) -> None:
        self.digest, self.have = hashlib.sha256(), 0
        with open(self.partial, "wb"):
            pass

    def open(self):
        return open(self.partial, "r+b" if self.partial.exists() else "wb")

    def write(self, handle, block: bytes) -> None:
        handle.seek(self.have)
        handle.write(block)
        self.digest.update(block)
        self.have += len(block)

    def hexdigest(self) -> str:
        return self.digest.hexdigest()


def _meta_path(partial: Path) -> Path:
    return partial.with_name(partial.name + ".json")


def _range_start(content_range: str) -> int | None:
    try:
        return int(content_range.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _describe(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    return redact(f"{type(reason).__name__}: {reason}" if str(reason) else type(reason).__name__)
