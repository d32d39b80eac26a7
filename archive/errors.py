"""Kuma's exception tree. Low-level errors become one of these at the boundary.

    KumaError
    ├── ConfigError               bad settings, missing model, unusable data directory
    ├── InputError                bad input from a person: file, sidecar, timecode, rundown
    │   ├── MetadataError         sidecar / --meta validation
    │   ├── AudioError            undecodable, empty, silent, too long
    │   └── RundownError          an invalid episode rundown
    ├── NotFound                  unknown testimony, episode, key...
    ├── Unauthorized              no API key, or an invalid or revoked one; a failed sign-in
    │   └── TooManyAttempts       sign-in refused for a while after repeated wrong passwords
    ├── Forbidden                 the caller's role may not do this
    ├── ConsentRefused            the consent policy said no (carries the reason)
    ├── ReviewRequired            an anonymized rendition is not approved yet
    ├── IntegrityError            stored media does not match its checksum
    └── StageError                a pipeline stage failed for one item (recorded, batch goes on)

The CLI prints ``str(error)`` on one line and exits with ``error.exit_code``;
the API answers ``{"error": code, "detail": str(error)}`` with ``error.http_status``.

Messages name the file they are about with ``file_label``: a file name that is not UTF-8 (on
POSIX a name is bytes; Python keeps the undecodable ones as lone surrogates, PEP 383) would
make printing, the database and JSON fail, so it is shown backslash-escaped instead.
"""
from __future__ import annotations

from os import PathLike


_CONTROLS = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F)}


def printable(text: str) -> str:
    """``text`` as one line of valid UTF-8: the undecodable bytes of a file name and control
    characters (newlines, terminal escapes) backslash-escaped (``b"t\\xe9moignage.wav"`` ->
    ``"t\\xe9moignage.wav"``); other text unchanged."""
    try:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that is not an escaped byte
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text.translate(_CONTROLS)


def file_label(path: str | PathLike) -> str:
    """How a message names a file: as given (a path, or just a name), printable."""
    return printable(str(path))


class KumaError(Exception):
    code = "kuma_error"
    exit_code = 1
    http_status = 500


class ConfigError(KumaError):
    code = "config_error"
    exit_code = 3
    http_status = 500


class InputError(KumaError):
    code = "invalid_input"
    exit_code = 2
    http_status = 422


class MetadataError(InputError):
    code = "invalid_metadata"


class AudioError(InputError):
    code = "invalid_audio"


class RundownError(InputError):
    code = "invalid_rundown"

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


class NotFound(KumaError):
    code = "not_found"
    exit_code = 4
    http_status = 404


class Unauthorized(KumaError):
    code = "unauthorized"
    exit_code = 2
    http_status = 401


class TooManyAttempts(Unauthorized):
    code = "too_many_attempts"
    http_status = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class Forbidden(KumaError):
    code = "forbidden"
    exit_code = 5
    http_status = 403


class ConsentRefused(KumaError):
    code = "consent_refused"
    exit_code = 5
    http_status = 403


class ReviewRequired(ConsentRefused):
    code = "review_required"


class IntegrityError(KumaError):
    code = "integrity_error"
    exit_code = 6
    http_status = 500


class StageError(KumaError):
    code = "stage_failed"
    exit_code = 7


class TakedownOverdue(KumaError):
    """A partner station has not confirmed a takedown in time (``kuma radios status``)."""

    code = "takedown_overdue"
    exit_code = 8
    http_status = 409
