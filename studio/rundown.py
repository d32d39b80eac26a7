"""The episode rundown (YAML): what the producer writes, validated with pydantic.

Only the *shape* is checked here (fields, timecodes, kinds); whether testimonies exist,
files are readable and consent allows the use is checked against the archive by
``studio.episode.plan``. Every problem becomes one line of a :class:`RundownError`.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from archive.errors import InputError, RundownError
from archive.text import one_line
from archive.timecode import parse_timecode
from archive.yamlfile import load_yaml

DB_INT_MAX = 2**31 - 1  # what an INTEGER column holds (PostgreSQL)
KIND_LABELS = {"jingle": "Jingle", "host": "Animation", "excerpt": "Témoignage", "bed": "Musique", "silence": "Silence"}


def _seconds(value):
    if value is None:
        return None
    try:
        return parse_timecode(value)
    except InputError as exc:
        raise ValueError(str(exc)) from exc


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)

    title: str | None = None
    fade_in: float | None = Field(default=None, ge=0, description="Fade-in length (s); default from settings.")
    fade_out: float | None = Field(default=None, ge=0, description="Fade-out length (s); default from settings.")
    crossfade: float | None = Field(default=None, ge=0, description="Overlap with the previous item (s).")
    gain: float = Field(default=0.0, ge=-40, le=20, description="Gain in dB applied to the item.")
    chapter: bool = True  # appears as a chapter (CHAP frame, chapters JSON)


class _FileItem(_Item):
    file: str
    start: float | None = Field(default=None, alias="in")
    end: float | None = Field(default=None, alias="out")

    _timecodes = field_validator("start", "end", mode="before")(_seconds)

    @model_validator(mode="after")
    def _ordered(self):
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError("« out » doit être après « in »")
        return self


class Jingle(_FileItem):
    type: Literal["jingle"]


class HostLink(_FileItem):
    type: Literal["host"]
    clean: bool = Field(default=True, description="Clean the recording (noise, rumble, hum) before leveling.")


class Bed(_FileItem):
    """A music bed: plays alone for ``duration`` (or the file), then optionally goes on under
    the next item, ``duck`` dB lower, and fades out when that item ends."""

    type: Literal["bed"]
    duration: float | None = None
    duck: float | None = Field(default=None, gt=0, le=40, description="dB of ducking under the next item.")
    duck_fade: float = Field(default=1.0, ge=0, description="Length of the duck ramp (s).")

    _duration = field_validator("duration", mode="before")(_seconds)


class Excerpt(_Item):
    """A testimony excerpt: ``in``/``out`` timecodes, or a list of segment ids, or the whole."""

    type: Literal["excerpt"]
    testimony: str
    start: float | None = Field(default=None, alias="in")
    end: float | None = Field(default=None, alias="out")
    segments: list[int] | None = None
    clean: bool | None = Field(default=None, description="Clean before leveling; default: only when the "
                               "testimony has no cleaned copy (its rendition was disguised from the raw one).")

    _timecodes = field_validator("start", "end", mode="before")(_seconds)

    @model_validator(mode="after")
    def _one_selection(self):
        if self.segments is not None and (self.start is not None or self.end is not None):
            raise ValueError("choisir « segments » ou « in/out », pas les deux")
        if self.segments is not None and not self.segments:
            raise ValueError("liste « segments » vide")
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError("« out » doit être après « in »")
        return self


class Silence(_Item):
    type: Literal["silence"]
    duration: float = Field(gt=0)
    chapter: bool = False

    _duration = field_validator("duration", mode="before")(_seconds)


Item = Annotated[Jingle | HostLink | Excerpt | Bed | Silence, Field(discriminator="type")]


class Rundown(BaseModel):
    model_config = ConfigDict(extra="forbid")

    programme: str | None = None  # default: settings.programme_title
    number: int = Field(ge=1, le=DB_INT_MAX)
    season: int | None = Field(default=None, ge=1, le=DB_INT_MAX)
    title: str = Field(min_length=1)
    date: dt.date
    language: str = Field(default="fr", min_length=2, max_length=8)
    description: str = ""
    public: bool = True  # meant for the public (online) feed; False: partner radios only
    cover: str | None = None  # PNG or JPEG file; a default cover is generated otherwise
    music_level: float = Field(default=-3.0, ge=-30, le=10,
                               description="Loudness of jingles and beds relative to the speech items, in LU.")
    items: list[Item] = Field(min_length=1)

    def resolve(self, base: Path, name: str) -> Path:
        """Paths in a rundown are relative to the rundown file."""
        path = Path(name).expanduser()
        return path if path.is_absolute() else (base / path)


def load_rundown(path: Path) -> tuple[Rundown, str]:
    """Parse and validate a rundown file. Returns (rundown, sha256 of its bytes)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RundownError(f"{path.name} : lecture impossible ({exc.strerror})") from exc
    data = load_yaml(raw, path.name, error=RundownError)
    return parse_rundown(data, path.name), hashlib.sha256(raw).hexdigest()


def parse_rundown(data, name: str = "rundown") -> Rundown:
    if not isinstance(data, dict):
        raise RundownError(f"{name} : un conducteur YAML (mapping) est attendu")
    try:
        return Rundown.model_validate(data)
    except ValidationError as exc:
        raise RundownError([_problem(error, data) for error in exc.errors()]) from exc


def _problem(error: dict, data: dict) -> str:
    location = list(error["loc"])
    # drop the discriminator tag pydantic inserts ("items", 2, "excerpt", "in")
    if len(location) >= 3 and location[0] == "items" and location[2] in KIND_LABELS:
        del location[2]
    where = ".".join(str(part) if not isinstance(part, int) else f"[{part + 1}]" for part in location)
    where = where.replace(".[", "[")
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "missing":
        message = "champ obligatoire manquant"
    elif error["type"] == "extra_forbidden":
        message = "champ inconnu"
    elif error["type"] == "union_tag_invalid":
        message = f"type d'élément inconnu (attendu : {', '.join(KIND_LABELS)})"
    elif error["type"] == "union_tag_not_found":
        message = "champ « type » manquant"
    return one_line(f"{where} : {message}" if where else message)
