"""Configuration problems: each names the key it is about and the fix.

A wrong configuration must stop start-up with a message an operator can act on
(spec 01, Configuration), so problems are collected, not raised one by one: the
operator sees all of them at once.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong with the configuration."""

    key: str
    """Where: a TOML path (``compounds[3] (code "HD-09").community``) or an environment variable."""
    problem: str
    fix: str

    def render(self) -> str:
        return f"- {self.key}: {self.problem}\n  fix: {self.fix}"


class ConfigError(Exception):
    """The configuration cannot be used; ``problems`` says why and how to fix each."""

    def __init__(self, source: str, problems: Sequence[ConfigProblem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__(self.render())

    def render(self) -> str:
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = [f"{self.source} has {count} {noun}; xieshang did not start:"]
        lines += [p.render() for p in self.problems]
        return "\n".join(lines)


def toml_path(raw: Mapping[str, Any], location: Iterable[int | str]) -> str:
    """Render a pydantic location as a TOML key, naming list items by their code.

    ``("compounds", 3, "community")`` becomes ``compounds[3] (code "HD-09").community``
    so the operator can find the entry without counting tables.
    """
    parts: list[str] = []
    node: Any = raw
    for step in location:
        if isinstance(step, int):
            label = f"[{step}]"
            item = node[step] if isinstance(node, list) and step < len(node) else None
            if isinstance(item, Mapping) and isinstance(item.get("code"), str):
                label += f' (code "{item["code"]}")'
            parts.append(label)
            node = item
        else:
            parts.append(("." if parts else "") + step)
            node = node.get(step) if isinstance(node, Mapping) else None
    return "".join(parts) or "(top level)"


def _fields_at(model: type[BaseModel], location: Sequence[int | str]) -> list[str]:
    """The key names allowed at a location, to suggest a spelling for an unknown key."""
    current: Any = model
    for step in location:
        if isinstance(step, int):
            continue
        field = current.model_fields.get(step) if hasattr(current, "model_fields") else None
        if field is None:
            return []
        annotation = field.annotation
        inner = getattr(annotation, "__args__", None)
        candidates = [annotation, *(inner or ())]
        current = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
        if current is None:
            return []
    return list(current.model_fields) if current is not None else []


def problems_from_validation(
    error: ValidationError, raw: Mapping[str, Any], model: type[BaseModel]
) -> list[ConfigProblem]:
    """Translate pydantic's errors into problems that name the key and the fix."""
    problems = []
    for item in error.errors(include_url=False):
        location = tuple(item["loc"])
        key = toml_path(raw, location)
        kind = item["type"]
        if kind == "extra_forbidden":
            allowed = _fields_at(model, location[:-1])
            guess = difflib.get_close_matches(str(location[-1]), allowed, n=1)
            fix = f"did you mean '{guess[0]}'? " if guess else ""
            fix += "Remove the key or correct its spelling"
            if allowed:
                fix += f"; allowed here: {', '.join(allowed)}"
            problems.append(ConfigProblem(key, "unknown key", fix))
        elif kind == "missing":
            problems.append(ConfigProblem(key, "required but missing", f"add {location[-1]} = …"))
        else:
            message = str(item["msg"]).removeprefix("Value error, ")
            problems.append(ConfigProblem(key, message, _fix_for(kind)))
    return problems


def _fix_for(kind: str) -> str:
    if kind == "literal_error":
        return "use one of the values listed above"
    if kind in {"int_parsing", "int_type", "float_parsing", "float_type"}:
        return "write a number without quotes"
    if kind in {"bool_parsing", "bool_type"}:
        return "write true or false, without quotes"
    if kind.startswith("date"):
        return "write a date as YYYY-MM-DD, without quotes"
    if kind in {"too_short", "too_long"}:
        return "add or remove entries to fit the stated length"
    if kind.startswith(("greater_than", "less_than")):
        return "choose a value within the stated bounds"
    if kind == "string_pattern_mismatch":
        return "write the value in the form the pattern above describes"
    return "correct the value as the message says"
