"""Intake metadata (the sidecar next to a recording, or ``--meta FILE``), validated with
messages an intake worker can act on."""
from __future__ import annotations

import json
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from archive.errors import InputError, MetadataError
from archive.languages import country_code, language_code
from archive.models import Identity, TermKind, VoiceForm, VoiceMode
from archive.text import one_line
from archive.timecode import parse_timecode
from archive.yamlfile import load_yaml

SIDECAR_SUFFIXES = (".yaml", ".yml", ".json")


class IntakeConsent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    archive: bool = False
    advocacy: bool = False
    broadcast: bool = False
    online: bool = False
    identity: Identity = Identity.ANONYMOUS
    voice: VoiceForm = VoiceForm.DISGUISE
    voice_mode: VoiceMode = VoiceMode.STANDARD  # how strongly the voice is disguised (light, standard, strong)
    collected_by: str | None = None
    method: str | None = None


class IntakeTerm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    term: str = Field(min_length=1)
    kind: TermKind = TermKind.NAME


class IntakeMetadata(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pseudonym: str | None = None
    recorded_at: datetime | None = None
    place: str | None = None
    language: str | None = None
    expelled_from: str | None = None
    route: str | None = None
    themes: list[str] = Field(default_factory=list)
    interviewer: str | None = None
    notes: str | None = None
    consent: IntakeConsent | None = None
    sensitive_terms: list[IntakeTerm] = Field(default_factory=list)
    muted: list[tuple[float, float]] = Field(default_factory=list)

    @field_validator("recorded_at", mode="before")
    @classmethod
    def _date(cls, value: Any) -> Any:
        if isinstance(value, date) and not isinstance(value, datetime):
            return datetime.combine(value, time(), tzinfo=timezone.utc)
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.strip())
            except ValueError:
                raise ValueError(f"date invalide {value!r} (attendu AAAA-MM-JJ ou AAAA-MM-JJTHH:MM)") from None
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
        return value

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = language_code(value)
        if code is None:
            raise ValueError(f"code de langue inconnu {value!r} (ISO 639-1 ou 639-3 : fr, bm, en…)")
        return code

    @field_validator("expelled_from")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = country_code(value)
        if code is None:
            raise ValueError(f"code de pays inconnu {value!r} (ISO 3166 alpha-2 : DZ, LY, FR, ES…)")
        return code

    @field_validator("sensitive_terms", mode="before")
    @classmethod
    def _terms(cls, value: Any) -> Any:
        return [{"term": item} if isinstance(item, str) else item for item in _listed(value)]

    @field_validator("muted", mode="before")
    @classmethod
    def _muted(cls, value: Any) -> Any:
        spans = []
        for item in _listed(value):
            if isinstance(item, dict):
                item = (item.get("start"), item.get("end"))
            if not isinstance(item, (list, tuple)) or len(item) != 2:
                raise ValueError(f"passage à couper invalide {item!r} (attendu [début, fin])")
            try:
                start, end = (parse_timecode(v) for v in item)
            except InputError as exc:
                raise ValueError(str(exc)) from None
            if end <= start:
                raise ValueError(f"passage à couper {item!r} : la fin doit suivre le début")
            spans.append((start, end))
        return spans

    @field_validator("themes", mode="before")
    @classmethod
    def _themes(cls, value: Any) -> Any:
        return [str(v).strip().lower() for v in _listed(value)]

    def check_themes(self, vocabulary: set[str], source: str) -> None:
        unknown = [t for t in self.themes if t not in vocabulary]
        if unknown:
            raise MetadataError(
                f"{source} : thème inconnu {', '.join(unknown)} (vocabulaire : {', '.join(sorted(vocabulary))})"
            )


def _listed(value: Any) -> list:
    """A list field as written: a list, one value alone, or nothing."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, (str, dict)):
        return [value]
    raise ValueError(f"liste attendue, reçu {value!r}")


def find_sidecar(audio_path: Path) -> Path | None:
    for suffix in SIDECAR_SUFFIXES:
        candidate = audio_path.with_suffix(suffix)
        if candidate.is_file():
            return candidate
    return None


def load_metadata(path: Path | None) -> IntakeMetadata:
    """Read and validate a sidecar; no sidecar means empty metadata and no consent."""
    if path is None:
        return IntakeMetadata()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MetadataError(f"{path.name} : lecture impossible ({exc})") from exc
    return parse_metadata(text, path.name, as_json=path.suffix == ".json")


def parse_metadata(text: str, name: str, *, as_json: bool = False) -> IntakeMetadata:
    """Validate the text of a sidecar called ``name`` (YAML, or JSON)."""
    raw = _json(text, name) if as_json else load_yaml(text, name, error=MetadataError)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise MetadataError(f"{name} : le fichier doit contenir des champs (clé: valeur)")
    try:
        return IntakeMetadata.model_validate(raw)
    except ValidationError as exc:
        raise MetadataError(f"{name} : {describe(exc)}") from None


def _json(text: str, name: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise MetadataError(f"{name} : syntaxe JSON invalide ligne {exc.lineno} ({exc.msg})") from exc
    except RecursionError as exc:
        raise MetadataError(f"{name} : JSON trop imbriqué") from exc
    except ValueError as exc:  # e.g. a number of more than 4300 digits
        raise MetadataError(f"{name} : JSON illisible ({one_line(str(exc))})") from exc


def describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "fichier"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "champ inconnu"
        elif error["type"] == "enum":
            expected = error["ctx"]["expected"].replace(" or ", " ou ")
            message = f"valeur inconnue {error.get('input')!r} (attendu : {expected})"
        elif error["type"].startswith("bool"):
            message = f"oui/non attendu (true/false), reçu {error.get('input')!r}"
        parts.append(f"champ « {where} » : {message}")
    return one_line("; ".join(parts))
