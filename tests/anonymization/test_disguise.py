"""anonymization/disguise.py: the pipeline's renditions are exactly what `kuma voice disguise` makes of the
working copy with the testimony's internal key as label, in the consent's voice mode."""
from __future__ import annotations

import numpy as np
import pytest

from archive.audio import decode
from archive.consent import current_rendition
from archive.models import MediaKind
from archive.testimonies import get
from anonymization import stage
from anonymization import disguise

CONSENT = {"archive": True, "advocacy": True, "broadcast": True, "online": True,
           "identity": "pseudonym", "voice": "disguise"}


@pytest.mark.parametrize("mode", ["standard", "strong"])
def test_a_rendition_is_the_file_disguise_of_its_working_copy(archive, seed_testimony, tmp_path, mode):
    public_id = seed_testimony(consent={**CONSENT, "voice_mode": mode}, text="bonjour à tous", approved=False)
    assert stage.anonymize(archive, public_id).status == "created"
    with archive.session() as session:
        testimony = get(session, public_id)
        rendition = current_rendition(testimony)
        assert rendition.redactions == []  # nothing bleeped: the audio is the disguise alone
        aired = decode(archive.store.path(rendition.audio.sha256), rate=16000)
        working = archive.store.path(testimony.asset(MediaKind.WORKING).sha256)
        label = testimony.internal_key
        assert stage.voice_key(archive, testimony) == disguise.key_for(archive.settings, label)
    out = tmp_path / "par-la-commande.flac"
    disguise.disguise_file(working, out, disguise.key_for(archive.settings, label), mode)
    assert np.array_equal(decode(out, rate=16000), aired)
    other = "strong" if mode == "standard" else "standard"
    disguise.disguise_file(working, out, disguise.key_for(archive.settings, label), other)
    assert not np.allclose(decode(out, rate=16000), aired, atol=1e-3)  # the mode is the consent's


def test_only_wav_and_flac_are_written(tmp_path):
    from archive.errors import InputError

    assert disguise.output_format(tmp_path / "a.WAV") == "wav"
    with pytest.raises(InputError, match="format de sortie"):
        disguise.output_format(tmp_path / "a.ogg")
