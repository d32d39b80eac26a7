"""The faster-whisper wrapper: model resolution, the documented missing-model error, languages."""
from __future__ import annotations

import pytest

from archive.errors import ConfigError
from archive.settings import Settings
from tests.conftest import speechlike
from tests.transcripts.conftest import TEST_OPTIONS
from transcripts.engine import (Engine, TranscribeOptions, load_whisper_model, model_available,
                                normalize_language, resolve_language)


def test_defaults_are_the_archive_settings():
    kwargs = TranscribeOptions().transcribe_kwargs()
    assert kwargs["vad_filter"] is True and kwargs["vad_parameters"]["min_silence_duration_ms"] == 1000
    assert kwargs["word_timestamps"] is True and kwargs["condition_on_previous_text"] is False
    assert kwargs["hallucination_silence_threshold"] == 2.0
    assert "max_new_tokens" not in kwargs
    assert TranscribeOptions.from_settings(Settings(whisper_batch_size=0)).batch_size == 0


def test_offline_missing_model_says_how_to_provide_one(tmp_path):
    settings = Settings(home=tmp_path / "home", whisper_model="medium", offline=True)
    with pytest.raises(ConfigError) as caught:
        load_whisper_model(settings, "medium")
    message = str(caught.value)
    assert "KUMA_WHISPER_MODEL=" in message and str(tmp_path / "home" / "models" / "medium") in message
    assert "hors ligne" in message
    assert not model_available(settings)


def test_a_directory_that_is_not_a_model_is_a_config_error(tmp_path):
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    settings = Settings(home=tmp_path / "home", whisper_model=str(empty))
    with pytest.raises(ConfigError, match="KUMA_WHISPER_MODEL"):
        load_whisper_model(settings, str(empty))


def test_model_under_the_models_dir_is_found_by_name(tmp_path, tiny_model):
    import shutil

    settings = Settings(home=tmp_path / "home", whisper_model="tiny-whisper")
    shutil.copytree(tiny_model, settings.models_path / "tiny-whisper")
    assert model_available(settings)
    assert load_whisper_model(settings, "tiny-whisper").model.is_multilingual


@pytest.mark.parametrize("given, expected", [("fr", "fr"), ("FRA", "fr"), ("bam", "bm"), ("", None), (None, None)])
def test_language_codes_are_normalised(given, expected):
    assert normalize_language(given) == expected


def test_language_plans(tmp_path):
    settings = Settings(home=tmp_path, whisper_model="small")
    assert resolve_language(settings, "fr").model == "small" and resolve_language(settings, "fr").language == "fr"
    auto = resolve_language(settings, None)
    assert (auto.model, auto.language, auto.known) == ("small", None, None)
    bambara = resolve_language(settings, "bm")
    assert bambara.model is None and "transcription humaine" in bambara.reason
    mapped = resolve_language(Settings(home=tmp_path, language_models={"bm": "/m/bm"}), "bam")
    assert (mapped.model, mapped.language, mapped.known) == ("/m/bm", None, "bm")


def test_engine_runs_the_real_model(tmp_path, tiny_model):
    settings = Settings(home=tmp_path, whisper_model=str(tiny_model), whisper_device="cpu", whisper_cpu_threads=1)
    audio = speechlike(8.0)
    result = Engine(settings).transcribe(audio, model=str(tiny_model), language=None, options=TEST_OPTIONS)
    segments = list(result.segments)
    assert result.duration == pytest.approx(8.0) and result.language and 0 < result.language_probability <= 1
    assert segments and all(isinstance(w.word, str) for s in segments for w in s.words)


def test_batched_pipeline_is_an_explicit_option(tmp_path, tiny_model):
    settings = Settings(home=tmp_path, whisper_model=str(tiny_model), whisper_device="cpu", whisper_cpu_threads=1)
    options = TranscribeOptions(max_new_tokens=20, batch_size=2)
    result = Engine(settings).transcribe(speechlike(8.0), model=str(tiny_model), language="fr", options=options)
    segments = list(result.segments)
    assert result.language == "fr" and result.language_probability is None
    assert segments and all(0 <= s.start <= s.end <= 8.0 for s in segments)
