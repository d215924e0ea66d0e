"""How ``/stats`` reads: the text summary, the chart's labels, the CSV and XLSX contents.

Everything a reader sees comes from the catalogs (``reports.stats.*``) in their
language, and category and community names from ``config.toml`` (``name`` or
``name_en``), never from the catalogs. Figures are rounded here, once: hours
to one decimal, shares to whole per cent, ratings to one decimal; a figure
without data says so ("no data") instead of showing 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from fractions import Fraction
from typing import Final
from zoneinfo import ZoneInfo

from bot.html import escape
from bot.i18n import N_, Translator
from bot.reports_stats_files import Cell, Chart, Sheet
from civic.places import Places
from civic.reports import ReportState
from civic.reports_stats import OnTime, ReportRow, ReportStats
from handlers.reports_names import category_name, state_name

ON_TIME_NAME: Final = {
    OnTime.YES: N_("reports.stats.timely.yes"),
    OnTime.LATE: N_("reports.stats.timely.late"),
    OnTime.NOT_DUE: N_("reports.stats.timely.not_due"),
}

COLUMNS: Final = (
    N_("reports.stats.column.number"),
    N_("reports.stats.column.category"),
    N_("reports.stats.column.compound"),
    N_("reports.stats.column.state"),
    N_("reports.stats.column.submitted"),
    N_("reports.stats.column.accepted"),
    N_("reports.stats.column.resolved"),
    N_("reports.stats.column.on_time"),
    N_("reports.stats.column.rating"),
)
"""The exports' columns, one row per report; never who reported it."""


def hours(value: Fraction) -> str:
    return f"{float(value):.1f}"


def percent(value: Fraction) -> str:
    return f"{round(float(value) * 100)}%"


def rating(value: Fraction) -> str:
    return f"{float(value):.1f}"


class StatsPainter:
    """Texts and file contents of one community's figures, in one reader's language."""

    def __init__(self, t: Translator, places: Places) -> None:
        self.t = t
        self.places = places
        self.english = t.locale == "en"

    # -- names ----------------------------------------------------------------------------

    def community(self, code: str) -> str:
        found = next((c for c in self.places.communities if c.code == code), None)
        if found is None:
            return code
        return found.name_en if self.english else found.name

    def category(self, code: str) -> str:
        return category_name(self.places, self.t.locale, code)

    def compound(self, code: str) -> str:
        found = next((c for c in self.places.compounds if c.code == code), None)
        if found is None:
            return code
        return found.name_en if self.english else found.name

    def state(self, state: ReportState) -> str:
        return state_name(self.t, state)

    def categories(self, stats: ReportStats) -> list[tuple[str, int]]:
        """Most reports first; ties in the config's order of categories."""
        order = {c.code: n for n, c in enumerate(self.places.report_categories)}
        codes = sorted(stats.by_category, key=lambda c: (-stats.by_category[c], order.get(c, 99)))
        return [(self.category(code), stats.by_category[code]) for code in codes]

    def states(self, stats: ReportStats) -> list[tuple[str, int]]:
        """In lifecycle order (the order of :class:`ReportState`)."""
        return [(self.state(s), stats.by_state[s]) for s in ReportState if s in stats.by_state]

    # -- the text summary -----------------------------------------------------------------

    def summary(self, stats: ReportStats) -> str:
        """The message ``/stats`` answers with (HTML)."""
        t = self.t
        title = t(
            "reports.stats.title",
            community=escape(self.community(stats.community_code)),
            month=stats.period.label,
        )
        if not stats.total:
            return "\n".join([title, "", t("reports.stats.none")])
        lines = [title, "", t("reports.stats.total", count=stats.total), ""]
        lines.append(t("reports.stats.by_category"))
        lines += [
            t("reports.stats.item", name=escape(name), count=count)
            for name, count in self.categories(stats)
        ]
        lines += ["", t("reports.stats.by_state")]
        lines += [
            t("reports.stats.item", name=escape(name), count=count)
            for name, count in self.states(stats)
        ]
        lines += ["", *self.figures(stats)]
        return "\n".join(lines)

    def figures(self, stats: ReportStats) -> list[str]:
        t = self.t
        no_data = t("reports.stats.no_data")
        median = stats.median_hours
        on_time = stats.on_time_rate
        average = stats.average_rating
        fixed = stats.satisfaction
        return [
            t(
                "reports.stats.median",
                value=no_data
                if median is None
                else t(
                    "reports.stats.median_value", hours=hours(median), count=stats.resolved_count
                ),
            ),
            t(
                "reports.stats.on_time",
                value=no_data
                if on_time is None
                else t(
                    "reports.stats.on_time_value",
                    percent=percent(on_time),
                    on_time=stats.on_time_count,
                    due=stats.due_count,
                ),
            ),
            t(
                "reports.stats.rating",
                value=no_data
                if average is None
                else t(
                    "reports.stats.rating_value", rating=rating(average), count=stats.rating_count
                ),
            ),
            t(
                "reports.stats.satisfaction",
                value=no_data
                if fixed is None
                else t(
                    "reports.stats.satisfaction_value",
                    percent=percent(fixed),
                    yes=stats.fixed_yes,
                    answers=stats.answers,
                ),
            ),
            t("reports.stats.supports", count=stats.supports),
        ]

    # -- the chart ------------------------------------------------------------------------

    def chart(self, stats: ReportStats, font_file: str | None) -> Chart:
        return Chart(
            title=self.t(
                "reports.stats.chart.title",
                community=self.community(stats.community_code),
                month=stats.period.label,
            ),
            categories_title=self.t("reports.stats.chart.by_category"),
            states_title=self.t("reports.stats.chart.by_state"),
            axis=self.t("reports.stats.chart.axis"),
            categories=self.categories(stats),
            states=self.states(stats),
            font_file=font_file,
        )

    # -- the exports ----------------------------------------------------------------------

    def headers(self) -> list[str]:
        return [self.t(column) for column in COLUMNS]

    def rows(self, rows: Sequence[ReportRow], timezone: str) -> list[list[Cell]]:
        """One line per report, times in the community's zone (``2026-11-03 14:05``)."""
        zone = ZoneInfo(timezone)

        def when(moment: datetime | None) -> str:
            return "" if moment is None else moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")

        return [
            [
                row.number,
                self.category(row.category_code),
                self.compound(row.compound_code),
                self.state(row.state),
                when(row.submitted),
                when(row.accepted),
                when(row.resolved),
                self.t(ON_TIME_NAME[row.on_time]),
                row.rating,
            ]
            for row in rows
        ]

    def workbook(self, stats: ReportStats, rows: Sequence[ReportRow], timezone: str) -> list[Sheet]:
        """The monthly XLSX: a summary sheet (figures, then counts) and a reports sheet."""
        t = self.t

        def exact(value: Fraction | None, digits: int) -> Cell:
            return None if value is None else round(float(value), digits)

        figures: list[list[Cell]] = [
            [t("reports.stats.label.community"), self.community(stats.community_code)],
            [t("reports.stats.label.month"), stats.period.label],
            [t("reports.stats.label.total"), stats.total],
            [t("reports.stats.label.median_hours"), exact(stats.median_hours, 1)],
            [t("reports.stats.label.on_time_rate"), exact(stats.on_time_rate, 3)],
            [t("reports.stats.label.average_rating"), exact(stats.average_rating, 2)],
            [t("reports.stats.label.satisfaction"), exact(stats.satisfaction, 3)],
            [t("reports.stats.label.supports"), stats.supports],
        ]
        no_data = t("reports.stats.no_data")
        figures = [[label, no_data if value is None else value] for label, value in figures]
        count = t("reports.stats.label.count")
        return [
            Sheet(
                t("reports.stats.sheet.summary"),
                [t("reports.stats.label.figure"), t("reports.stats.label.value")],
                figures,
                blocks=(
                    (
                        [t("reports.stats.label.category"), count],
                        [list(pair) for pair in self.categories(stats)],
                    ),
                    (
                        [t("reports.stats.label.state"), count],
                        [list(pair) for pair in self.states(stats)],
                    ),
                ),
            ),
            Sheet(t("reports.stats.sheet.reports"), self.headers(), self.rows(rows, timezone)),
        ]
