"""The radio pack: one zip for a station without internet (audio, cue sheet, transcript,
show notes, checksums). Consent is asked again at packing time: a withdrawal after the build
stops the pack. The zip is deterministic (fixed dates and order)."""
from __future__ import annotations

import hashlib
import shutil
import zipfile
from pathlib import Path

from archive import audit
from archive.consent import Use, decide
from archive.db import Archive
from archive.errors import NotFound, ReviewRequired
from studio.episode import episode_asset, episode_by_ref

# role -> name inside the pack
PACK_FILES = {
    "broadcast": "emission-broadcast-48k.wav",
    "lowband": "emission-basdebit.mp3",
    "cue-csv": "conducteur.csv",
    "cue-txt": "conducteur.txt",
    "transcript-vtt": "transcription.vtt",
    "transcript-srt": "transcription.srt",
    "transcript-json": "transcription.json",
    "shownotes-md": "notes.md",
    "shownotes-html": "notes.html",
    "chapters": "chapitres.json",
}
FALLBACK_AUDIO = {"broadcast": "podcast"}  # no WAV stored: the podcast MP3 goes instead
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
LISEZMOI = """Paquet radio — {title}
{programme}, épisode {number} ({date})

Fichiers :
- {broadcast} : émission prête à diffuser (niveau EBU R128)
- emission-basdebit.mp3 : version légère
- conducteur.csv / conducteur.txt : début et durée de chaque élément
- transcription.* : transcription anonymisée
- notes.md / notes.html : présentation de l'émission
- SHA256SUMS : empreintes pour vérifier les fichiers (sha256sum -c SHA256SUMS)

Les témoignages sont diffusés avec l'accord des personnes, sous forme anonymisée.
Merci de ne pas les modifier ni les rediffuser hors antenne.
"""


def check_broadcast_consent(episode) -> None:
    """Every testimony of the episode must still allow broadcast, from the very rendition used."""
    for link in episode.testimonies:
        decision = decide(link.testimony, Use.BROADCAST).require()
        if link.rendition_id is not None and decision.rendition is not None and decision.rendition.id != link.rendition_id:
            raise ReviewRequired(f"{link.testimony.public_id} : la version anonymisée a changé depuis le montage "
                                 "(reconstruire l'épisode)")


def make_pack(archive: Archive, ref: str | int, destination: Path | None = None, *, actor: str = "kuma") -> Path:
    store = archive.store
    with archive.session() as session:
        episode = episode_by_ref(session, ref)
        check_broadcast_consent(episode)
        files: list[tuple[str, Path]] = []
        for role, name in PACK_FILES.items():
            asset = episode_asset(episode, role) or (
                episode_asset(episode, FALLBACK_AUDIO[role]) if role in FALLBACK_AUDIO else None)
            if asset is None:
                raise NotFound(f"épisode {episode.slug} : fichier « {role} » manquant (reconstruire l'épisode)")
            if asset.role != role:
                name = "emission-broadcast.mp3"
            store.check(asset.sha256)
            files.append((name, store.path(asset.sha256)))
        readme = LISEZMOI.format(title=episode.title, programme=episode.programme, number=episode.number,
                                 date=episode.date.isoformat(), broadcast=files[0][0]).encode("utf-8")
        target = Path(destination or ".")
        if target.suffix.lower() != ".zip":  # a folder
            target = target / f"{episode.slug}-paquet-radio.zip"
        audit.record(session, actor, "episode.pack", target=episode.slug, file=target.name)
        folder = episode.slug
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(target.name + ".part")
    sums = []
    with zipfile.ZipFile(temp, "w") as archive_zip:
        for name, path in files:
            sums.append(f"{_sha256(path)}  {name}")
            _add_file(archive_zip, f"{folder}/{name}", path)
        _add_bytes(archive_zip, f"{folder}/LISEZMOI.txt", readme)
        sums.append(f"{hashlib.sha256(readme).hexdigest()}  LISEZMOI.txt")
        _add_bytes(archive_zip, f"{folder}/SHA256SUMS", ("\n".join(sums) + "\n").encode())
    temp.replace(target)
    return target


def _info(name: str, compress: bool) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    return info


def _add_file(zf: zipfile.ZipFile, name: str, path: Path) -> None:
    compress = not name.endswith((".mp3", ".opus"))
    with open(path, "rb") as src, zf.open(_info(name, compress), "w", force_zip64=True) as dst:
        shutil.copyfileobj(src, dst, 1 << 20)


def _add_bytes(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    zf.writestr(_info(name, True), data)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
