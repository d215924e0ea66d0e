"""Telling people about a report's changes: one place, through the outbox (spec 02).

"The reporter is notified of each change in their language" and "the
reporter's answer is attached to the report and the assignee told". Every use
case that changes a report (accepting, progress, resolving, rejecting,
reassigning, a question, an answer) calls :func:`tell_reporter` or
:func:`tell_assignee` in the same unit of work as the change, so a notice is
queued exactly when the change is committed, and a redelivered update queues
nothing new: the dedupe key is ``reports:<report id>:<event id>`` (one event,
one notice to the reporter), and ``reports:<report id>:<event id>:to:<user>``
for anyone else told of that event.

The wording lives in the catalogs, so use cases take a :class:`ReportNotices`
that renders a message for one recipient in their language (the handlers
implement it); this module decides *who* is told and keys the message.

A report filed on behalf of a resident without Telegram has nobody to message:
the staff member who filed it sees the change on the card — its latest events
with their notes, and "Answer" while a question waits
(:func:`handlers.reports_queue_views.answer_awaited`) — and tells the resident
themself (spec 02), so nothing is queued for it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from civic.outbox import OutgoingMessage
from civic.reports import Report, ReportEvent

if TYPE_CHECKING:
    from civic.ports import UnitOfWork


class ReportNotices(Protocol):
    """Renders the messages reports send through the outbox, in the recipient's language."""

    def to_reporter(
        self, report: Report, event: ReportEvent, language: str | None
    ) -> OutgoingMessage:
        """The reporter learns what happened (accepted, progress, a question...)."""
        ...

    def to_worker(
        self, report: Report, event: ReportEvent, recipient_id: int, language: str | None
    ) -> OutgoingMessage:
        """Someone handling the report learns what the reporter did (an answer)."""
        ...


def reporter_notice_key(report_id: int, event_id: int) -> str:
    """The outbox ``dedupe_key`` of the reporter's notice of one event."""
    return f"reports:{report_id}:{event_id}"


def worker_notice_key(report_id: int, event_id: int, recipient_id: int) -> str:
    """The outbox ``dedupe_key`` of a worker's notice of one event."""
    return f"reports:{report_id}:{event_id}:to:{recipient_id}"


async def queue_keyed(
    uow: UnitOfWork, message: OutgoingMessage, chat_id: int, key: str, now: datetime
) -> None:
    """Queue a rendered notice to ``chat_id`` under ``key``: the same key queues nothing
    twice (a redelivered update, a job run again)."""
    await uow.outbox.enqueue([replace(message, chat_id=chat_id, dedupe_key=key)], now)


async def tell_reporter(
    uow: UnitOfWork, report: Report, event: ReportEvent, notices: ReportNotices, now: datetime
) -> bool:
    """Queue the reporter's notice of ``event``; ``False`` when there is nobody to message.

    Nobody: a report filed on someone's behalf (the filer reads the card), or
    one whose reporter erased their data.
    """
    user_id = report.reporter.user_id
    if user_id is None or report.id is None or event.id is None:
        return False
    language = await uow.residents.language_of(user_id)
    message = notices.to_reporter(report, event, language)
    await queue_keyed(uow, message, user_id, reporter_notice_key(report.id, event.id), now)
    return True


async def tell_worker(
    uow: UnitOfWork,
    report: Report,
    event: ReportEvent,
    recipient_id: int,
    notices: ReportNotices,
    now: datetime,
) -> None:
    """Queue a notice of ``event`` to one person handling the report."""
    if report.id is None or event.id is None:
        raise ValueError("tell about stored reports and events")
    language = await uow.residents.language_of(recipient_id)
    message = notices.to_worker(report, event, recipient_id, language)
    key = worker_notice_key(report.id, event.id, recipient_id)
    await queue_keyed(uow, message, recipient_id, key, now)
