"""Docs that cannot drift: every `kuma` command and every setting is documented in docs/*.md."""
from pathlib import Path

import typer.main

from api.cli import app
from archive.settings import Settings

DOCS = Path(__file__).resolve().parents[1] / "docs"


def docs_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(DOCS.glob("*.md"))) + \
        (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def command_names(group, prefix: str = "") -> list[str]:
    names = []
    for name, command in group.commands.items():
        full = f"{prefix}{name}"
        if hasattr(command, "commands"):
            names += command_names(command, f"{full} ")
        else:
            names.append(full)
    return names


def test_every_cli_command_is_documented():
    text = docs_text()
    commands = command_names(typer.main.get_command(app))
    assert "ingest" in commands and "consent withdraw" in commands
    missing = [name for name in commands if f"kuma {name}" not in text]
    assert not missing, f"undocumented commands: {missing}"


def test_every_setting_is_documented():
    text = docs_text()
    missing = [name for name in Settings.model_fields if f"KUMA_{name.upper()}" not in text]
    assert not missing, f"undocumented settings: {missing}"


def test_exit_codes_are_documented():
    text = docs_text()
    for code in range(0, 9):
        assert f"| {code} |" in text


def test_the_stage_list_in_the_docs_is_the_pipeline():
    import re

    import pipeline

    text = (DOCS / "pipeline.md").read_text(encoding="utf-8")
    documented = re.findall(r"^\| \d \| `(\w+)` \|", text, flags=re.M)
    assert documented == [stage.name.value for stage in pipeline.STAGES]
    effects = re.findall(r"^\| `(\w+)` \| (?:in the consent|after)", text, flags=re.M)
    assert effects == [effect.name for effect in pipeline.ON_CONSENT_CHANGE]


def test_every_station_command_and_option_is_documented():
    """docs/station.md names every `kuma-station` command, every option of `init` and every setting."""
    from dataclasses import fields

    from station.cli import _parser
    from station.config import Config

    text = (DOCS / "station.md").read_text(encoding="utf-8")
    parser = _parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    for name, sub in commands.items():
        assert f"kuma-station {name}" in text
        for action in sub._actions:
            for flag in action.option_strings:
                if flag.startswith("--") and flag != "--help":
                    assert f"`{flag}" in text or f"[{flag}" in text, f"kuma-station {name} {flag} undocumented"
    for field in fields(Config):
        assert f"`{field.name}`" in text, f"config key {field.name} undocumented"
    for code in (0, 1, 2, 3, 4, 75):
        assert f"{code} " in text
