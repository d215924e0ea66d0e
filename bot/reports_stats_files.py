"""The files ``/stats`` sends: the chart (PNG), the CSV and the monthly XLSX (spec 02, Views).

Writers only: they receive texts already translated and numbers already
computed (:mod:`civic.reports_stats`, :mod:`handlers.reports_stats_views`), and
return bytes. Nothing here knows a catalog, a report or Telegram, so each file
is tested by opening it back (Pillow for the PNG, :mod:`csv`, openpyxl).

Why these libraries: matplotlib draws the chart and openpyxl writes the XLSX —
both long-maintained, widely used, and far safer than hand-written PNG or
Office Open XML writers. matplotlib is imported only when a chart is drawn
(importing it costs about a second), so the bot's start-up does not pay for it,
and it draws with the Agg backend through :class:`~matplotlib.figure.Figure`
directly — no display and no pyplot global state, so a chart can be drawn in a
worker thread (:func:`asyncio.to_thread`) while the bot keeps answering.

Chinese labels need a CJK font. :func:`cjk_font` looks for one matplotlib
knows (Noto Sans/Serif CJK from Debian's ``fonts-noto-cjk``, WenQuanYi,
Source Han, Droid Sans Fallback); without one the caller draws the chart with
its English labels instead, so it stays readable (the README names the package).
"""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Final

__all__ = ["Chart", "chart_png", "cjk_font", "csv_bytes", "xlsx_bytes"]

CJK_FONT_NAMES: Final = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans SC",
    "Noto Serif CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "AR PL UMing CN",
)
"""Fonts with Simplified Chinese glyphs, best first, as matplotlib names them."""

CJK_FILE_HINTS: Final = (
    "notosanscjk",
    "notoserifcjk",
    "sourcehansans",
    "wqy-",
    "droidsansfallback",
)
"""The same fonts by file name (``NotoSansCJK-Regular.ttc``, ``wqy-zenhei.ttc``)."""

Cell = str | int | float | None


@cache
def cjk_font() -> str | None:
    """The file of an installed CJK font matplotlib can use, or ``None`` (looked up once)."""
    from matplotlib import font_manager

    by_name = {entry.name: entry.fname for entry in font_manager.fontManager.ttflist}
    found = next((by_name[name] for name in CJK_FONT_NAMES if name in by_name), None)
    if found is not None:
        return found
    # matplotlib caches its font list: a font installed after the cache was built is
    # missing from it until the cache is deleted, so look at the files themselves too.
    files = sorted(font_manager.findSystemFonts())
    return next((path for hint in CJK_FILE_HINTS for path in files if hint in path.lower()), None)


@dataclass(frozen=True)
class Chart:
    """What the chart shows, translated: a title and two bar panels."""

    title: str
    categories_title: str
    states_title: str
    axis: str
    """The count axis' label ("reports")."""
    categories: Sequence[tuple[str, int]]
    states: Sequence[tuple[str, int]]
    font_file: str | None = None
    """A CJK font for Chinese labels; ``None``: matplotlib's default (Latin) font."""


def chart_png(chart: Chart) -> bytes:
    """Draw the counts by category and by state side by side as horizontal bars."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.ticker import MaxNLocator

    font = FontProperties(fname=chart.font_file) if chart.font_file else FontProperties()
    rows = max(len(chart.categories), len(chart.states), 1)
    figure = Figure(figsize=(10, 2.0 + 0.4 * rows), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(chart.title, fontproperties=font, fontsize=14)
    panels = figure.subplots(1, 2)
    for axes, title, bars, colour in (
        (panels[0], chart.categories_title, chart.categories, "#3b6ea5"),
        (panels[1], chart.states_title, chart.states, "#d08c2f"),
    ):
        names = [name for name, _ in bars][::-1]
        counts = [count for _, count in bars][::-1]
        positions = list(range(len(bars)))
        axes.barh(positions, counts, color=colour)
        axes.set_yticks(positions, names, fontproperties=font)
        axes.set_title(title, fontproperties=font)
        axes.set_xlabel(chart.axis, fontproperties=font)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        for position, count in zip(positions, counts, strict=True):
            axes.annotate(
                str(count), (count, position), xytext=(3, 0), textcoords="offset points",
                va="center",
            )  # fmt: skip
        axes.set_xlim(0, max([*counts, 1]) * 1.15)
    out = io.BytesIO()
    with warnings.catch_warnings():
        # Without a CJK font a missing glyph is drawn as a box: the caller already chose
        # labels the font has, and a stray character must not fail the whole chart.
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font")
        figure.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def csv_bytes(headers: Sequence[str], rows: Sequence[Sequence[Cell]]) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens Chinese text correctly; CRLF lines."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(["" if cell is None else cell for cell in row] for row in rows)
    return text.getvalue().encode("utf-8-sig")


@dataclass(frozen=True)
class Sheet:
    """One worksheet: a title, a header row (bold) and rows; blocks of rows follow it."""

    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[Cell]]
    blocks: Sequence[tuple[Sequence[str], Sequence[Sequence[Cell]]]] = ()
    """More tables below, each after a blank row: (header, rows)."""


def xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    """A workbook with one worksheet per :class:`Sheet`, headers bold, columns sized."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    bold = Font(bold=True)
    for sheet in sheets:
        worksheet = workbook.create_sheet(_sheet_title(sheet.title))
        tables = [(sheet.headers, sheet.rows), *sheet.blocks]
        widths: dict[int, int] = {}
        for number, (headers, rows) in enumerate(tables):
            if number:
                worksheet.append([])
            worksheet.append(list(headers))
            for cell in worksheet[worksheet.max_row]:
                cell.font = bold
            for row in rows:
                worksheet.append(list(row))
            for row in (headers, *rows):
                for column, value in enumerate(row, 1):
                    width = _display_width("" if value is None else str(value))
                    widths[column] = max(widths.get(column, 0), width)
        for column, width in widths.items():
            worksheet.column_dimensions[get_column_letter(column)].width = min(width + 2, 60)
        worksheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _sheet_title(title: str) -> str:
    """Excel's limits: 31 characters, none of ``[]:*?/\\``."""
    cleaned = "".join("_" if c in "[]:*?/\\" else c for c in title)
    return cleaned[:31] or "Sheet"


def _display_width(text: str) -> int:
    """Columns a text takes: CJK characters are twice as wide as Latin ones."""
    return sum(2 if ord(c) > 0x2E80 else 1 for c in text)
