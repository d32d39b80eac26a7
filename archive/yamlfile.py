"""YAML that people write (sidecars, rundowns, the theme lexicon): the one home of PyYAML.

Safe loading only. Dates stay text, so that a bad date gets the model's message, not YAML's
(the models read "2026-11-27" themselves). A syntax error becomes one line naming the file and
the line: ``x.yaml : syntaxe YAML invalide ligne 3 (expected ',' or ']', …)``.
"""
from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError

from archive.errors import InputError, KumaError


MAX_VALUES = 100_000  # a sidecar or a rundown holds hundreds; more, once aliases are expanded, is a bomb


class _Loader(yaml.SafeLoader):
    """Safe YAML that leaves dates as text, refuses alias bombs and cycles, and reports a bad
    explicitly tagged value ("!!int abc") as a YAML error."""

    def construct_document(self, node):
        if _expanded_size(node, {}) > MAX_VALUES:
            raise ConstructorError(None, None, f"plus de {MAX_VALUES} valeurs une fois les alias développés",
                                   node.start_mark)
        return super().construct_document(node)

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep)
        except (ValueError, KeyError, AttributeError, TypeError, OverflowError) as exc:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            raise ConstructorError(None, None, f"valeur illisible pour {tag}", node.start_mark) from exc


def _expanded_size(node, sizes: dict[int, int | None]) -> int:
    """How many values ``node`` holds with every alias expanded (a node met again inside itself: a cycle)."""
    if id(node) in sizes:
        if sizes[id(node)] is None:
            raise ConstructorError(None, None, "alias circulaire : une valeur qui se contient elle-même",
                                   node.start_mark)
        return sizes[id(node)]
    sizes[id(node)] = None
    children = node.value if isinstance(node, yaml.SequenceNode) else \
        [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else []
    size = 1
    for child in children:
        size += _expanded_size(child, sizes)
        if size > MAX_VALUES:
            break
    sizes[id(node)] = size
    return size


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
