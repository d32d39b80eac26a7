"""Published feeds and media over HTTP (issue 6): the directory ``kuma publish`` writes.

- ``/podcast/...``: public feeds, cover and media, straight from ``<public_dir>/current/podcast``;
- ``/radio/{token}/...``: a partner radio's feed, takedown list and media; the token is checked
  against the SHA-256 hashes published with the version (unknown or revoked: 404, same answer
  for both so that nothing tells a guesser which tokens existed).

GET and HEAD, byte ranges (206, resumable downloads), ETag (content SHA-256) and Last-Modified
(when the content last changed), 304 on If-None-Match / If-Modified-Since, CORS on
transcripts and chapters. Tokens are redacted from the access log.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from email.utils import parsedate_to_datetime
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, Response

from api import context
from feeds.build import TOKEN_PLACEHOLDER
from feeds.publish import META, read_manifest
from feeds.radios import is_token_shaped, token_sha256

router = APIRouter(tags=["feeds"])

CONTENT_TYPES = {
    ".xml": "application/rss+xml; charset=utf-8", ".mp3": "audio/mpeg", ".opus": "audio/ogg",
    ".ogg": "audio/ogg", ".wav": "audio/wav", ".m4a": "audio/mp4", ".vtt": "text/vtt; charset=utf-8",
    ".srt": "application/x-subrip; charset=utf-8", ".json": "application/json; charset=utf-8",
    ".html": "text/html; charset=utf-8", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
}
CORS_SUFFIXES = (".vtt", ".srt", ".json")
TOKEN_IN_PATH = re.compile(r"/radio/[^/\s\"?]+")


class RedactRadioTokens(logging.Filter):
    """Access-log filter: ``/radio/<token>/...`` is logged as ``/radio/***/...``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(TOKEN_IN_PATH.sub("/radio/***", a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = TOKEN_IN_PATH.sub("/radio/***", record.msg)
        return True


def install_log_redaction() -> None:
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactRadioTokens) for f in logger.filters):
        logger.addFilter(RedactRadioTokens())


install_log_redaction()


def published_root(request: Request) -> Path:
    """The published version being served: the app's settings (``app.state.settings``) or the CLI's."""
    settings = getattr(request.app.state, "settings", None) or context.settings()
    return settings.public_path / "current"


@router.api_route("/podcast/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
def public_file(path: str, request: Request, root: Path = Depends(published_root)) -> Response:
    return _serve(root, f"podcast/{path}", request, private=False)


@router.api_route("/radio/{token}/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
def radio_file(token: str, path: str, request: Request, root: Path = Depends(published_root)) -> Response:
    version = _version(root)
    if not is_token_shaped(token) or token_sha256(token) not in _stations(version):
        raise HTTPException(status_code=404, detail="flux inconnu")
    relative = f"radio/{path}"
    if path.endswith(".xml") or path == "takedown.json":
        return _serve_template(version, relative, token, request)
    return _serve(root, relative, request, private=True)


def _serve(root: Path, relative: str, request: Request, *, private: bool) -> Response:
    version = _version(root)
    entry, target = _lookup(version, relative)
    headers = _headers(relative, entry["sha256"], entry["modified"], private)
    if _not_modified(request, headers):
        return Response(status_code=304, headers=headers)
    return FileResponse(target, media_type=_content_type(relative), headers=headers)


def _serve_template(version: Path, relative: str, token: str, request: Request) -> Response:
    entry, target = _lookup(version, relative)
    body = target.read_bytes().replace(TOKEN_PLACEHOLDER.encode(), token.encode())
    etag_source = entry["sha256"] + token_sha256(token)  # one ETag per station, stable across rebuilds
    headers = _headers(relative, hashlib.sha256(etag_source.encode()).hexdigest(), entry["modified"], True)
    if _not_modified(request, headers):
        return Response(status_code=304, headers=headers)
    headers["content-length"] = str(len(body))
    content = b"" if request.method == "HEAD" else body
    return Response(content=content, media_type=_content_type(relative), headers=headers)


def _version(root: Path) -> Path:
    version = Path(os.path.realpath(root))
    if not version.is_dir():
        raise HTTPException(status_code=404, detail="rien n'est publié")
    return version


def _lookup(version: Path, relative: str) -> tuple[dict, Path]:
    entry = _manifest(version).get(relative)
    if entry is None or ".." in relative.split("/"):
        raise HTTPException(status_code=404, detail="fichier inconnu")
    target = version / relative
    if not target.is_file():
        raise HTTPException(status_code=404, detail="fichier inconnu")
    return entry, target


@lru_cache(maxsize=4)
def _manifest(version: Path) -> dict[str, dict]:
    return read_manifest(version)  # a version directory never changes: cache by its path


@lru_cache(maxsize=4)
def _stations(version: Path) -> dict[str, str]:
    try:
        return json.loads((version / META / "radios.json").read_text("utf-8"))["stations"]
    except (FileNotFoundError, KeyError, json.JSONDecodeError):
        return {}


def _headers(relative: str, sha256: str, modified: str, private: bool) -> dict[str, str]:
    headers = {
        "etag": f'"{sha256[:32]}"',
        "last-modified": modified,
        "accept-ranges": "bytes",
        "cache-control": ("private" if private else "public") + (", max-age=300" if relative.endswith(".xml") else ", max-age=86400"),
    }
    if relative.endswith(CORS_SUFFIXES):
        headers["access-control-allow-origin"] = "*"
        headers["access-control-expose-headers"] = "ETag, Last-Modified, Content-Length, Content-Range"
    return headers


def _not_modified(request: Request, headers: dict[str, str]) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or headers["etag"] in tags
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since:
        try:
            return parsedate_to_datetime(headers["last-modified"]) <= parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
    return False


def _content_type(relative: str) -> str:
    name = relative.rsplit("/", 1)[-1]
    if name.endswith("-chapters.json"):
        return "application/json+chapters; charset=utf-8"
    return CONTENT_TYPES.get(Path(name).suffix.lower(), "application/octet-stream")
