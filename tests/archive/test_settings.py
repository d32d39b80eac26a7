import pytest
from pydantic import ValidationError

from archive.settings import Settings


def test_defaults_are_the_embedded_ones(tmp_path, monkeypatch):
    settings = Settings()
    assert settings.home.name == "kuma-data"
    assert settings.db_url.startswith("sqlite:///") and settings.db_url.endswith("kuma-data/kuma.db")
    assert settings.media_path == settings.home / "media"
    assert settings.offline is True


def test_environment_prefix(monkeypatch, tmp_path):
    monkeypatch.setenv("KUMA_HOME", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("KUMA_LANGUAGE_MODELS", '{"bm": "/models/bambara"}')
    settings = Settings()
    assert settings.home == tmp_path / "elsewhere"
    assert settings.language_models == {"bm": "/models/bambara"}


def test_bad_values_are_rejected_at_start(monkeypatch):
    monkeypatch.setenv("KUMA_WORKING_SAMPLE_RATE", "100")
    with pytest.raises(ValidationError):
        Settings()
