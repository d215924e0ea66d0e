"""The monthly report to the townships (civic.reports_monthly): when, to whom, exactly once.

The use case runs against hand-written fakes of the repositories it touches;
the same flow on SQLite and PostgreSQL is tests/contract/test_reports_monthly.py.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from bot.config import load_config_file, places_from_config
from bot.config.reports import working_calendar_from_config
from bot.i18n import Catalogs
from civic.outbox import (
    MAX_INLINE_FILE_BYTES,
    BadInlineFile,
    MessageKind,
    OutgoingMessage,
    inline_file,
    read_inline_file,
)
from civic.places import Community
from civic.reports_monthly import (
    MAX_LATE_MONTHS,
    MONTHLY_KIND,
    Month,
    MonthlyDocument,
    document_key,
    due_at,
    ensure_monthly_job,
    month_being_reported,
    months_due,
    recipients,
    send_monthly_reports,
)
from civic.reports_stats import MonthFigures, ReportHistory
from civic.roles import Grant, Role, Scope, ScopeKind
from handlers.reports_monthly import MonthlyDocuments
from tests.helpers import SHIPPED_CONFIG

SHANGHAI = "Asia/Shanghai"
ZONE = ZoneInfo(SHANGHAI)
CONFIG = load_config_file(SHIPPED_CONFIG)
PLACES = places_from_config(CONFIG)
CALENDAR = working_calendar_from_config(CONFIG)
CATALOGS = Catalogs.load(strict=True)
HD = next(c for c in PLACES.communities if c.code == "HD")
ELSEWHERE = Community("ZZ", "别处社区", "Elsewhere", "OTHER", SHANGHAI)


def local(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=ZONE)


# -- when ---------------------------------------------------------------------------------


def test_a_months_report_is_due_at_nine_on_the_first_working_day_of_the_next_month() -> None:
    assert due_at(Month(2026, 11), SHANGHAI, CALENDAR) == local(2026, 12, 1, 9)  # a Tuesday
    assert due_at(Month(2026, 11), SHANGHAI, CALENDAR).astimezone(UTC) == datetime(
        2026, 12, 1, 1, tzinfo=UTC
    )
    # New Year's Day 2027 (config.toml's [[holidays]]), then a weekend: Monday the 4th
    assert due_at(Month(2026, 12), SHANGHAI, CALENDAR) == local(2027, 1, 4, 9)
    # 1 March 2026 is a Sunday
    assert due_at(Month(2026, 2), SHANGHAI, CALENDAR) == local(2026, 3, 2, 9)
    # the National Day holiday of 2026 (official data)
    assert due_at(Month(2026, 9), SHANGHAI, CALENDAR) == local(2026, 10, 8, 9)
    # an adjusted working day (Sunday 4 January 2026) counts as the first working day
    assert due_at(Month(2025, 12), SHANGHAI, CALENDAR) == local(2026, 1, 4, 9)


@pytest.mark.parametrize(
    ("now", "reported"),
    [
        (local(2026, 11, 25, 12), Month(2026, 11)),
        (local(2026, 12, 1, 8, 59), Month(2026, 11)),  # the 1st before nine: last month's
        (local(2026, 12, 1, 9), Month(2026, 12)),  # at nine it is due: now this month's
        (local(2027, 1, 1, 10), Month(2026, 12)),  # New Year's Day: not due yet
        (local(2027, 1, 4, 8, 59), Month(2026, 12)),
        (local(2027, 1, 4, 9), Month(2027, 1)),
    ],
)
def test_the_month_being_reported_turns_over_at_nine_on_the_first_working_day(
    now: datetime, reported: Month
) -> None:
    assert month_being_reported(now, SHANGHAI, CALENDAR) == reported


@given(
    st.datetimes(
        min_value=datetime(2001, 1, 1), max_value=datetime(2098, 12, 1), timezones=st.just(UTC)
    )
)
def test_now_always_lies_between_the_last_due_report_and_the_next(now: datetime) -> None:
    month = month_being_reported(now, SHANGHAI, CALENDAR)
    assert due_at(month.previous(), SHANGHAI, CALENDAR) <= now < due_at(month, SHANGHAI, CALENDAR)
    assert due_at(month, SHANGHAI, CALENDAR).hour == 9
    assert CALENDAR.is_working_day(due_at(month, SHANGHAI, CALENDAR).date())


@given(st.integers(2001, 2098), st.integers(1, 12))
def test_next_and_previous_months_are_inverse_and_ordered(year: int, number: int) -> None:
    month = Month(year, number)
    assert month.next().previous() == month == month.previous().next()
    assert month.previous() < month < month.next()
    assert Month.parse(month.label) == month


def test_a_bad_job_key_is_refused() -> None:
    for label in ("2026-13", "november", "2026-00"):
        with pytest.raises(ValueError, match="not a month"):
            Month.parse(label)


def months_due_at(first: Month, now: datetime) -> list[Month]:
    return months_due(first, due_at(first, SHANGHAI, CALENDAR), now, SHANGHAI, CALENDAR)


def test_months_due_are_the_jobs_month_and_every_later_one_that_fell_due() -> None:
    november = Month(2026, 11)
    assert months_due_at(november, local(2026, 12, 1, 9)) == [november]
    assert months_due_at(november, local(2027, 2, 15)) == [
        november,
        Month(2026, 12),
        Month(2027, 1),
    ]
    assert months_due_at(november, local(2027, 1, 2)) == [november]  # December's: the 4th
    assert months_due_at(november, local(2026, 11, 30)) == []  # not due yet


def test_the_jobs_own_month_is_due_from_its_stored_due_at_whatever_the_zone_says_now() -> None:
    # scheduled for 09:00 Shanghai; the county's zone since changed to one still in November
    stored = due_at(Month(2026, 11), SHANGHAI, CALENDAR)
    now = stored + timedelta(seconds=30)
    los_angeles = "America/Los_Angeles"
    assert months_due(Month(2026, 11), stored, now, los_angeles, CALENDAR) == [Month(2026, 11)]


# -- to whom ------------------------------------------------------------------------------


def admin(user_id: int, kind: ScopeKind, code: str) -> Grant:
    return Grant(user_id, Role.ADMIN, Scope(kind, code))


def test_the_townships_admins_receive_it_not_other_townships_nor_the_county() -> None:
    grants = [
        admin(30, ScopeKind.TOWNSHIP, "YK"),
        admin(10, ScopeKind.TOWNSHIP, "YK"),
        admin(20, ScopeKind.TOWNSHIP, "OTHER"),
        admin(40, ScopeKind.COUNTY, "*"),
        Grant(50, Role.STAFF, Scope(ScopeKind.COMMUNITY, "HD"), community_code="HD"),
    ]
    assert recipients(grants, HD) == (10, 30)
    assert recipients(grants, ELSEWHERE) == (20,)


def test_without_a_township_admin_the_county_admins_receive_it() -> None:
    grants = [admin(40, ScopeKind.COUNTY, "*"), admin(20, ScopeKind.TOWNSHIP, "OTHER")]
    assert recipients(grants, HD) == (40,)
    assert recipients([], HD) == ()


# -- the file in the row --------------------------------------------------------------------


def test_an_inline_file_survives_json_and_comes_back_whole() -> None:
    import json

    data = bytes(range(256)) * 10
    carried = json.loads(json.dumps({"document": inline_file(data, "reports-HD-2026-11.xlsx")}))
    assert read_inline_file(carried["document"]) == (data, "reports-HD-2026-11.xlsx")


def test_a_file_id_or_url_is_not_an_inline_file() -> None:
    assert read_inline_file("BQACAgIAAxkBAAI") is None
    assert read_inline_file(None) is None


def test_a_broken_inline_file_is_refused_for_good() -> None:
    with pytest.raises(BadInlineFile):
        read_inline_file({"base64": "not base64!", "filename": "x.xlsx"})
    with pytest.raises(BadInlineFile):
        read_inline_file({"base64": "AAAA"})


def test_an_inline_file_is_small_and_plainly_named() -> None:
    with pytest.raises(ValueError, match="at most"):
        inline_file(b"x" * (MAX_INLINE_FILE_BYTES + 1), "big.xlsx")
    with pytest.raises(ValueError, match="file name"):
        inline_file(b"x", "../x.xlsx")


# -- the use case, with fakes ---------------------------------------------------------------


@dataclass
class FakeDueJobs:
    scheduled: dict[tuple[str, str], datetime] = field(default_factory=dict)
    done: set[tuple[str, str]] = field(default_factory=set)

    async def schedule(
        self,
        kind: str,
        key: str,
        due_at: datetime,
        now: datetime,
        *,
        stale_after: datetime | None = None,
        payload: Mapping[str, Any] | None = None,
    ) -> bool:
        if (kind, key) in self.done:
            return False
        self.scheduled[(kind, key)] = due_at
        return True


@dataclass
class FakeRoles:
    grants: list[Grant]

    async def holders(self, role: Role) -> list[Grant]:
        return [g for g in self.grants if g.role is role]


@dataclass
class FakeResidents:
    languages: dict[int, str]

    async def language_of(self, user_id: int) -> str | None:
        return self.languages.get(user_id)


class FakeReports:
    def __init__(self) -> None:
        self.reads: list[tuple[str, datetime]] = []

    async def in_period(
        self, community_code: str, start: datetime, end: datetime
    ) -> list[ReportHistory]:
        self.reads.append((community_code, start))
        return []


@dataclass
class FakeOutbox:
    rows: dict[str, OutgoingMessage] = field(default_factory=dict)

    async def enqueue(self, messages: Sequence[OutgoingMessage], now: datetime) -> None:
        for message in messages:
            assert message.dedupe_key is not None
            self.rows.setdefault(message.dedupe_key, message)


class FakeUow:
    def __init__(self, grants: list[Grant], languages: dict[int, str] | None = None) -> None:
        self.due_jobs = FakeDueJobs()
        self.roles = FakeRoles(grants)
        self.residents = FakeResidents(languages or {})
        self.reports = FakeReports()
        self.outbox = FakeOutbox()


class Files:
    """Renders a stand-in document and counts the renderings; fails or grows where told."""

    def __init__(self, *, broken: str = "", large: str = "") -> None:
        self.rendered: list[tuple[str, str, str | None]] = []
        self.broken = broken
        self.large = large

    async def document(
        self, figures: MonthFigures, community: Community, language: str | None
    ) -> MonthlyDocument:
        label = figures.stats.period.label
        if community.code == self.broken:
            raise RuntimeError("the workbook could not be drawn")
        self.rendered.append((community.code, label, language))
        data = b"x" * (MAX_INLINE_FILE_BYTES + 1) if community.code == self.large else b"xlsx"
        return MonthlyDocument(
            data, f"{community.code}-{label}.xlsx", f"{language}", f"too large {language}"
        )


async def run(
    uow: FakeUow,
    files: Files,
    key: str,
    now: datetime,
    *,
    job_due_at: datetime | None = None,
    timezone: str = SHANGHAI,
) -> Any:
    month = Month.parse(key)
    return await send_monthly_reports(
        uow,  # type: ignore[arg-type]
        key,
        now,
        job_due_at=job_due_at or due_at(month, SHANGHAI, CALENDAR),
        timezone=timezone,
        calendar=CALENDAR,
        places=PLACES,
        files=files,
    )


async def test_each_community_is_sent_once_to_each_township_admin_in_their_language() -> None:
    uow = FakeUow(
        [admin(1, ScopeKind.TOWNSHIP, "YK"), admin(2, ScopeKind.TOWNSHIP, "YK")], {1: "en"}
    )
    files = Files()

    outcome = await run(uow, files, "2026-11", local(2026, 12, 1, 9, 0, 30))

    communities = [c.code for c in PLACES.communities]
    assert outcome.months == (Month(2026, 11),)
    assert outcome.queued == 2 * len(communities)
    assert set(uow.outbox.rows) == {
        document_key(Month(2026, 11), code, chat) for code in communities for chat in (1, 2)
    }
    hd_to_1 = uow.outbox.rows[document_key(Month(2026, 11), "HD", 1)]
    assert hd_to_1.chat_id == 1
    assert hd_to_1.kind is MessageKind.DOCUMENT
    assert hd_to_1.payload["caption"] == "en"
    assert read_inline_file(hd_to_1.payload["document"]) == (b"xlsx", "HD-2026-11.xlsx")
    assert uow.outbox.rows[document_key(Month(2026, 11), "HD", 2)].payload["caption"] == "None"
    # one rendering per community and language, not per person
    assert len(files.rendered) == 2 * len(communities)
    assert set(files.rendered) == {
        (code, "2026-11", language) for code in communities for language in ("en", None)
    }
    # the month read is the community's calendar month, as /stats reads it
    assert ("HD", local(2026, 11, 1).astimezone(UTC)) in uow.reports.reads


async def test_the_job_schedules_the_next_two_months_jobs_on_their_first_working_days() -> None:
    uow = FakeUow([admin(1, ScopeKind.TOWNSHIP, "YK")])

    outcome = await run(uow, Files(), "2026-12", local(2027, 1, 4, 9, 0, 5))

    assert outcome.next_month == Month(2027, 1)
    # two ahead: if January's run fails for good, February's job still exists
    assert uow.due_jobs.scheduled == {
        (MONTHLY_KIND, "2027-01"): local(2027, 2, 1, 9),
        (MONTHLY_KIND, "2027-02"): local(2027, 3, 1, 9),
    }


async def test_a_run_in_a_changed_time_zone_still_sends_its_month_and_schedules_the_next() -> None:
    uow = FakeUow([admin(1, ScopeKind.TOWNSHIP, "YK")])
    stored = due_at(Month(2026, 11), SHANGHAI, CALENDAR)  # 01:00 UTC: still 30 Nov in LA

    outcome = await run(
        uow,
        Files(),
        "2026-11",
        stored + timedelta(seconds=30),
        job_due_at=stored,
        timezone="America/Los_Angeles",
    )

    assert outcome.months == (Month(2026, 11),)
    assert outcome.next_month == Month(2026, 12)
    assert {key for _, key in uow.due_jobs.scheduled} == {"2026-12", "2027-01"}


async def test_one_communitys_broken_workbook_is_skipped_and_the_others_are_sent() -> None:
    uow = FakeUow([admin(1, ScopeKind.TOWNSHIP, "YK")])

    outcome = await run(uow, Files(broken="HD"), "2026-11", local(2026, 12, 1, 9, 0, 30))

    others = {c.code for c in PLACES.communities} - {"HD"}
    assert outcome.failed == ((Month(2026, 11), "HD"),)
    assert set(uow.outbox.rows) == {document_key(Month(2026, 11), code, 1) for code in others}
    assert outcome.queued == len(others)
    assert {key for _, key in uow.due_jobs.scheduled} == {"2026-12", "2027-01"}


async def test_a_workbook_too_large_for_a_row_goes_as_its_caption_and_the_stats_hint() -> None:
    uow = FakeUow([admin(1, ScopeKind.TOWNSHIP, "YK")], {1: "en"})

    outcome = await run(uow, Files(large="HD"), "2026-11", local(2026, 12, 1, 9, 0, 30))

    hd = uow.outbox.rows[document_key(Month(2026, 11), "HD", 1)]
    assert hd.kind is MessageKind.TEXT
    assert hd.payload == {"text": "too large en"}
    assert outcome.too_large == ((Month(2026, 11), "HD"),)
    cb = uow.outbox.rows[document_key(Month(2026, 11), "CB", 1)]
    assert cb.kind is MessageKind.DOCUMENT


async def test_a_late_job_sends_every_month_that_fell_due_and_schedules_the_current_one() -> None:
    uow = FakeUow([admin(1, ScopeKind.TOWNSHIP, "YK")])

    outcome = await run(uow, Files(), "2026-11", local(2027, 2, 15))

    assert outcome.months == (Month(2026, 11), Month(2026, 12), Month(2027, 1))
    assert outcome.too_late == ()
    assert {key.split(":")[1] for key in uow.outbox.rows} == {"2026-11", "2026-12", "2027-01"}
    assert uow.due_jobs.scheduled == {
        (MONTHLY_KIND, "2027-02"): local(2027, 3, 1, 9),
        (MONTHLY_KIND, "2027-03"): local(2027, 4, 1, 9),
    }
    # a month's files together, the oldest month first
    months = [m.dedupe_key.split(":")[1] for m in uow.outbox.rows.values() if m.dedupe_key]
    assert months == sorted(months)


async def test_after_a_long_outage_only_the_latest_months_are_sent() -> None:
    uow = FakeUow([admin(1, ScopeKind.TOWNSHIP, "YK")])

    outcome = await run(uow, Files(), "2026-01", local(2026, 11, 20))

    assert len(outcome.months) == MAX_LATE_MONTHS
    assert outcome.months[-1] == Month(2026, 10)
    assert outcome.too_late == (Month(2026, 1), Month(2026, 2), Month(2026, 3), Month(2026, 4))


async def test_a_month_reached_by_two_jobs_is_queued_once() -> None:
    uow = FakeUow([admin(1, ScopeKind.TOWNSHIP, "YK")])
    late = await run(uow, Files(), "2026-11", local(2027, 1, 5))  # catches December up
    queued = dict(uow.outbox.rows)
    december = await run(uow, Files(), "2026-12", local(2027, 1, 5))  # December's own job

    assert late.months == (Month(2026, 11), Month(2026, 12))
    assert december.months == (Month(2026, 12),)
    assert uow.outbox.rows == queued


async def test_a_community_nobody_receives_is_said_and_skipped() -> None:
    uow = FakeUow([])
    outcome = await run(uow, Files(), "2026-11", local(2026, 12, 1, 9))
    assert set(outcome.unreceived) == {c.code for c in PLACES.communities}
    assert uow.outbox.rows == {}
    assert (MONTHLY_KIND, "2026-12") in uow.due_jobs.scheduled  # the chain goes on


async def test_start_up_schedules_the_month_being_reported_and_the_next() -> None:
    uow = FakeUow([])
    month = await ensure_monthly_job(
        uow,  # type: ignore[arg-type]
        local(2026, 12, 1, 8),
        SHANGHAI,
        CALENDAR,
    )
    assert month == Month(2026, 11)
    assert uow.due_jobs.scheduled == {
        (MONTHLY_KIND, "2026-11"): local(2026, 12, 1, 9),
        (MONTHLY_KIND, "2026-12"): local(2027, 1, 4, 9),
    }


# -- the rendered document ------------------------------------------------------------------


async def test_the_document_is_the_stats_workbook_with_a_caption_in_the_readers_language() -> None:
    from civic.reports_stats import community_stats, month_period

    period = month_period(2026, 11, SHANGHAI)
    figures = MonthFigures(community_stats("HD", [], period, local(2026, 12, 1, 9)), ())
    documents = MonthlyDocuments(CATALOGS, PLACES)

    english = await documents.document(figures, HD, "en")
    chinese = await documents.document(figures, HD, None)

    assert english.filename == chinese.filename == "reports-HD-2026-11.xlsx"
    assert english.caption == (
        "Monthly report of Hedong Community, 2026-11 (sent automatically). Reports filed: 0; "
        "resolved: 0; on time: no data; average rating: no data."
    )
    assert english.too_large == (
        english.caption + "\n\nThe workbook is too large to send here. "
        "Get it with /stats HD 2026-11 and its XLSX button."
    )
    assert chinese.too_large.startswith(chinese.caption)
    assert "/stats HD 2026-11" in chinese.too_large
    assert chinese.caption.startswith("河东社区 · 2026-11 问题反映月报")
    assert "暂无数据" in chinese.caption
    sheets = load_workbook(io.BytesIO(english.data)).sheetnames
    assert sheets == ["Summary", "Reports"]
    assert load_workbook(io.BytesIO(chinese.data)).sheetnames[0] != "Summary"


def test_dedupe_keys_fit_the_outbox_column() -> None:
    longest = "X" * 24
    assert len(document_key(Month(2026, 11), longest, 9_999_999_999_999)) <= 160


async def test_the_english_caption_has_no_plural_to_get_wrong() -> None:
    from dataclasses import replace

    from civic.reports_stats import community_stats, month_period

    stats = community_stats("HD", [], month_period(2026, 11, SHANGHAI), local(2026, 12, 1, 9))
    figures = MonthFigures(replace(stats, total=1, resolved_count=1), ())

    english = await MonthlyDocuments(CATALOGS, PLACES).document(figures, HD, "en")

    assert "Reports filed: 1; resolved: 1;" in english.caption
    assert "reports filed" not in english.caption
