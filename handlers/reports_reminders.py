"""Deadline reminders, escalations and new-report notices: the messages and the job kinds.

The rules (which jobs, whether one still applies, who is told) live in
:mod:`civic.reports_reminders`; this module renders the messages with the
catalogs and the card's button (``rq_card``: the recipient opens the report's
card and acts from it, e.g. a secretary reassigns), and registers the job kinds
with the scheduler (:func:`register_jobs`, wired in :func:`handlers.register_jobs`).

A job handler is thin (STYLE.md 9): it calls the use case with the scheduler's
unit of work, which commits the event, the outbox rows and the job's "done"
together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Final

from telegram import InlineKeyboardMarkup

from bot.callbacks import CallbackCodec
from bot.html import escape
from bot.i18n import N_, Catalogs, resolve_locale
from civic.jobs import DueJob
from civic.outbox import OutgoingMessage
from civic.places import Places
from civic.reports import Report
from civic.reports_reminders import (
    ESCALATE_JOB,
    REMIND_JOB,
    Arrival,
    Deadline,
    deadline_of,
    escalate_deadline,
    remind_deadline,
)
from handlers.reports_queue_views import CARD, CardPainter
from handlers.residents_views import Painter

if TYPE_CHECKING:
    from bot.context import Services
    from scheduler.registry import JobRegistry
    from storage.uow import SqlUnitOfWork

REMINDER_TEXT: Final = {
    Deadline.ACCEPT: N_("reports.deadline.remind_accept"),
    Deadline.RESOLVE: N_("reports.deadline.remind_resolve"),
}
ESCALATION_TEXT: Final = {
    Deadline.ACCEPT: N_("reports.deadline.escalate_accept"),
    Deadline.RESOLVE: N_("reports.deadline.escalate_resolve"),
}
ARRIVAL_TEXT: Final = {
    Arrival.FILED: N_("reports.deadline.arrived"),
    Arrival.PASSED: N_("reports.deadline.passed"),
    Arrival.PASSED_OVERDUE: N_("reports.deadline.passed_overdue"),
    Arrival.REOPENED: N_("reports.deadline.reopened"),
}


@dataclass(frozen=True)
class DeskOutboxNotices:
    """:class:`civic.reports_reminders.DeskNotices` with the catalogs and the button codec."""

    catalogs: Catalogs
    codec: CallbackCodec
    places: Places

    def cards(self, language: str | None) -> CardPainter:
        t = self.catalogs.for_locale(resolve_locale(language, None))
        return CardPainter(Painter(t, self.codec, self.places))

    def arrived(
        self, report: Report, recipient_id: int, language: str | None, arrival: Arrival
    ) -> OutgoingMessage:
        cards = self.cards(language)
        text = cards.text(
            ARRIVAL_TEXT[arrival],
            number=escape(str(report.number)),
            category=cards.category(report.category_code),
            place=cards.place(report),
            accept_by=cards.when(report, report.accept_by),
            resolve_by=cards.when(report, report.resolve_by),
        )
        return self._message(cards, report, recipient_id, text)

    def reminder(
        self, report: Report, deadline: Deadline, recipient_id: int, language: str | None
    ) -> OutgoingMessage:
        return self._deadline(REMINDER_TEXT[deadline], report, deadline, recipient_id, language)

    def escalation(
        self, report: Report, deadline: Deadline, recipient_id: int, language: str | None
    ) -> OutgoingMessage:
        return self._deadline(ESCALATION_TEXT[deadline], report, deadline, recipient_id, language)

    def _deadline(
        self,
        message_id: str,
        report: Report,
        deadline: Deadline,
        recipient_id: int,
        language: str | None,
    ) -> OutgoingMessage:
        """A reminder or an escalation: the same facts, told to the desk or its supervisor
        (only the escalation's text names the desk)."""
        cards = self.cards(language)
        text = cards.text(
            message_id,
            number=escape(str(report.number)),
            category=cards.category(report.category_code),
            place=cards.place(report),
            deadline=cards.when(report, deadline_of(report, deadline)),
            desk=cards.desk(report.assignee),
        )
        return self._message(cards, report, recipient_id, text)

    @staticmethod
    def _message(
        cards: CardPainter, report: Report, recipient_id: int, text: str
    ) -> OutgoingMessage:
        assert report.id is not None
        button = cards.painter.button(cards.text("reports.thread.open_card"), CARD, report.id)
        payload: dict[str, object] = {
            "text": text,
            "parse_mode": "HTML",
            "reply_markup": InlineKeyboardMarkup([[button]]).to_dict(),
        }
        return OutgoingMessage(recipient_id, payload)


def desk_notices_of(services: Services) -> DeskOutboxNotices:
    """The desk's and the supervisor's messages, rendered with the running bot's catalogs."""
    return DeskOutboxNotices(services.catalogs, services.buttons, services.places)


def register_jobs(jobs: JobRegistry, services: Services) -> None:
    """The report deadline jobs: :data:`~civic.reports_reminders.REMIND_JOB` and
    :data:`~civic.reports_reminders.ESCALATE_JOB`."""
    notices = desk_notices_of(services)
    places = services.places

    async def remind(uow: SqlUnitOfWork, job: DueJob, now: datetime) -> None:
        await remind_deadline(uow, job.payload, notices, now)

    async def escalate(uow: SqlUnitOfWork, job: DueJob, now: datetime) -> None:
        await escalate_deadline(uow, job.payload, notices, places, now)

    jobs.add(REMIND_JOB, remind)
    jobs.add(ESCALATE_JOB, escalate)
