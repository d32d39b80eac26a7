"""YAML that people write (sidecars, rundowns, the theme lexicon): the one home of PyYAML.

Safe loading only. Dates stay text, so that a bad date gets the model's message, not YAML's
(the models read "2026-11-27" themselves). A syntax error becomes one line naming the file and
the line: ``x.yaml : syntaxe YAML invalide ligne 3 (expected ',' or ']', …)``.
"""
from __future__ import annotations

from typing import Any

import yaml

from archive.errors import InputError, KumaError


class _Loader(yaml.SafeLoader):
    """Safe YAML that leaves dates as text."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(source: str | bytes, name: str, *, error: type[KumaError] = InputError) -> Any:
    """The document in ``source`` (the text or bytes of the file called ``name``), or ``error``."""
    try:
        return yaml.load(source, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise error(f"{name} : syntaxe YAML invalide{_where(exc)} ({_problem(exc)})") from exc
    except RecursionError as exc:
        raise error(f"{name} : YAML trop imbriqué") from exc


def dump_yaml(data: Any) -> str:
    """``data`` as YAML a person can read and edit (UTF-8 text, keys in their order)."""
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _where(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return f" ligne {mark.line + 1}" if mark is not None else ""


def _problem(exc: yaml.YAMLError) -> str:
    text = getattr(exc, "problem", None) or getattr(exc, "reason", None) or str(exc)
    return " ".join(str(text).split())
