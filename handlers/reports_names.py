"""Names every reports screen shares: categories, desks, states, and the photo to keep.

Filing (``/report``, ``/myreports``), handling (``/queue``, the cards, notices) and
``/stats`` all name the same things. Naming them in one place keeps one report
from being called one thing on the card and another in ``/myreports``, and keeps escaping
in one convention: every function here returns PLAIN text. Callers escape once
with :func:`bot.html.escape` when the text goes into an HTML message and use it
as is on a button label (labels are not parsed as HTML, so an escaped ``a&amp;b``
would show literally).

Category, place and department names come from ``config.toml``
(``name``/``name_en``), never from the catalogs; state names come from the one set
of catalog ids ``reports.state.*``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from telegram import PhotoSize

from bot.i18n import N_, Translator
from civic.places import Community, Department, Places, Township
from civic.reports import ReportState
from civic.reports_routing import Assignee, AssigneeKind

__all__ = [
    "STATE_NAME",
    "category_name",
    "desk_name",
    "grid_name",
    "largest_photo",
    "state_name",
]

STATE_NAME: Final = {
    ReportState.SUBMITTED: N_("reports.state.submitted"),
    ReportState.ACCEPTED: N_("reports.state.accepted"),
    ReportState.IN_PROGRESS: N_("reports.state.in_progress"),
    ReportState.RESOLVED: N_("reports.state.resolved"),
    ReportState.CLOSED: N_("reports.state.closed"),
    ReportState.REJECTED: N_("reports.state.rejected"),
    ReportState.REOPENED: N_("reports.state.reopened"),
}
"""The one catalog id of each state, used by the card, ``/myreports`` and ``/stats``."""


def state_name(t: Translator, state: ReportState) -> str:
    """A report state in the reader's language, plain text."""
    return t(STATE_NAME[state])


def category_name(places: Places, locale: str, code: str | None) -> str:
    """A category by its config name in ``locale``, plain text; the code if unknown."""
    found = next((c for c in places.report_categories if c.code == code), None)
    if found is None:
        return code or "—"
    return found.name_en if locale == "en" else found.name


def grid_name(places: Places, code: str) -> str:
    """A grid's config name (grids have one name in every language); the code if unknown."""
    found = next((g for g in places.grids if g.code == code), None)
    return code if found is None else found.name


def desk_name(t: Translator, places: Places, assignee: Assignee) -> str:
    """Whom a report is with, plain text: "the grid worker of …", a community, a department."""
    if assignee.kind is AssigneeKind.GRID_WORKER:
        return t("reports.desk.grid_worker", grid=grid_name(places, assignee.code))
    kinds: dict[AssigneeKind, Sequence[Community | Township | Department]] = {
        AssigneeKind.COMMUNITY: places.communities,
        AssigneeKind.TOWNSHIP: places.townships,
        AssigneeKind.DEPARTMENT: places.departments,
    }
    found = next((p for p in kinds.get(assignee.kind, ()) if p.code == assignee.code), None)
    if found is None:
        return assignee.code
    return found.name_en if t.locale == "en" else found.name


def largest_photo(sizes: Sequence[PhotoSize]) -> PhotoSize:
    """The biggest of the sizes Telegram sends for one photo: the one worth keeping.

    By area, then by file size (two sizes of the same area: the sharper one).
    ``sizes`` must not be empty (a photo message always has at least one).
    """
    return max(sizes, key=lambda size: (size.width * size.height, size.file_size or 0))
