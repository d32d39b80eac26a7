"""Helpers shared by the anonymization tests."""
from __future__ import annotations

import numpy as np

from archive.audio import iter_decode
from archive.models import MediaKind
from archive.testimonies import get
from anonymization import stage
from anonymization import voice


def disguised_without_bleeps(archive, public_id) -> np.ndarray:
    """The testimony's working copy through the same key's disguise, without the bleeps: what the
    rendition must equal outside the bleeped spans (the disguise's level varies with the key)."""
    with archive.session() as session:
        testimony = get(session, public_id)
        source = archive.store.path(testimony.asset(MediaKind.WORKING).sha256)
        key = stage.voice_key(archive, testimony)
        mode = testimony.consent.voice_mode
    chunks = iter_decode(source, rate=voice.RATE, frame_size=int(stage.CHUNK_S * voice.RATE))
    return np.concatenate(list(voice.disguise_stream(chunks, key, mode)))
