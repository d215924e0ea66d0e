"""What "Is it fixed?" shows: the rating and comment screens, and the notices it sends.

Pure builders like :mod:`handlers.reports_queue_views`: a painter and the data in,
a :class:`Screen` or an outbox message out. The Yes/No pair itself is built there
(:meth:`handlers.reports_queue_views.CardPainter.fixed_row`), since the
resolution notice and the card carry it.

Button actions: ``rfb_fixed`` (Yes/No: report id, resolve event id, ``y``/``n``),
``rfb_rate`` (report id, resolve event id, 1-5), ``rfb_skip`` (no comment: report id,
resolve event id), ``rfb_ask`` (``/myreports``: ask "Is it fixed?" again: report id).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from telegram import InlineKeyboardMarkup

from bot.html import escape, truncate
from bot.i18n import N_
from civic.outbox import OutgoingMessage
from civic.reports import Report, ReportAction, ReportEvent, ReportState
from civic.reports_feedback import CommentKind
from handlers.reports_queue_views import (
    CARD,
    NOTE_SHOWN,
    CardPainter,
    OutboxNotices,
    _message,
)
from handlers.residents_views import Painter, Screen

RATE: Final = "rfb_rate"
SKIP: Final = "rfb_skip"
ASK: Final = "rfb_ask"

COMMENT_KEPT: Final = {
    CommentKind.FIXED: N_("reports.feedback.comment_kept"),
    CommentKind.WRONG: N_("reports.feedback.wrong_kept"),
}


def fixed_answer(args: Sequence[str]) -> bool | None:
    """The Yes/No button's answer (its third value: ``y``/``n``); ``None`` for anything
    else, which is no answer at all (never taken for a "No", which would reopen)."""
    if len(args) != 3:
        return None
    return {"y": True, "n": False}.get(args[2])


def rating_prompt(cards: CardPainter, report: Report, resolve_event_id: int) -> Screen:
    """After "Yes": 1 to 5, one row."""
    assert report.id is not None
    row = [
        cards.painter.button(
            cards.text(N_("reports.feedback.stars"), stars=n), RATE, report.id, resolve_event_id, n
        )
        for n in range(1, 6)
    ]
    text = cards.text(N_("reports.feedback.rate_prompt"), number=escape(str(report.number)))
    return Screen(text, InlineKeyboardMarkup([row]))


def comment_prompt(
    cards: CardPainter,
    report: Report,
    resolve_event_id: int,
    kind: CommentKind,
    rating: int | None = None,
) -> Screen:
    """The optional comment: after a rating, or what is still wrong after "No"; with Skip
    (naming the report and the resolution, so an old prompt's Skip ends nothing else)."""
    assert report.id is not None
    skip = cards.painter.button(
        cards.text(N_("reports.feedback.skip")), SKIP, report.id, resolve_event_id
    )
    if kind is CommentKind.FIXED:
        text = cards.text(N_("reports.feedback.comment_prompt"), rating=rating or "")
    else:
        text = cards.text(N_("reports.feedback.wrong_prompt"), number=escape(str(report.number)))
    return Screen(text, InlineKeyboardMarkup([[skip]]))


def thanks(cards: CardPainter) -> Screen:
    return Screen(cards.text(N_("reports.feedback.thanks")))


def question(cards: CardPainter, report: Report, resolve_event_id: int) -> Screen:
    """ "Is it fixed?" asked again (from ``/myreports``), with Yes/No."""
    assert report.id is not None
    text = cards.text(N_("reports.feedback.ask_again"), number=escape(str(report.number)))
    return Screen(text, InlineKeyboardMarkup([cards.fixed_row(report.id, resolve_event_id)]))


def ask_keyboard(painter: Painter, reports: Sequence[Report]) -> InlineKeyboardMarkup | None:
    """Under ``/myreports``: an "Is it fixed? <number>" button for each resolved report
    awaiting the answer (its notice may never have arrived); ``None`` when there is none."""
    rows = [
        [
            painter.button(
                painter.t(N_("reports.feedback.ask_button"), number=str(r.number)), ASK, r.id
            )
        ]
        for r in reports
        if r.state is ReportState.RESOLVED and r.id is not None
    ]
    return InlineKeyboardMarkup(rows) if rows else None


@dataclass(frozen=True)
class FeedbackNotices:
    """:class:`civic.reports_notices.ReportNotices` for the follow-up's events; every
    other event is rendered as :class:`OutboxNotices` does."""

    notices: OutboxNotices

    def to_reporter(
        self, report: Report, event: ReportEvent, language: str | None
    ) -> OutgoingMessage:
        if event.kind is not ReportAction.EXPIRE:
            return self.notices.to_reporter(report, event, language)
        cards = self.notices.painter(language)
        text = cards.text(N_("reports.feedback.expired_notice"), number=escape(str(report.number)))
        return _message(report.reporter.user_id or 0, text, event, None)

    def to_worker(
        self, report: Report, event: ReportEvent, recipient_id: int, language: str | None
    ) -> OutgoingMessage:
        cards = self.notices.painter(language)
        assert report.id is not None
        number = escape(str(report.number))
        if event.kind is ReportAction.REOPEN:
            text = cards.text(
                N_("reports.feedback.reopened_notice"),
                number=number,
                resolve_by=cards.when(report, report.resolve_by),
            )
        elif event.kind is ReportAction.ANSWER and event.note:
            text = cards.text(
                N_("reports.feedback.still_wrong_notice"),
                number=number,
                comment=truncate(escape(event.note), NOTE_SHOWN),
            )
        else:
            return self.notices.to_worker(report, event, recipient_id, language)
        button = cards.painter.button(cards.text(N_("reports.thread.open_card")), CARD, report.id)
        return _message(recipient_id, text, event, InlineKeyboardMarkup([[button]]).to_dict())
