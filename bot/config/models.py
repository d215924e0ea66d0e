"""The shape of ``config.toml``, as pydantic models.

Every model forbids unknown keys, so a misspelt key stops start-up instead of
being silently ignored (spec 01, Configuration). Checks that need more than one
value (codes that must exist, duplicates) live in :mod:`bot.config.references`,
where each problem can name the exact key it is about.
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from civic.household_codes import COUNTY_FAILURES
from civic.places import CategoryType

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,23}$")
"""Codes go into deep links (≤ 64 chars of ``[A-Za-z0-9_-]``) and tracking numbers."""

BOT_USERNAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]{1,28}[Bb][Oo][Tt]$")
"""Telegram usernames are 5-32 characters; a bot's ends in "bot"."""

BUILDING_LABEL_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{0,7}$")


def _check_code(value: str) -> str:
    if not CODE_PATTERN.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a valid code: use 1-24 ASCII letters, digits, '-' or '_', "
            "starting with a letter or digit (e.g. 'HD' or 'HD-01'); codes appear in "
            "deep links and tracking numbers"
        )
    return value


def _check_community_code(value: str) -> str:
    if value != value.upper():
        raise ValueError(
            f"{value!r} is not a valid community code: write it in capitals "
            f"({value.upper()!r}); it begins every tracking number (e.g. 'HD-2026-0042'), "
            "which residents may type in any case"
        )
    return value


def _check_building_label(value: str) -> str:
    if not BUILDING_LABEL_PATTERN.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a valid building label: use 1-8 ASCII letters, digits or '_' "
            "(e.g. '3' or '12A'); the building's code is the compound code, '-', the label"
        )
    return value


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{value!r} is not an IANA time zone: use a name such as 'Asia/Shanghai'"
        ) from None
    return value


def _check_hhmm(value: str) -> str:
    try:
        time.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{value!r} is not a time of day: write it as 'HH:MM', e.g. '19:30'"
        ) from None
    return value


def _check_bot_username(value: str) -> str:
    name = value.removeprefix("@")
    if not BOT_USERNAME_PATTERN.fullmatch(name):
        raise ValueError(
            f"{value!r} is not a bot's username: 5-32 ASCII letters, digits or '_', starting "
            "with a letter and ending in 'bot' (e.g. 'xieshang_bot'), as BotFather shows it"
        )
    return name


Code = Annotated[str, AfterValidator(_check_code)]
CommunityCode = Annotated[str, AfterValidator(_check_code), AfterValidator(_check_community_code)]
"""A community's code is in capitals: :meth:`civic.reports.TrackingNumber.parse` reads a
typed number in any case as capitals, so the code must match them as stored."""
BotUsername = Annotated[str, AfterValidator(_check_bot_username)]
BuildingLabel = Annotated[str, AfterValidator(_check_building_label)]
TimeZoneName = Annotated[str, AfterValidator(_check_timezone)]
HourMinute = Annotated[str, AfterValidator(_check_hhmm)]
Name = Annotated[str, Field(min_length=1, max_length=64)]
Language = Literal["zh_CN", "en"]
VerificationLevelName = Literal["unverified", "located", "verified"]


class Section(BaseModel):
    """Base of every table in the file: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class CountySection(Section):
    name: Name
    name_en: Name
    default_language: Language = "zh_CN"
    timezone: TimeZoneName = "Asia/Shanghai"


class StorageSection(Section):
    data_dir: str = "data"
    """Relative paths are taken from the folder of the configuration file."""
    database_url: str | None = None
    """Default: SQLite at ``<data_dir>/xieshang.sqlite3``. ``XIESHANG_DATABASE_URL`` overrides."""


class TelegramSection(Section):
    api_url: str = "https://api.telegram.org"
    updates_in_flight: int = Field(32, ge=1, le=256)
    """How many updates are processed at once, across users (telegram-facts: bound it)."""
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(8443, ge=1, le=65535)
    local_emulator_port: int = Field(8081, ge=0, le=65535)
    """Where local mode serves the emulator (0 picks a free port)."""
    webhook_max_connections: int = Field(40, ge=1, le=100)
    """How many webhook requests Telegram may have open at once (Bot API: 1-100, default 40)."""
    bot_username: BotUsername | None = None
    """The bot's @username, for deep links printed as QR codes (``xieshang qr``)."""


class SendingSection(Section):
    """Telegram's flood limits (Bot FAQ); the sender never goes above them."""

    global_per_second: float = Field(30.0, gt=0, le=1000)
    per_chat_per_second: float = Field(1.0, gt=0, le=30)
    per_chat_burst: int = Field(3, ge=1, le=30)
    per_group_per_minute: int = Field(20, ge=1, le=600)
    stuck_after_seconds: int = Field(600, ge=30, le=7 * 86400)
    """``health`` calls the outbox stuck when its oldest pending row waited longer than this."""


class FloodSection(Section):
    """Per-user flood control: more than ``messages`` in ``per_seconds`` is slowed down."""

    messages: int = Field(20, ge=1)
    per_seconds: float = Field(10.0, gt=0)


class SchedulerSection(Section):
    """The tick that runs due jobs (sessions, reminders, ballot closes): see ``scheduler``."""

    tick_seconds: float = Field(30.0, gt=0, le=3600)
    """How often the tick looks for due jobs; a job runs at most this late."""
    batch_size: int = Field(100, ge=1, le=10_000)
    """At most this many jobs per tick; the rest wait for the next one."""
    max_attempts: int = Field(5, ge=1, le=100)
    """A job whose handler keeps raising is retried (after 1, 2, 4, ... min) this often in all."""


class AdminsSection(Section):
    telegram_ids: list[int] = Field(default_factory=list)
    """The first admins; everyone else's roles live in the database."""


class ResidentsSection(Section):
    counted_level: VerificationLevelName = "located"
    """Minimum verification level whose co-signs, ratings and RSVPs count (spec 01)."""
    household_code_days: int = Field(30, ge=1, le=365)
    """Days a printed one-time household code stays valid (spec 01, 04: codes expire)."""
    household_code_wrong_per_hour: int = Field(COUNTY_FAILURES, ge=1, le=100_000)
    """Wrong household codes the whole county may type per hour; then those who guessed
    wrong this hour wait, so guessing spread over many accounts stays hopeless
    (:mod:`civic.household_codes`, whose default it is)."""


class ReportsSection(Section):
    description_max_chars: int = Field(2000, ge=50, le=4000)
    max_photos: int = Field(10, ge=0, le=10)
    duplicate_window_days: int = Field(14, ge=0, le=365)
    accept_working_days: int = Field(1, ge=0, le=60)
    resolve_working_days: int = Field(5, ge=1, le=250)
    confirm_fixed_days: int = Field(7, ge=1, le=60)
    """Unanswered "is it fixed?" questions close the report as resolved after this."""

    @model_validator(mode="after")
    def _accept_before_resolve(self) -> ReportsSection:
        """A report cannot be due for acceptance after it is due to be resolved."""
        if self.accept_working_days > self.resolve_working_days:
            raise ValueError(
                f"accept_working_days ({self.accept_working_days}) exceeds "
                f"resolve_working_days ({self.resolve_working_days}): make accept_working_days "
                "at most resolve_working_days"
            )
        return self


class TopicsSection(Section):
    cosign_threshold: int = Field(10, ge=1)
    held_words: list[str] = Field(default_factory=list)
    """Text containing one of these is held for review before it is public."""


class SessionsSection(Section):
    create_days_ahead: int = Field(14, ge=1, le=60)
    reminder_offsets_hours: list[int] = Field(default_factory=lambda: [48, 2])
    unclosed_reminder_days: int = Field(3, ge=1, le=30)


class BallotsSection(Section):
    """Defaults follow spec 04 (notice ≥ 15 days, window 5–60 days)."""

    notice_days: int = Field(15, ge=15, le=90)
    window_min_days: int = Field(5, ge=1)
    window_max_days: int = Field(60, ge=1)
    allow_vote_change: bool = True
    reminder_offsets_days: list[int] = Field(default_factory=lambda: [7, 2, 1])
    show_turnout: bool = False
    proxy_max_units: int = Field(3, ge=1)
    committee_size_min: int = Field(5, ge=3)
    committee_size_max: int = Field(11, ge=3)
    petition_area_percent: int = Field(20, ge=1, le=100)
    petition_headcount_percent: int = Field(20, ge=1, le=100)

    @model_validator(mode="after")
    def _ranges_are_ordered(self) -> BallotsSection:
        if self.window_min_days > self.window_max_days:
            raise ValueError("window_min_days must not exceed window_max_days")
        if self.committee_size_min > self.committee_size_max:
            raise ValueError("committee_size_min must not exceed committee_size_max")
        return self


class BroadcastsSection(Section):
    quiet_hours_start: HourMinute = "22:00"
    quiet_hours_end: HourMinute = "07:00"


class TownshipEntry(Section):
    code: Code
    name: Name
    name_en: Name


Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
SessionForm = Literal["forum", "hearing", "review"]


class SessionCadence(Section):
    """When a community meets: e.g. the 2nd and 4th Saturday at 19:30 (spec 03)."""

    weekday: Weekday
    weeks: list[Annotated[int, Field(ge=-1, le=4)]] = Field(min_length=1, max_length=2)
    """Which occurrences of the weekday in the month: 1-4, or -1 for the last one."""
    time: HourMinute
    on_holiday: Literal["move", "skip"] = "move"
    form: SessionForm = "forum"
    place: Name

    @model_validator(mode="after")
    def _weeks_are_distinct(self) -> SessionCadence:
        if 0 in self.weeks:
            raise ValueError("weeks counts from 1 (first) to 4, or -1 for the last; 0 is none")
        if len(set(self.weeks)) != len(self.weeks):
            raise ValueError("weeks lists the same week twice")
        return self


class CommunityEntry(Section):
    code: CommunityCode
    name: Name
    name_en: Name
    township: Code
    timezone: TimeZoneName | None = None
    """Default: the county's time zone."""
    sessions: SessionCadence | None = None


class CompoundEntry(Section):
    code: Code
    community: Code
    name: Name
    name_en: Name
    property_manager: Name | None = None
    """The property company's name; leave it out for a compound without one."""
    buildings: list[BuildingLabel] = Field(default_factory=list)


class GridEntry(Section):
    code: Code
    community: Code
    name: Name
    compounds: list[Code] = Field(min_length=1)


class DepartmentEntry(Section):
    code: Code
    name: Name
    name_en: Name
    categories: list[Code] = Field(default_factory=list)


class ReportCategoryEntry(Section):
    code: Code
    name: Name
    name_en: Name
    type: CategoryType
    accept_working_days: int | None = Field(None, ge=0, le=60)
    resolve_working_days: int | None = Field(None, ge=1, le=250)


AssigneeTarget = Annotated[
    str,
    Field(pattern=r"^(grid_worker|community|township|department:[A-Za-z0-9_-]+)$"),
]


class RoutingRule(Section):
    """One row of the routing table; the first matching row decides (spec 02, Routing)."""

    category: Code | Literal["*"] = "*"
    property_manager: bool | None = None
    """``true``: only compounds with one; ``false``: only without; absent: either."""
    assign_to: AssigneeTarget


class HolidayEntry(Section):
    """A holiday for a year that chinese-calendar has no official data for."""

    name: Name
    start: date
    end: date | None = None
    workdays: list[date] = Field(default_factory=list)
    """Adjusted working days (调休): weekend days that become working days."""

    @model_validator(mode="after")
    def _end_not_before_start(self) -> HolidayEntry:
        if self.end is not None and self.end < self.start:
            raise ValueError("end is before start")
        return self


class AppConfig(Section):
    """The whole of ``config.toml``."""

    county: CountySection
    storage: StorageSection = StorageSection()
    telegram: TelegramSection = TelegramSection()
    sending: SendingSection = SendingSection()
    flood: FloodSection = FloodSection()
    scheduler: SchedulerSection = SchedulerSection()
    admins: AdminsSection = AdminsSection()
    residents: ResidentsSection = ResidentsSection()
    reports: ReportsSection = ReportsSection()
    topics: TopicsSection = TopicsSection()
    sessions: SessionsSection = SessionsSection()
    ballots: BallotsSection = BallotsSection()
    broadcasts: BroadcastsSection = BroadcastsSection()
    townships: list[TownshipEntry] = Field(min_length=1)
    communities: list[CommunityEntry] = Field(min_length=1)
    compounds: list[CompoundEntry] = Field(default_factory=list)
    grids: list[GridEntry] = Field(default_factory=list)
    departments: list[DepartmentEntry] = Field(default_factory=list)
    report_categories: list[ReportCategoryEntry] = Field(min_length=1)
    routing: list[RoutingRule] = Field(default_factory=list)
    holidays: list[HolidayEntry] = Field(default_factory=list)

    @model_validator(mode="after")
    def _categories_accept_before_resolve(self) -> AppConfig:
        """Each category's periods, its own or the ``[reports]`` defaults, are in order.

        Checked here, not on the category, because a category that sets only one
        period takes the other from ``[reports]``.
        """
        for index, category in enumerate(self.report_categories):
            accept = category.accept_working_days
            resolve = category.resolve_working_days
            accept_days = self.reports.accept_working_days if accept is None else accept
            resolve_days = self.reports.resolve_working_days if resolve is None else resolve
            if accept_days > resolve_days:
                accept_from = "" if accept is not None else " from [reports]"
                resolve_from = "" if resolve is not None else " from [reports]"
                raise ValueError(
                    f'report_categories[{index}] (code "{category.code}"): '
                    f"accept_working_days ({accept_days}{accept_from}) exceeds "
                    f"resolve_working_days ({resolve_days}{resolve_from}): make "
                    "accept_working_days at most resolve_working_days"
                )
        return self
