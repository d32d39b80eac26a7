"""`kuma process`: every stage in order, only what is missing, resumable."""
import pytest

from tests.conftest import FULL_CONSENT
from tests.transcripts.conftest import RANDOM_MODEL_LIMITS
from tests.whisper_fixture import build_tiny_whisper
from transcripts.engine import TranscribeOptions


@pytest.fixture
def tiny_env(tmp_path, monkeypatch):
    model = build_tiny_whisper(tmp_path / "tiny-whisper")
    original = TranscribeOptions.from_settings.__func__
    monkeypatch.setattr(TranscribeOptions, "from_settings",  # random weights: bound the tokens per window
                        classmethod(lambda cls, settings, **o: original(cls, settings, **{"max_new_tokens": 20, **o})))
    return {"KUMA_WHISPER_MODEL": str(model), "KUMA_WHISPER_CPU_THREADS": "1",
            **{f"KUMA_{name.upper()}": str(value) for name, value in RANDOM_MODEL_LIMITS.items()}}


def test_process_ends_non_zero_with_one_line_per_testimony_a_person_must_transcribe(cli, make_audio, tiny_env, tmp_path):
    """With the default limits the random model's transcripts fail the recognition check."""
    env = {k: v for k, v in tiny_env.items() if k.startswith("KUMA_WHISPER")}
    for n in (1, 2):
        make_audio(f"t{n}.wav", seconds=12, seed=n, sidecar={"language": "fr", "consent": FULL_CONSENT})
    assert cli("ingest", tmp_path / "incoming", env=env)[0] == 0
    code, out, err = cli("process", env=env)
    assert code == 7, out + err
    assert "2 témoignage(s) à transcrire par une personne" in err
    assert err.count("reconnaissance automatique insuffisante") == 2 and "T-000001 :" in err and "T-000002 :" in err
    code, _, err = cli("process", env=env)  # still said on the next run, until a person transcribes them
    assert code == 7 and "2 témoignage(s) à transcrire par une personne" in err


def test_process_runs_each_stage_in_order_and_only_once(cli, make_audio, tiny_env, tmp_path):
    make_audio("consenti.wav", seconds=6, seed=1,
               sidecar={"language": "fr", "consent": FULL_CONSENT, "sensitive_terms": ["Diarra"]})
    make_audio("sans-consentement.wav", seconds=6, seed=2, sidecar={"language": "fr"})
    assert cli("ingest", tmp_path / "incoming", env=tiny_env)[0] == 0

    code, out, err = cli("process", env=tiny_env)
    assert code == 0, err
    assert out.index("transcription") < out.index("anonymisation")
    assert "transcrit T-000001" in out
    assert "Transcrits : 1" in out and "non traités : 1" in out  # no consent: nothing processed
    assert "T-000001 : créée (à relire)" in out
    assert "T-000002" not in out.split("anonymisation", 1)[1]

    code, out, _ = cli("process", env=tiny_env)
    assert code == 0
    assert "Rien à anonymiser" in out and "créée" not in out
    code, out, _ = cli("testimonies", "show", "T-000001", "--json", env=tiny_env)
    assert '"transcribe": "done"' in out and '"anonymize": "done"' in out and '"review": "needs_human"' in out
