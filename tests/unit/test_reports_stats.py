"""The monthly figures of civic.reports_stats, against tables computed by hand."""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from PIL import Image

from bot.config import load_config_file, places_from_config
from bot.i18n import Catalogs, Locale
from bot.reports_stats_files import chart_png, cjk_font, csv_bytes, xlsx_bytes
from civic.places import CategoryType
from civic.reports import (
    ActorRole,
    Feedback,
    Report,
    ReportAction,
    Reporter,
    ReportEvent,
    ReportState,
    TrackingNumber,
)
from civic.reports_routing import Assignee, AssigneeKind
from civic.reports_stats import (
    OnTime,
    Period,
    ReportHistory,
    ReportRow,
    ReportStats,
    StatsProblem,
    StatsRefusal,
    StatsRequest,
    community_stats,
    current_month,
    looks_like_month,
    median,
    month_period,
    on_time,
    parse_month,
    parse_stats_args,
    report_row,
    time_to_resolve,
)
from handlers.reports_stats_views import StatsPainter
from tests.helpers import SHIPPED_CONFIG

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
NOVEMBER = month_period(2026, 11, "Asia/Shanghai")
AFTER = datetime(2026, 12, 20, tzinfo=UTC)
H = timedelta(hours=1)


def a_report(
    seq: int = 1,
    *,
    created: datetime = T0,
    state: ReportState = ReportState.SUBMITTED,
    category: str = "garbage",
    accept_by: timedelta = 24 * H,
    resolve_by: timedelta = 120 * H,
    community: str = "HD",
    supports: int = 0,
) -> Report:
    return Report(
        community_code=community,
        compound_code="HD-02",
        category_code=category,
        category_type=CategoryType.COMPLAINT,
        description="x",
        reporter=Reporter(user_id=1),
        assignee=Assignee(AssigneeKind.GRID_WORKER, "HD-G1"),
        created_at=created,
        accept_by=created + accept_by,
        resolve_by=created + resolve_by,
        state=state,
        supports=supports,
        id=seq,
        number=TrackingNumber(community, 2026, seq),
    )


def event(
    report: Report, kind: ReportAction, after: timedelta, to: ReportState, n: int = 0
) -> ReportEvent:
    return ReportEvent(
        report.id or 0, kind, ActorRole.ASSIGNEE, report.created_at + after, to, id=n
    )


def history(
    report: Report,
    *steps: tuple[ReportAction, timedelta],
    feedback: tuple[tuple[bool, int | None], ...] = (),
) -> ReportHistory:
    """The report with events at the given offsets after filing; its state as given."""
    events = tuple(
        event(report, kind, after, report.state, n) for n, (kind, after) in enumerate(steps, 1)
    )
    answers = tuple(
        Feedback(report.id or 0, n, fixed, report.created_at + 200 * H + n * H, rating=rating)
        for n, (fixed, rating) in enumerate(feedback, 1)
    )
    return ReportHistory(report, events, answers)


A, P, R, J = ReportAction.ACCEPT, ReportAction.PROGRESS, ReportAction.RESOLVE, ReportAction.REJECT


# -- periods ------------------------------------------------------------------------------


def test_a_month_runs_from_local_midnight_on_the_first_to_the_next_first() -> None:
    assert NOVEMBER.start == datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
    assert NOVEMBER.end == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    december = month_period(2026, 12, "Asia/Shanghai")
    assert december.end == datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
    assert december.label == "2026-12"


def test_the_current_month_is_the_communitys_local_month() -> None:
    # 17:00 UTC on 30 November is 01:00 on 1 December in Shanghai.
    assert current_month(datetime(2026, 11, 30, 17, tzinfo=UTC), "Asia/Shanghai").label == "2026-12"


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("2026-11", (2026, 11)),
        ("2026-1", (2026, 1)),
        (" 2026-12 ", (2026, 12)),
        ("2026-13", None),
        ("2026-00", None),
        ("11-2026", None),
        ("HD", None),
    ],
)
def test_months_are_read_as_typed_and_impossible_ones_refused(
    text: str, parsed: tuple[int, int] | None
) -> None:
    assert parse_month(text) == parsed


def test_an_impossible_month_still_looks_like_a_month_so_it_is_refused_as_one() -> None:
    assert looks_like_month("2026-13")
    assert not looks_like_month("HD")


def test_a_period_refuses_naive_or_empty_bounds() -> None:
    with pytest.raises(ValueError, match="aware"):
        Period(datetime(2026, 11, 1), datetime(2026, 12, 1), "x")
    with pytest.raises(ValueError, match="ends after"):
        Period(T0, T0, "x")


# -- median -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        ([], None),
        ([5], 5),
        ([1, 3], 2),
        ([9, 1, 4], 4),
        ([10, 1, 2, 4], 3),  # 2 and 4 in the middle
        ([1, 2], 1.5),
    ],
)
def test_the_median_of_an_even_count_is_the_mean_of_the_middle_two(
    hours: list[float], expected: float | None
) -> None:
    found = median([h * H for h in hours])
    assert found == (None if expected is None else expected * H)


# -- on time --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "steps", "now_after", "expected"),
    [
        # accepted and resolved within the deadlines (24 h, 120 h)
        (ReportState.RESOLVED, [(A, 2 * H), (R, 50 * H)], 300 * H, OnTime.YES),
        # accepted late: late whatever follows
        (ReportState.RESOLVED, [(A, 25 * H), (R, 50 * H)], 300 * H, OnTime.LATE),
        # resolved late
        (ReportState.CLOSED, [(A, 2 * H), (R, 121 * H)], 300 * H, OnTime.LATE),
        # nothing yet, before the accept deadline: not due
        (ReportState.SUBMITTED, [], 10 * H, OnTime.NOT_DUE),
        # nothing yet, past the accept deadline: late already
        (ReportState.SUBMITTED, [], 25 * H, OnTime.LATE),
        # accepted in time, still being worked on before the resolve deadline: not due
        (ReportState.IN_PROGRESS, [(A, 2 * H), (P, 3 * H)], 100 * H, OnTime.NOT_DUE),
        # ... and after it: late
        (ReportState.IN_PROGRESS, [(A, 2 * H), (P, 3 * H)], 121 * H, OnTime.LATE),
        # rejected at intake in time: on time (nothing to resolve)
        (ReportState.REJECTED, [(J, 3 * H)], 300 * H, OnTime.YES),
        # rejected after the accept deadline: late
        (ReportState.REJECTED, [(J, 30 * H)], 300 * H, OnTime.LATE),
        # resolved in time, then reopened by "No", unresolved past the deadline: late
        (ReportState.REOPENED, [(A, 1 * H), (R, 5 * H), (ReportAction.REOPEN, 6 * H)], 200 * H,
         OnTime.LATE),
        # reassigned: the intake after the reassignment counts (accept_by restarted)
        (ReportState.RESOLVED, [(A, 1 * H), (ReportAction.REASSIGN, 3 * H), (A, 20 * H),
                                (R, 30 * H)], 300 * H, OnTime.YES),
    ],
)  # fmt: skip
def test_on_time_late_or_not_due(
    state: ReportState,
    steps: list[tuple[ReportAction, timedelta]],
    now_after: timedelta,
    expected: OnTime,
) -> None:
    report = a_report(state=state)
    assert on_time(history(report, *steps), T0 + now_after) is expected


@given(st.integers(min_value=-3600, max_value=3600))
def test_a_deadline_met_exactly_at_its_moment_is_met(seconds: int) -> None:
    """Civil Code Art. 203: the period ends at its moment, so at it is on time, after late."""
    report = a_report(state=ReportState.CLOSED)
    accepted = 24 * H + timedelta(seconds=seconds)
    found = on_time(history(report, (A, accepted), (R, 50 * H)), AFTER)
    assert found is (OnTime.YES if seconds <= 0 else OnTime.LATE)
    resolved = 120 * H + timedelta(seconds=seconds)
    found = on_time(history(report, (A, H), (R, resolved)), AFTER)
    assert found is (OnTime.YES if seconds <= 0 else OnTime.LATE)


@given(st.integers(min_value=-3600, max_value=3600))
def test_an_unanswered_report_is_late_only_after_its_deadline(seconds: int) -> None:
    report = a_report()
    now = report.accept_by + timedelta(seconds=seconds)
    assert on_time(history(report), now) is (OnTime.LATE if seconds > 0 else OnTime.NOT_DUE)


def test_time_to_resolve_counts_to_the_first_resolution_not_a_later_one() -> None:
    report = a_report(state=ReportState.CLOSED)
    steps = [(A, H), (R, 10 * H), (ReportAction.REOPEN, 11 * H), (A, 12 * H), (R, 40 * H)]
    assert time_to_resolve(history(report, *steps)) == 10 * H
    assert time_to_resolve(history(a_report())) is None


# -- a community's figures ----------------------------------------------------------------


def november_histories() -> list[ReportHistory]:
    """Five HD reports of November, one of October, one of another community.

    ====  ========  ===========  ===================  ==========  ========  =========
    seq   category  state        events (hours)       on time     resolved  feedback
    ====  ========  ===========  ===================  ==========  ========  =========
    1     garbage   closed       A 2, R 10            yes         10 h      yes, 5
    2     garbage   closed       A 30, R 40           late        40 h      yes, 3
    3     noise     reopened     A 1, R 20, No 21     late (now)  20 h      no, 2
    4     noise     rejected     J 5                  yes         —         —
    5     garbage   submitted    —                    not due     —         —
    ====  ========  ===========  ===================  ==========  ========  =========

    Now is 5 days + 1 h after #3 was filed, so #3's resolve deadline (120 h) passed.
    """
    day = timedelta(days=1)
    r1 = a_report(1, state=ReportState.CLOSED, supports=2)
    r2 = a_report(2, created=T0 + day, state=ReportState.CLOSED)
    r3 = a_report(3, created=T0 + 2 * day, state=ReportState.REOPENED, category="noise")
    r4 = a_report(4, created=T0 + 3 * day, state=ReportState.REJECTED, category="noise")
    r5 = a_report(5, created=T0 + 7 * day - 2 * H, supports=1)
    october = a_report(6, created=datetime(2026, 10, 31, 15, 59, tzinfo=UTC))
    other = a_report(7, community="CB")
    return [
        history(r1, (A, 2 * H), (R, 10 * H), feedback=((True, 5),)),
        history(r2, (A, 30 * H), (R, 40 * H), feedback=((True, 3),)),
        history(r3, (A, H), (R, 20 * H), (ReportAction.REOPEN, 21 * H), feedback=((False, 2),)),
        history(r4, (J, 5 * H)),
        history(r5),
        history(october, (A, H)),
        history(other, (A, H), (R, 2 * H), feedback=((False, 1),)),
    ]


NOW = T0 + timedelta(days=7)  # #3 filed at T0 + 2 days: 120 h passed at T0 + 7 days


def test_a_communitys_month_in_figures() -> None:
    stats = community_stats("HD", november_histories(), NOVEMBER, NOW + H)

    assert stats.total == 5
    assert stats.by_category == {"garbage": 3, "noise": 2}
    assert stats.by_state == {
        ReportState.CLOSED: 2,
        ReportState.REOPENED: 1,
        ReportState.REJECTED: 1,
        ReportState.SUBMITTED: 1,
    }
    assert stats.resolved_count == 3
    assert stats.median_time_to_resolve == 20 * H  # 10, 20, 40
    assert stats.median_hours == 20
    assert (stats.on_time_count, stats.due_count) == (2, 4)  # #5 not due
    assert stats.on_time_rate == Fraction(1, 2)
    assert stats.average_rating == Fraction(10, 3)
    assert stats.satisfaction == Fraction(2, 3)
    assert stats.supports == 3


def test_a_month_without_reports_has_no_figures_rather_than_zeroes() -> None:
    stats = community_stats("HD", november_histories(), month_period(2026, 9, "Asia/Shanghai"), NOW)

    assert stats.total == 0
    assert stats.by_category == {}
    assert stats.median_time_to_resolve is None
    assert stats.median_hours is None
    assert stats.on_time_rate is None
    assert stats.average_rating is None
    assert stats.satisfaction is None


def test_an_even_number_of_resolutions_gives_the_mean_of_the_middle_two() -> None:
    histories = [
        history(a_report(n, state=ReportState.CLOSED), (A, H), (R, hours * H))
        for n, hours in enumerate([3, 7, 1, 10], 1)
    ]
    stats = community_stats("HD", histories, NOVEMBER, AFTER)
    assert stats.median_hours == 5  # (3 + 7) / 2


def test_a_median_of_minutes_stays_exact_in_hours() -> None:
    histories = [
        history(a_report(1, state=ReportState.CLOSED), (A, H), (R, timedelta(minutes=90))),
        history(a_report(2, state=ReportState.CLOSED), (A, H), (R, timedelta(minutes=100))),
    ]
    stats = community_stats("HD", histories, NOVEMBER, AFTER)
    assert stats.median_hours == Fraction(95, 60)


@given(st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=30))
def test_the_median_lies_between_the_smallest_and_the_largest(minutes: list[int]) -> None:
    found = median([timedelta(minutes=m) for m in minutes])
    assert found is not None
    assert timedelta(minutes=min(minutes)) <= found <= timedelta(minutes=max(minutes))


# -- rows --------------------------------------------------------------------------------


def test_a_row_lists_the_report_without_its_reporter() -> None:
    rows = [report_row(h, NOW + H) for h in november_histories()[:5]]

    first = rows[0]
    assert first.number == "HD-2026-0001"
    assert (first.category_code, first.compound_code, first.state) == (
        "garbage",
        "HD-02",
        ReportState.CLOSED,
    )
    assert (first.submitted, first.accepted, first.resolved) == (T0, T0 + 2 * H, T0 + 10 * H)
    assert (first.on_time, first.rating) == (OnTime.YES, 5)
    assert [r.on_time for r in rows] == [
        OnTime.YES,
        OnTime.LATE,
        OnTime.LATE,
        OnTime.YES,
        OnTime.NOT_DUE,
    ]
    assert rows[3].accepted is None  # rejected, never accepted
    assert not hasattr(first, "reporter")


def test_a_row_shows_the_latest_rating() -> None:
    report = a_report(state=ReportState.CLOSED)
    found = report_row(history(report, (A, H), (R, 2 * H), feedback=((False, 1), (True, 4))), NOW)
    assert found.rating == 4
    assert report_row(replace(history(report), feedback=()), NOW).rating is None


# -- /stats [COMMUNITY] [YYYY-MM] ---------------------------------------------------------

CODES = ("HD", "CB")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), StatsRequest()),
        (("hd",), StatsRequest("HD")),
        (("HD", "2026-10"), StatsRequest("HD", (2026, 10))),
        (("2026-10", "CB"), StatsRequest("CB", (2026, 10))),
        (("2026-13",), StatsRefusal(StatsProblem.BAD_MONTH, "2026-13")),
        (("HD", "2026-00"), StatsRefusal(StatsProblem.BAD_MONTH, "2026-00")),
        (("XX",), StatsRefusal(StatsProblem.UNKNOWN_COMMUNITY, "XX")),
        (("HD", "CB"), StatsRefusal(StatsProblem.USAGE)),
        (("2026-10", "2026-11"), StatsRefusal(StatsProblem.USAGE)),
        (("HD", "2026-10", "x"), StatsRefusal(StatsProblem.USAGE)),
    ],
)
def test_stats_words_are_read_in_either_order_and_bad_ones_named(
    args: tuple[str, ...], expected: StatsRequest | StatsRefusal
) -> None:
    assert parse_stats_args(args, CODES) == expected


# -- what the reader sees: text, CSV, XLSX, chart ------------------------------------------

PLACES = places_from_config(load_config_file(SHIPPED_CONFIG))
CATALOGS = Catalogs.load(strict=True)


def painter(locale: Locale) -> StatsPainter:
    return StatsPainter(CATALOGS.for_locale(locale), PLACES)


def figures(now: datetime = NOW + H) -> tuple[ReportStats, list[ReportRow]]:
    histories = november_histories()
    return (
        community_stats("HD", histories, NOVEMBER, now),
        [report_row(h, now) for h in histories[:5]],
    )


def test_the_summary_names_categories_from_config_and_states_in_the_readers_language() -> None:
    stats, _ = figures()
    english = painter("en").summary(stats)
    assert "Reports filed: 5" in english
    garbage = next(c for c in PLACES.report_categories if c.code == "garbage")
    assert f"• {garbage.name_en}: 3" in english
    assert "• closed: 2" in english
    assert "Median time to resolve: 20.0 h (3 resolved)" in english
    assert "On time: 50% (2 of 4 due)" in english
    assert "Average rating: 3.3 / 5 (3 ratings)" in english
    assert "Fixed, say residents: 67% (2 of 3 answers)" in english
    chinese = painter("zh_CN").summary(stats)
    garbage = next(c for c in PLACES.report_categories if c.code == "garbage")
    assert f"• {garbage.name}：3" in chinese
    assert "办结用时中位数：20.0 小时（已办结 3 件）" in chinese


def test_a_month_without_reports_says_so_and_shows_no_zeroes() -> None:
    stats = community_stats("HD", [], NOVEMBER, NOW)
    text = painter("en").summary(stats)
    assert "No reports were filed in this month" in text
    assert "0%" not in text


def test_figures_without_data_say_no_data() -> None:
    histories = [history(a_report())]  # one report, nothing resolved, nothing due
    stats = community_stats("HD", histories, NOVEMBER, T0 + H)
    lines = painter("en").figures(stats)
    assert lines[:4] == [
        "Median time to resolve: no data",
        "On time: no data",
        "Average rating: no data",
        "Fixed, say residents: no data",
    ]


def test_the_csv_opens_in_excel_with_chinese_headers_and_no_reporter() -> None:
    _, rows = figures()
    view = painter("zh_CN")
    data = csv_bytes(view.headers(), view.rows(rows, "Asia/Shanghai"))

    assert data.startswith(codecs.BOM_UTF8)
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[0] == [
        "编号",
        "类别",
        "小区",
        "状态",
        "提交时间",
        "受理时间",
        "办结时间",
        "是否按时",
        "评分",
    ]
    garbage = next(c for c in PLACES.report_categories if c.code == "garbage")
    assert table[1][:2] == ["HD-2026-0001", garbage.name]
    assert table[1][3:] == ["已办结", "2026-11-02 09:00", "2026-11-02 11:00", "2026-11-02 19:00",
                            "按时", "5"]  # fmt: skip
    assert table[4][5] == ""  # rejected: never accepted
    assert table[5][7] == "未到期"
    assert len(table) == 6
    assert "777" not in data.decode("utf-8-sig")  # no reporter ids anywhere


def test_the_monthly_xlsx_has_a_summary_and_the_reports_in_the_readers_language() -> None:
    stats, rows = figures()
    data = xlsx_bytes(painter("en").workbook(stats, rows, "Asia/Shanghai"))

    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Summary", "Reports"]
    summary = [list(r) for r in book["Summary"].iter_rows(values_only=True)]
    assert summary[0] == ["Figure", "Value"]
    values = {r[0]: r[1] for r in summary[1:9]}
    assert values["Month"] == "2026-11"
    assert values["Reports filed"] == 5
    assert values["Median time to resolve (hours)"] == 20
    assert values["On time (share of reports due)"] == 0.5
    assert values["Average rating (1–5)"] == 3.33
    assert values["“Me too”s"] == 3
    assert ["Category", "Reports"] in summary
    assert ["State", "Reports"] in summary
    reports = [list(r) for r in book["Reports"].iter_rows(values_only=True)]
    assert reports[0] == ["Number", "Category", "Compound", "State", "Submitted", "Accepted",
                          "Resolved", "On time", "Rating"]  # fmt: skip
    assert [r[0] for r in reports[1:]] == [f"HD-2026-000{n}" for n in range(1, 6)]
    assert reports[1][7:] == ["on time", 5]


def test_an_empty_month_writes_no_data_rather_than_zero_in_the_xlsx() -> None:
    stats = community_stats("HD", [], NOVEMBER, NOW)
    book = load_workbook(io.BytesIO(xlsx_bytes(painter("zh_CN").workbook(stats, [], "UTC"))))
    assert book.sheetnames == ["汇总", "问题清单"]
    values = {r[0]: r[1] for r in book["汇总"].iter_rows(min_row=2, max_row=9, values_only=True)}
    assert values["办结用时中位数（小时）"] == "暂无数据"
    assert values["收到反映（件）"] == 0


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_the_chart_is_a_png_that_decodes(locale: Locale) -> None:
    stats, _ = figures()
    font = cjk_font() if locale == "zh_CN" else None
    data = chart_png(painter(locale).chart(stats, font))

    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data))
    image.verify()
    assert image.size[0] >= 800


def test_the_chart_lists_categories_most_first_and_states_in_lifecycle_order() -> None:
    stats, _ = figures()
    chart = painter("en").chart(stats, None)
    assert [count for _, count in chart.categories] == [3, 2]
    assert [name for name, _ in chart.states] == [
        "waiting to be accepted",
        "closed",
        "rejected",
        "reopened",
    ]
