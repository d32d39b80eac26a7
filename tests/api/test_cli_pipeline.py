"""`kuma process`: every stage in order, only what is missing, resumable."""
import json
import os
import time

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


def test_process_says_each_time_what_waits_for_a_person(cli, make_audio, tiny_env, tmp_path):
    """With the default limits the random model's transcripts fail the recognition check: a person
    must transcribe them. That is no failure of the run (exit 0), and every run says it again."""
    env = {k: v for k, v in tiny_env.items() if k.startswith("KUMA_WHISPER")}
    for n in (1, 2):
        make_audio(f"t{n}.wav", seconds=12, seed=n, sidecar={"language": "fr", "consent": FULL_CONSENT})
    assert cli("ingest", tmp_path / "incoming", env=env)[0] == 0
    code, out, err = cli("process", env=env)
    assert code == 0, out + err
    assert out.count("reconnaissance automatique insuffisante") >= 2 and "T-000001" in out and "T-000002" in out
    assert "2 en attente d'une personne" in out
    code, out, _ = cli("process", env=env)  # still said on the next run, until a person transcribes them
    assert code == 0 and "2 en attente d'une personne" in out and out.count("transcrire :") == 2


def test_process_runs_each_stage_in_order_and_only_once(cli, make_audio, tiny_env, tmp_path):
    make_audio("consenti.wav", seconds=6, seed=1,
               sidecar={"language": "fr", "consent": FULL_CONSENT, "sensitive_terms": ["Diarra"]})
    make_audio("sans-consentement.wav", seconds=6, seed=2, sidecar={"language": "fr"})
    assert cli("ingest", tmp_path / "incoming", env=tiny_env)[0] == 0

    code, out, err = cli("process", env=tiny_env)
    assert code == 0, err
    titles = [out.index(title) for title in ("Transcription", "Anonymisation", "Relecture humaine",
                                            "Montage des émissions", "Publication des flux")]
    assert titles == sorted(titles)
    transcription, anonymisation = out.split("Transcription", 1)[1].split("Anonymisation", 1)
    assert "✓ T-000001 (nouveau)" in transcription
    assert "T-000002" not in transcription  # no consent: nothing processed
    assert "✓ T-000001 (nouveau)" in anonymisation.split("Relecture", 1)[0]
    assert "T-000002" not in anonymisation.split("Relecture", 1)[0]

    code, out, _ = cli("process", "--dry-run", "--json", env=tiny_env)
    pending = json.loads(out)
    assert code == 0 and pending["transcribe"] == [] and pending["anonymize"] == [] and pending["review"] == ["T-000001"]
    code, out, _ = cli("process", env=tiny_env)
    assert code == 0 and "(nouveau)" not in out
    code, out, _ = cli("testimonies", "show", "T-000001", "--json", env=tiny_env)
    assert '"transcribe": "done"' in out and '"anonymize": "done"' in out and '"review": "needs_human"' in out


def test_process_stage_option_and_unknown_stage(cli, tiny_env):
    code, out, _ = cli("process", "--stage", "transcribe", "--json", env=tiny_env)
    assert code == 0 and json.loads(out) == {"data": [], "count": 0}
    code, _, err = cli("process", "--stage", "mixage", env=tiny_env)
    assert code == 2 and "étape inconnue 'mixage'" in err and "build_episode" in err


def test_worker_once_takes_the_inbox_and_stops(cli, make_audio, tiny_env, tmp_path):
    home = tmp_path / "kuma-home"
    path = make_audio("depot.wav", seconds=4, sidecar={"language": "fr", "consent": FULL_CONSENT},
                      folder=home / "inbox")
    for file in path.parent.iterdir():
        os.utime(file, (time.time() - 60,) * 2)
    code, out, err = cli("worker", "--once", home=home, env=tiny_env)
    assert code == 0, out + err
    assert "Dépôt :" in out and "depot.wav → T-000001" in out and "T-000001 (nouveau)" in out
    assert not path.exists()


def test_a_file_name_that_is_not_utf8_goes_through_the_inbox(cli, make_audio, tiny_env, tmp_path):
    home = tmp_path / "kuma-home"
    made = make_audio("tmp.wav", seconds=4, sidecar={"language": "fr", "consent": FULL_CONSENT}, folder=home / "inbox")
    name = os.fsdecode(b"t\xe9moignage")  # Latin-1 bytes from an old phone: not UTF-8
    audio, sidecar = made.with_name(f"{name}.wav"), made.with_name(f"{name}.yaml")
    made.rename(audio)
    made.with_suffix(".yaml").rename(sidecar)
    for file in (audio, sidecar):
        os.utime(file, (time.time() - 60,) * 2)
    code, out, err = cli("process", "--stage", "ingest", "--json", home=home, env=tiny_env)
    assert code == 0, out + err
    [result] = json.loads(out)["data"]
    assert result["ref"].endswith("t\\xe9moignage.wav") and result["testimony"] == "T-000001"
    assert not audio.exists() and not sidecar.exists()
