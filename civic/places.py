"""Places of a county: townships, communities, compounds, buildings, grids, departments.

Places are reference data described in ``config.toml`` and upserted into the
database at start-up (spec 01, Configuration). Every other record belongs to a
community, so these codes are the spine of permissions, deep links and tracking
numbers: they are ASCII, stable, and never reused for another place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from civic.ports import UnitOfWork


class CategoryType(StrEnum):
    """What a resident wants when filing a report (12345 hotline practice)."""

    COMPLAINT = "complaint"  # 投诉
    HELP = "help"  # 求助
    SUGGESTION = "suggestion"  # 建议
    INQUIRY = "inquiry"  # 咨询


@dataclass(frozen=True)
class Township:
    """A township (镇) or sub-district that oversees communities; the scope of a township admin."""

    code: str
    name: str
    name_en: str


DEFAULT_TIMEZONE: Final = "Asia/Shanghai"
"""The county's time zone when ``config.toml`` names none (``[county] timezone``)."""


@dataclass(frozen=True)
class Community:
    """A community (社区) with its residents' committee: the unit of staff scope."""

    code: str
    name: str
    name_en: str
    township_code: str
    timezone: str


@dataclass(frozen=True)
class Compound:
    """A residential compound (小区/院落).

    ``property_manager`` is the name of the property company, or ``None`` for the
    old compounds without one (the seed counts 775): routing and committee
    formation depend on it.
    """

    code: str
    community_code: str
    name: str
    name_en: str
    property_manager: str | None

    @property
    def has_property_manager(self) -> bool:
        return self.property_manager is not None


@dataclass(frozen=True)
class Building:
    """A building (楼栋) of a compound; its code is printed in the building's QR code."""

    code: str
    compound_code: str
    label: str


@dataclass(frozen=True)
class Grid:
    """A grid (网格): the set of compounds one grid worker is responsible for."""

    code: str
    community_code: str
    name: str
    compound_codes: tuple[str, ...]
    """Sorted, so that two equal grids compare equal."""


@dataclass(frozen=True)
class Department:
    """A county department or township office that receives routed reports."""

    code: str
    name: str
    name_en: str
    category_codes: tuple[str, ...]
    """Sorted, so that two equal departments compare equal."""


@dataclass(frozen=True)
class ReportCategory:
    """A category residents pick when reporting a problem (spec 02, Filing)."""

    code: str
    name: str
    name_en: str
    type: CategoryType


@dataclass(frozen=True)
class Places:
    """Everything the configuration says about places, as one value to upsert."""

    townships: tuple[Township, ...] = ()
    communities: tuple[Community, ...] = ()
    compounds: tuple[Compound, ...] = ()
    buildings: tuple[Building, ...] = ()
    grids: tuple[Grid, ...] = ()
    departments: tuple[Department, ...] = ()
    report_categories: tuple[ReportCategory, ...] = ()

    def counts(self) -> dict[str, int]:
        """How many of each kind: shown by ``check-config`` and logged at start-up."""
        return {
            "townships": len(self.townships),
            "communities": len(self.communities),
            "compounds": len(self.compounds),
            "buildings": len(self.buildings),
            "grids": len(self.grids),
            "departments": len(self.departments),
            "report_categories": len(self.report_categories),
        }

    def timezone_of(self, community_code: str | None, default: str = DEFAULT_TIMEZONE) -> str:
        """The time zone a community's dates are shown in (spec 00: "in the community's
        time zone"); ``default`` for county-wide matters and unknown codes."""
        community = next((c for c in self.communities if c.code == community_code), None)
        return default if community is None else community.timezone

    def compounds_of(self, community_code: str) -> list[Compound]:
        return [c for c in self.compounds if c.community_code == community_code]

    def buildings_of(self, compound_code: str) -> list[Building]:
        return [b for b in self.buildings if b.compound_code == compound_code]


@dataclass(frozen=True)
class SyncResult:
    """What a places sync changed: per kind, how many were written and how many retired."""

    written: dict[str, int]
    retired: dict[str, int]


async def sync_places(uow: UnitOfWork, places: Places, now: datetime) -> SyncResult:
    """Make the database's places match the configuration (run at every start-up).

    Places that config no longer lists are retired (``active`` false), never
    deleted: reports, ballots and audit records keep pointing at them.
    """
    async with uow:
        result = await uow.places.sync(places, now)
        await uow.commit()
    return result
