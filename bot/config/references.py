"""Checks across entries of ``config.toml``: unique codes and references that resolve.

Pydantic checks each value; these checks need the whole file. Each problem names
the key it is about (``compounds[3] (code "HD-09").community``) and the fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from bot.config.models import AppConfig
from bot.config.problems import ConfigProblem, toml_path


def _listing(codes: Iterable[str], limit: int = 12) -> str:
    ordered = sorted(codes)
    shown = ", ".join(ordered[:limit])
    return shown + (f", … ({len(ordered)} in all)" if len(ordered) > limit else "")


def check_references(config: AppConfig, raw: Mapping[str, Any]) -> list[ConfigProblem]:
    """Every problem of the file that needs more than one entry to see."""
    problems: list[ConfigProblem] = []

    def where(*location: int | str) -> str:
        return toml_path(raw, location)

    # One namespace for places that appear in deep links: communities, compounds, buildings.
    seen_places: dict[str, str] = {}
    place_entries: list[tuple[str, int, str]] = [
        *(("communities", i, c.code) for i, c in enumerate(config.communities)),
        *(("compounds", i, c.code) for i, c in enumerate(config.compounds)),
    ]
    for section, index, code in place_entries:
        first = seen_places.get(code.upper())
        if first is not None:
            problems.append(
                ConfigProblem(
                    where(section, index, "code"),
                    f'code "{code}" is already used by {first}',
                    "give every community and compound its own code (codes ignore case)",
                )
            )
        else:
            seen_places[code.upper()] = where(section, index)
    for index, compound in enumerate(config.compounds):
        labels: set[str] = set()
        for b_index, label in enumerate(compound.buildings):
            if label.upper() in labels:
                problems.append(
                    ConfigProblem(
                        where("compounds", index, "buildings", b_index),
                        f'building "{label}" is listed twice',
                        "list each building of the compound once",
                    )
                )
            labels.add(label.upper())
            building_code = f"{compound.code}-{label}".upper()
            if building_code in seen_places:
                problems.append(
                    ConfigProblem(
                        where("compounds", index, "buildings", b_index),
                        f'building code "{compound.code}-{label}" is already used by '
                        f"{seen_places[building_code]}",
                        "rename the building label or the clashing code",
                    )
                )

    for section, entries in (
        ("townships", config.townships),
        ("grids", config.grids),
        ("departments", config.departments),
        ("report_categories", config.report_categories),
    ):
        problems += _duplicates(section, [e.code for e in entries], where)

    townships = {t.code for t in config.townships}
    communities = {c.code for c in config.communities}
    compounds = {c.code: c for c in config.compounds}
    categories = {c.code for c in config.report_categories}
    departments = {d.code for d in config.departments}

    for index, community in enumerate(config.communities):
        if community.township not in townships:
            problems.append(
                _unknown(
                    where("communities", index, "township"),
                    "township",
                    community.township,
                    townships,
                    "[[townships]]",
                )
            )
    for index, compound in enumerate(config.compounds):
        if compound.community not in communities:
            problems.append(
                _unknown(
                    where("compounds", index, "community"),
                    "community",
                    compound.community,
                    communities,
                    "[[communities]]",
                )
            )
    gridded: dict[str, str] = {}
    for index, grid in enumerate(config.grids):
        if grid.community not in communities:
            problems.append(
                _unknown(
                    where("grids", index, "community"),
                    "community",
                    grid.community,
                    communities,
                    "[[communities]]",
                )
            )
        for c_index, code in enumerate(grid.compounds):
            key = where("grids", index, "compounds", c_index)
            compound_entry = compounds.get(code)
            if compound_entry is None:
                problems.append(_unknown(key, "compound", code, compounds, "[[compounds]]"))
            elif compound_entry.community != grid.community:
                problems.append(
                    ConfigProblem(
                        key,
                        f'compound "{code}" belongs to community "{compound_entry.community}", '
                        f'not to the grid\'s community "{grid.community}"',
                        "a grid holds compounds of its own community only",
                    )
                )
            elif code in gridded:
                problems.append(
                    ConfigProblem(
                        key,
                        f'compound "{code}" is already in grid {gridded[code]}',
                        "put each compound in one grid only",
                    )
                )
            else:
                gridded[code] = where("grids", index)
    for index, department in enumerate(config.departments):
        for c_index, code in enumerate(department.categories):
            if code not in categories:
                problems.append(
                    _unknown(
                        where("departments", index, "categories", c_index),
                        "report category",
                        code,
                        categories,
                        "[[report_categories]]",
                    )
                )
    for index, rule in enumerate(config.routing):
        if rule.category != "*" and rule.category not in categories:
            problems.append(
                _unknown(
                    where("routing", index, "category"),
                    "report category",
                    rule.category,
                    categories,
                    "[[report_categories]]",
                )
            )
        target = rule.assign_to
        if target.startswith("department:") and target.split(":", 1)[1] not in departments:
            problems.append(
                _unknown(
                    where("routing", index, "assign_to"),
                    "department",
                    target.split(":", 1)[1],
                    departments,
                    "[[departments]]",
                )
            )

    problems += _holiday_clashes(config, where)
    return problems


def _duplicates(section: str, codes: Sequence[str], where: Any) -> list[ConfigProblem]:
    first: dict[str, int] = {}
    problems = []
    for index, code in enumerate(codes):
        if code.upper() in first:
            problems.append(
                ConfigProblem(
                    where(section, index, "code"),
                    f'code "{code}" is already used by {where(section, first[code.upper()])}',
                    f"give every entry of [[{section}]] its own code (codes ignore case)",
                )
            )
        else:
            first[code.upper()] = index
    return problems


def _unknown(key: str, kind: str, code: str, known: Iterable[str], table: str) -> ConfigProblem:
    return ConfigProblem(
        key,
        f'no {kind} has the code "{code}"',
        f'use one of {_listing(known)}, or add a {table} entry with code = "{code}"',
    )


def _holiday_clashes(config: AppConfig, where: Any) -> list[ConfigProblem]:
    """A day cannot be both a holiday and an adjusted working day."""
    holiday_days: dict[date, int] = {}
    for index, entry in enumerate(config.holidays):
        end = entry.end or entry.start
        day = entry.start
        while day <= end:
            holiday_days[day] = index
            day = date.fromordinal(day.toordinal() + 1)
    problems = []
    for index, entry in enumerate(config.holidays):
        for w_index, workday in enumerate(entry.workdays):
            if workday in holiday_days:
                problems.append(
                    ConfigProblem(
                        where("holidays", index, "workdays", w_index),
                        f"{workday.isoformat()} is also a holiday in "
                        f"{where('holidays', holiday_days[workday])}",
                        "remove the day from one of the two",
                    )
                )
    return problems
