"""What filing a report shows: the steps of ``/report``, the preview, the number, ``/myreports``.

Pure builders like :mod:`handlers.residents_views`: a painter (translator,
button codec, places) and the data in, a :class:`Screen` out, so unit tests can
check every keyboard fits Telegram. Category and place names come from
``config.toml`` (``name``/``name_en``), never from the catalogs.

Button actions: ``rf_who``, ``rf_compound``, ``rf_category``, ``rf_support``,
``rf_anyway``, ``rf_photos_done``, ``rf_photos_clear``, ``rf_home``,
``rf_anon``, ``rf_submit``, ``rf_back``, ``rf_edit`` — steps of the flow;
``rf_page`` — another page of categories or compounds; ``rf_cancel``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.html import bold, escape, truncate
from bot.i18n import N_, Translator, format_date, format_datetime
from civic.reports import Report
from civic.reports_filing import (
    MAX_NAME_CHARS,
    FileOutcome,
    FilingPolicy,
    ReportDraft,
    Step,
    compounds_for,
    previous_step,
)
from civic.reports_routing import Assignee, AssigneeKind
from civic.residents import place_names
from handlers.reports_names import category_name, desk_name, grid_name, state_name
from handlers.residents_views import CHOSEN, Painter, Screen

WHO: Final = "rf_who"
PICK_COMPOUND: Final = "rf_compound"
PICK_CATEGORY: Final = "rf_category"
SUPPORT: Final = "rf_support"
ANYWAY: Final = "rf_anyway"
PHOTOS_DONE: Final = "rf_photos_done"
PHOTOS_CLEAR: Final = "rf_photos_clear"
HOME: Final = "rf_home"
ANONYMOUS: Final = "rf_anon"
SUBMIT: Final = "rf_submit"
BACK: Final = "rf_back"
EDIT: Final = "rf_edit"
PAGE: Final = "rf_page"
CANCEL: Final = "rf_cancel"

STEP_ACTIONS: Final = (
    WHO,
    PICK_COMPOUND,
    PICK_CATEGORY,
    SUPPORT,
    ANYWAY,
    PHOTOS_DONE,
    PHOTOS_CLEAR,
    HOME,
    ANONYMOUS,
    SUBMIT,
    BACK,
    EDIT,
)
"""Presses that answer a step of the filing flow."""

CATEGORIES_PER_PAGE: Final = 8
COMPOUNDS_PER_PAGE: Final = 10
SNIPPET_CHARS: Final = 60
"""How much of a neighbour's description the "me too" offer shows: enough to recognise it."""
PREVIEW_DESCRIPTION_CHARS: Final = 3000
"""How much of the description the preview shows (UTF-16 units, as Telegram counts).

``[reports] description_max_chars`` may be up to 4000, and the preview adds the
heading, the other lines and perhaps a notice: in full, the longest description
would push the message past Telegram's 4096 and the edit would fail, leaving the
resident unable to submit. The whole description is still filed."""

STEP_PROMPT: Final = {
    Step.WHO: N_("reports.file.who"),
    Step.NAME: N_("reports.file.name"),
    Step.PHONE: N_("reports.file.phone"),
    Step.COMPOUND: N_("reports.file.compound"),
    Step.CATEGORY: N_("reports.file.category"),
    Step.DUPLICATE: N_("reports.file.duplicate"),
    Step.DESCRIPTION: N_("reports.file.description"),
    Step.PHOTOS: N_("reports.file.photos"),
    Step.LOCATION: N_("reports.file.location"),
    Step.ANONYMOUS: N_("reports.file.anonymous"),
    Step.PREVIEW: N_("reports.file.preview"),
}
ANONYMOUS_FOR_SELF: Final = (
    N_("reports.file.anonymous"),
    N_("reports.file.anonymous_yes"),
    N_("reports.file.anonymous_no"),
)
ANONYMOUS_FOR_RESIDENT: Final = (
    N_("reports.file.anonymous_resident"),
    N_("reports.file.anonymous_resident_yes"),
    N_("reports.file.anonymous_resident_no"),
)
"""The anonymity question and its buttons: the prompt, hide, show."""
EDIT_LABEL: Final = {
    Step.NAME: N_("reports.file.edit_name"),
    Step.PHONE: N_("reports.file.edit_phone"),
    Step.CATEGORY: N_("reports.file.edit_category"),
    Step.DESCRIPTION: N_("reports.file.edit_description"),
    Step.PHOTOS: N_("reports.file.edit_photos"),
    Step.LOCATION: N_("reports.file.edit_location"),
    Step.ANONYMOUS: N_("reports.file.edit_anonymous"),
}
REFUSAL_TEXT: Final = {
    FileOutcome.NAME_EMPTY: N_("reports.file.name_empty"),
    FileOutcome.NAME_TOO_LONG: N_("reports.file.name_too_long"),
    FileOutcome.NAME_INVALID: N_("reports.file.name_invalid"),
    FileOutcome.PHONE_INVALID: N_("reports.file.phone_invalid"),
    FileOutcome.DESCRIPTION_EMPTY: N_("reports.file.description_empty"),
    FileOutcome.DESCRIPTION_TOO_LONG: N_("reports.file.description_too_long"),
    FileOutcome.TOO_MANY_PHOTOS: N_("reports.file.too_many_photos"),
    FileOutcome.BAD_LOCATION: N_("reports.file.bad_location"),
}


# -- names ------------------------------------------------------------------------------


def category_html(painter: Painter, code: str | None) -> str:
    """A category by its config name in the reader's language, escaped once for HTML."""
    return escape(category_name(painter.places, painter.locale, code))


def compound_name(painter: Painter, code: str | None) -> str:
    names = place_names(painter.places, None, code, None)
    return escape(painter.place(names.compound))


def home_place(painter: Painter, draft: ReportDraft) -> str:
    """ "Hedong Garden Building 2": where "my compound/building" puts the report."""
    on_own = not draft.on_behalf and draft.compound_code == draft.home_compound
    building = draft.home_building if on_own else None
    names = place_names(painter.places, None, draft.compound_code, building)
    parts = [painter.place(names.compound)]
    if names.building is not None:
        parts.append(painter.building(names.building))
    return escape(" ".join(parts))


def assignee_name(painter: Painter, assignee: Assignee, *, own: bool = True) -> str:
    """Whom a report went to, escaped: "your grid worker (…)" to the reporter, else the desk."""
    if own and assignee.kind is AssigneeKind.GRID_WORKER:
        grid = grid_name(painter.places, assignee.code)
        return painter.t("reports.file.to.grid_worker", grid=escape(grid))
    return escape(desk_name(painter.t, painter.places, assignee))


def snippet(text: str) -> str:
    """The start of a description, one line, escaped."""
    line = " ".join(text.split())
    return escape(line if len(line) <= SNIPPET_CHARS else line[: SNIPPET_CHARS - 1] + "…")


# -- the flow ---------------------------------------------------------------------------


def paged(
    painter: Painter,
    step: Step,
    buttons: Sequence[InlineKeyboardButton],
    page: int | None,
    per_page: int,
) -> list[list[InlineKeyboardButton]]:
    """``buttons`` of one page, two a row, with ‹ › when there are more pages.

    Without a ``page``, the one with the chosen button (marked ✓) is shown.
    """
    if page is None:
        marked = (i for i, b in enumerate(buttons) if b.text.startswith(CHOSEN))
        page = next(marked, 0) // per_page
    pages = max(1, -(-len(buttons) // per_page))
    page = min(max(page, 0), pages - 1)
    shown = buttons[page * per_page : (page + 1) * per_page]
    rows = [list(shown[i : i + 2]) for i in range(0, len(shown), 2)]
    if pages > 1:
        turn = []
        if page > 0:
            turn.append(painter.button("‹", PAGE, step.value, page - 1))
        turn.append(painter.button(f"{page + 1}/{pages}", PAGE, step.value, page))
        if page < pages - 1:
            turn.append(painter.button("›", PAGE, step.value, page + 1))
        rows.append(turn)
    return rows


def chosen(label: str, is_chosen: bool) -> str:
    return CHOSEN + label if is_chosen else label


def step_screen(
    painter: Painter,
    policy: FilingPolicy,
    step: Step,
    draft: ReportDraft,
    *,
    offered: Sequence[Report] = (),
    notice: str | None = None,
    page: int | None = None,
) -> Screen:
    """The filing flow's message at ``step``: an optional notice, the question, its buttons.

    ``offered``: the open reports of the "me too" step (read by the handler).
    """
    t = painter.t
    rows: list[list[InlineKeyboardButton]] = []
    plain = (Step.WHO, Step.PHONE, Step.COMPOUND, Step.CATEGORY, Step.ANONYMOUS, Step.PREVIEW)
    body = t(STEP_PROMPT[step]) if step in plain else ""  # the others have placeholders
    if step is Step.WHO:
        rows.append(
            [
                painter.button(t("reports.file.who_self"), WHO, 0),
                painter.button(t("reports.file.who_behalf"), WHO, 1),
            ]
        )
    elif step is Step.NAME:
        body = t(STEP_PROMPT[step], max=MAX_NAME_CHARS)
        if draft.reporter_name:
            body += "\n" + t("reports.file.current", value=escape(draft.reporter_name))
    elif step is Step.PHONE:
        if draft.reporter_phone:
            body += "\n" + t("reports.file.current", value=escape(draft.reporter_phone))
    elif step is Step.COMPOUND:
        buttons = [
            painter.button(
                chosen(painter.place(c), c.code == draft.compound_code), PICK_COMPOUND, c.code
            )
            for c in compounds_for(draft, painter.places)
        ]
        rows += paged(painter, step, buttons, page, COMPOUNDS_PER_PAGE)
    elif step is Step.CATEGORY:
        buttons = [
            painter.button(
                chosen(
                    category_name(painter.places, painter.locale, c.code),
                    c.code == draft.category_code,
                ),
                PICK_CATEGORY,
                c.code,
            )
            for c in painter.places.report_categories
        ]
        rows += paged(painter, step, buttons, page, CATEGORIES_PER_PAGE)
    elif step is Step.DUPLICATE:
        body = t(STEP_PROMPT[step], compound=compound_name(painter, draft.compound_code))
        lines = [
            t(
                "reports.file.duplicate_line",
                number=str(r.number),
                date=format_date(
                    r.created_at, painter.locale, painter.places.timezone_of(r.community_code)
                ),
                supports=r.supports,
                text=snippet(r.description) or t("reports.file.voice_only"),
            )
            for r in offered
        ]
        body = "\n".join([body, *lines])
        rows += [
            [painter.button(t("reports.file.me_too", number=str(r.number)), SUPPORT, r.id or 0)]
            for r in offered
        ]
        rows.append([painter.button(t("reports.file.file_anyway"), ANYWAY)])
    elif step is Step.DESCRIPTION:
        body = t(STEP_PROMPT[step], max=policy.description_max_chars)
        if draft.description:
            body += "\n" + t("reports.file.current", value=snippet(draft.description))
        if draft.voice_file_id:
            body += "\n" + t("reports.file.line.voice")
    elif step is Step.PHOTOS:
        body = t(STEP_PROMPT[step], max=policy.max_photos)
        body += "\n" + t(
            "reports.file.photos_count", count=len(draft.photos), max=policy.max_photos
        )
        done = "reports.file.photos_done" if draft.photos else "reports.file.photos_skip"
        row = [painter.button(t(done), PHOTOS_DONE)]
        if draft.photos:
            row.append(painter.button(t("reports.file.photos_clear"), PHOTOS_CLEAR))
        rows.append(row)
    elif step is Step.LOCATION:
        place = home_place(painter, draft)
        body = t(STEP_PROMPT[step], place=place)
        rows.append([painter.button(t("reports.file.use_home", place=place), HOME)])
    elif step is Step.ANONYMOUS:
        # Filed for a resident, the question is about the resident's name, not the filer's.
        words = ANONYMOUS_FOR_RESIDENT if draft.on_behalf else ANONYMOUS_FOR_SELF
        body = t(words[0])
        rows.append(
            [
                painter.button(t(words[1]), ANONYMOUS, 1),
                painter.button(t(words[2]), ANONYMOUS, 0),
            ]
        )
    elif step is Step.PREVIEW:
        body = "\n".join([body, draft_lines(painter, draft)])
        rows.append([painter.button(t("reports.file.submit"), SUBMIT)])
        editable = [s for s in EDIT_LABEL if s not in (Step.NAME, Step.PHONE) or draft.on_behalf]
        if policy.max_photos == 0:
            editable.remove(Step.PHOTOS)
        edits = [painter.button(t(EDIT_LABEL[s]), EDIT, s.value) for s in editable]
        rows += [edits[i : i + 2] for i in range(0, len(edits), 2)]
    else:
        raise ValueError(f"no screen for step {step!r}")
    navigation = []
    if previous_step(step, draft, policy) is not None:
        navigation.append(painter.button(t("common.button.back"), BACK, step.value))
    navigation.append(painter.button(t("common.button.cancel"), CANCEL))
    rows.append(navigation)
    title = "reports.file.title_on_behalf" if draft.on_behalf else "reports.file.title"
    heading = bold(t(title))
    text = f"{heading}\n{body}" if notice is None else f"{notice}\n\n{heading}\n{body}"
    return Screen(text, InlineKeyboardMarkup(rows))


def draft_lines(painter: Painter, draft: ReportDraft) -> str:
    """The preview: everything the report will say, as entered."""
    t = painter.t
    lines = []
    if draft.on_behalf:
        lines.append(
            t(
                "reports.file.line.reporter",
                name=escape(draft.reporter_name or ""),
                phone=escape(draft.reporter_phone or ""),
            )
        )
    lines.append(t("reports.file.line.place", compound=compound_name(painter, draft.compound_code)))
    lines.append(
        t("reports.file.line.category", category=category_html(painter, draft.category_code))
    )
    if draft.description:
        shown = truncate(escape(draft.description), PREVIEW_DESCRIPTION_CHARS)
        lines.append(t("reports.file.line.description", text=shown))
    if draft.voice_file_id:
        lines.append(t("reports.file.line.voice"))
    lines.append(t("reports.file.line.photos", count=len(draft.photos)))
    if draft.latitude is not None:
        lines.append(t("reports.file.line.location_pin"))
    else:
        lines.append(t("reports.file.line.location_home", place=home_place(painter, draft)))
    anonymous = (
        "reports.file.line.anonymous_yes" if draft.anonymous else "reports.file.line.anonymous_no"
    )
    lines.append(t(anonymous))
    return "\n".join(lines)


def refusal_notice(t: Translator, policy: FilingPolicy, outcome: FileOutcome, text: str) -> str:
    """What to say about refused input, with the limit it broke and how long it was."""
    cleaned = " ".join(text.split())
    limit = {
        FileOutcome.NAME_TOO_LONG: MAX_NAME_CHARS,
        FileOutcome.DESCRIPTION_TOO_LONG: policy.description_max_chars,
        FileOutcome.DESCRIPTION_EMPTY: policy.description_max_chars,
        FileOutcome.TOO_MANY_PHOTOS: policy.max_photos,
    }.get(outcome, 0)
    length = len(text.strip()) if outcome is FileOutcome.DESCRIPTION_TOO_LONG else len(cleaned)
    return t(REFUSAL_TEXT[outcome], max=limit, length=length)


def submitted_screen(painter: Painter, report: Report) -> Screen:
    """The tracking number at once, and whom the report went to."""
    t = painter.t
    on_behalf = report.reporter.on_behalf
    assignee = assignee_name(painter, report.assignee, own=not on_behalf)
    if on_behalf:
        text = t(
            "reports.file.submitted_on_behalf",
            number=str(report.number),
            name=escape(report.reporter.name or ""),
            assignee=assignee,
        )
    else:
        text = t("reports.file.submitted", number=str(report.number), assignee=assignee)
    return Screen(text)


def supported_screen(painter: Painter, report: Report) -> Screen:
    return Screen(
        painter.t("reports.file.supported", number=str(report.number), count=report.supports)
    )


# -- /myreports -------------------------------------------------------------------------


def my_reports_text(painter: Painter, reports: Sequence[Report], more: bool) -> str:
    """Number, category, state in words and last update (the community's time zone)."""
    t = painter.t
    if not reports:
        return t("reports.mine.none")
    lines = [bold(t("reports.mine.title"))]
    for report in reports:
        timezone = painter.places.timezone_of(report.community_code)
        lines.append(
            t(
                "reports.mine.line",
                number=str(report.number),
                category=category_html(painter, report.category_code),
                state=escape(state_name(t, report.state)),
                updated=format_datetime(
                    report.updated_at or report.created_at, painter.locale, timezone
                ),
            )
        )
    if more:
        lines.append(t("reports.mine.more", shown=len(reports)))
    return "\n".join(lines)
