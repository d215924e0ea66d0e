"""Turn the configuration's place entries into domain values (:mod:`civic.places`)."""

from __future__ import annotations

from bot.config.models import AppConfig
from civic.places import (
    Building,
    Community,
    Compound,
    Department,
    Grid,
    Places,
    ReportCategory,
    Township,
)
from civic.workdays import HolidayRule


def places_from_config(config: AppConfig) -> Places:
    """The places to upsert at start-up, in the order the file lists them."""
    return Places(
        townships=tuple(Township(t.code, t.name, t.name_en) for t in config.townships),
        communities=tuple(
            Community(c.code, c.name, c.name_en, c.township, c.timezone or config.county.timezone)
            for c in config.communities
        ),
        compounds=tuple(
            Compound(c.code, c.community, c.name, c.name_en, c.property_manager)
            for c in config.compounds
        ),
        buildings=tuple(
            Building(f"{c.code}-{label}", c.code, label)
            for c in config.compounds
            for label in c.buildings
        ),
        grids=tuple(
            Grid(g.code, g.community, g.name, tuple(sorted(g.compounds))) for g in config.grids
        ),
        departments=tuple(
            Department(d.code, d.name, d.name_en, tuple(sorted(d.categories)))
            for d in config.departments
        ),
        report_categories=tuple(
            ReportCategory(c.code, c.name, c.name_en, c.type) for c in config.report_categories
        ),
    )


def holiday_rules_from_config(config: AppConfig) -> tuple[HolidayRule, ...]:
    """The ``[[holidays]]`` entries as rules for :class:`civic.workdays.WorkingCalendar`."""
    return tuple(
        HolidayRule(h.name, h.start, h.end or h.start, tuple(h.workdays)) for h in config.holidays
    )
