"""The reports repository: reports, their events, attachments, "me too" and feedback (spec 02).

Never commits: the unit of work does, so filing a report (its number, the row,
the filing event, the attachments) lands together or not at all.

Two writes are made race-safe in the database rather than by reading first:

* :meth:`SqlReportsRepository.next_number` raises the per-community, per-year
  counter with one ``INSERT … ON CONFLICT DO UPDATE … RETURNING``. On PostgreSQL
  the second of two concurrent filings waits on the counter row's lock until the
  first commits, then reads the raised value; on SQLite every writing
  transaction begins ``IMMEDIATE``, so they queue. Either way two reports never
  share a number, and a rolled-back filing leaves no gap in use (its number is
  given again).
* :meth:`SqlReportsRepository.save` changes a report only if it is still in
  the state the use case decided from: of two workers pressing "accept" at
  once, one wins and the other is told the report moved on. It writes only the
  lifecycle's columns (:data:`_LIFECYCLE`), so what others change meanwhile in
  their own statements — a "me too" raising ``supports``, a ``/deleteme``
  erasing the reporter and the description — is never written back over.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Row, case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from civic.places import CategoryType
from civic.reports import (
    ERASED_TEXT,
    OPEN_STATES,
    SUBMIT_EVENT,
    ActorRole,
    Attachment,
    AttachmentKind,
    Feedback,
    RejectReason,
    Report,
    ReportAction,
    Reporter,
    ReportEvent,
    ReportState,
    TrackingNumber,
)
from civic.reports_routing import Assignee, AssigneeKind
from civic.reports_stats import ReportHistory
from storage.tables import (
    report_attachments,
    report_events,
    report_feedback,
    report_sequences,
    report_supports,
    reports,
)
from storage.upsert import dialect_insert

_OPEN = sorted(OPEN_STATES)

_LIFECYCLE = (
    "state",
    "assignee_kind",
    "assignee_code",
    "assignee_user_id",
    "reject_reason",
    "duplicate_of",
    "accept_by",
    "resolve_by",
    "updated_at",
    "resolved_at",
    "closed_at",
)
"""What :meth:`SqlReportsRepository.save` writes: the columns only the lifecycle's use
cases change. The reporter, the description, the place and ``supports`` are
written by filing, ``/deleteme`` and "me too" alone."""


class SqlReportsRepository:
    """Never commits: the unit of work does."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    # -- numbers and filing ------------------------------------------------------------

    async def next_number(self, community_code: str, year: int) -> TrackingNumber:
        """The next tracking number of the community and year (1 for the year's first)."""
        statement = dialect_insert(self._conn, report_sequences).values(
            community_code=community_code, year=year, last_number=1
        )
        statement = statement.on_conflict_do_update(
            index_elements=["community_code", "year"],
            set_={"last_number": report_sequences.c.last_number + 1},
        ).returning(report_sequences.c.last_number)
        number = (await self._conn.execute(statement)).scalar_one()
        return TrackingNumber(community_code, year, int(number))

    async def add(self, report: Report) -> Report:
        """Store a numbered report; returns it with its id."""
        if report.number is None:
            raise ValueError("number a report (next_number) before adding it")
        result = await self._conn.execute(
            reports.insert().values(**_report_values(report)).returning(reports.c.id)
        )
        return replace(report, id=int(result.scalar_one()))

    async def get(self, report_id: int) -> Report | None:
        return await self._one(reports.c.id == report_id)

    async def get_by_number(self, number: TrackingNumber) -> Report | None:
        return await self._one(
            (reports.c.community_code == number.community_code)
            & (reports.c.year == number.year)
            & (reports.c.sequence == number.sequence)
        )

    async def filed_by_update(self, update_id: int) -> Report | None:
        """The report the ``update_id`` filed, if it did (a redelivered submit)."""
        return await self._one(reports.c.submit_update_id == update_id)

    async def save(self, report: Report, expected_state: ReportState) -> bool:
        """Write the report's lifecycle columns if it is still in ``expected_state``.

        Only :data:`_LIFECYCLE`: the report was read before the use case decided,
        and writing back every column would undo an erasure or a "me too" made
        in between.
        """
        if report.id is None:
            raise ValueError("save a report that was added")
        every = _report_values(report)
        values = {column: every[column] for column in _LIFECYCLE}
        result = await self._conn.execute(
            update(reports)
            .where(reports.c.id == report.id, reports.c.state == expected_state.value)
            .values(**values)
        )
        return bool(result.rowcount)

    # -- lists -------------------------------------------------------------------------

    async def open_in_community(
        self, community_code: str, *, limit: int, offset: int = 0
    ) -> list[Report]:
        """The community's open reports, oldest first (staff's ``/queue``)."""
        return await self._many(
            (reports.c.community_code == community_code) & reports.c.state.in_(_OPEN),
            limit=limit,
            offset=offset,
        )

    async def open_for_assignee(
        self, kind: AssigneeKind, code: str, *, limit: int, offset: int = 0
    ) -> list[Report]:
        """Open reports on a grid's, township's or department's desk, oldest first."""
        return await self._many(
            (reports.c.assignee_kind == kind.value)
            & (reports.c.assignee_code == code)
            & reports.c.state.in_(_OPEN),
            limit=limit,
            offset=offset,
        )

    async def count_open_in_community(self, community_code: str) -> int:
        found = await self._conn.scalar(
            select(func.count())
            .select_from(reports)
            .where(reports.c.community_code == community_code, reports.c.state.in_(_OPEN))
        )
        return int(found or 0)

    async def of_reporter(self, user_id: int, *, limit: int) -> list[Report]:
        """The person's own reports, newest first (``/myreports``)."""
        rows = await self._conn.execute(
            select(reports)
            .where(reports.c.reporter_id == user_id)
            .order_by(reports.c.created_at.desc(), reports.c.id.desc())
            .limit(limit)
        )
        return [_report(row) for row in rows]

    async def likely_duplicates(
        self, compound_code: str, category_code: str, since: datetime
    ) -> list[Report]:
        """Open reports of the compound and category filed since ``since``, oldest first."""
        return await self._many(
            (reports.c.compound_code == compound_code)
            & (reports.c.category_code == category_code)
            & (reports.c.created_at >= since)
            & reports.c.state.in_(_OPEN),
            limit=10,
        )

    # -- events and attachments --------------------------------------------------------

    async def add_event(self, event: ReportEvent) -> int:
        """Record one change or message; returns its id (attachments point at it)."""
        assignee = event.assignee
        result = await self._conn.execute(
            report_events.insert()
            .values(
                report_id=event.report_id,
                kind=SUBMIT_EVENT if event.kind is None else event.kind.value,
                actor_role=event.actor_role.value,
                actor_id=event.actor_id,
                at=event.at,
                from_state=None if event.from_state is None else event.from_state.value,
                to_state=event.to_state.value,
                note=event.note,
                reason=None if event.reason is None else event.reason.value,
                assignee_kind=None if assignee is None else assignee.kind.value,
                assignee_code=None if assignee is None else assignee.code,
                assignee_user_id=None if assignee is None else assignee.user_id,
                update_id=event.update_id,
            )
            .returning(report_events.c.id)
        )
        return int(result.scalar_one())

    async def events(self, report_id: int) -> list[ReportEvent]:
        """The report's history, oldest first, each with its attachments' file ids."""
        files: dict[int, list[str]] = {}
        for attachment in await self.attachments(report_id):
            if attachment.event_id is not None:
                files.setdefault(attachment.event_id, []).append(attachment.file_id)
        rows = await self._conn.execute(
            select(report_events)
            .where(report_events.c.report_id == report_id)
            .order_by(report_events.c.id)
        )
        return [_event(row, tuple(files.get(row.id, ()))) for row in rows]

    async def add_attachment(self, attachment: Attachment) -> int:
        result = await self._conn.execute(
            report_attachments.insert()
            .values(
                report_id=attachment.report_id,
                event_id=attachment.event_id,
                file_id=attachment.file_id,
                kind=attachment.kind.value,
                added_by=attachment.added_by,
                at=attachment.at,
            )
            .returning(report_attachments.c.id)
        )
        return int(result.scalar_one())

    async def attachments(self, report_id: int) -> list[Attachment]:
        rows = await self._conn.execute(
            select(report_attachments)
            .where(report_attachments.c.report_id == report_id)
            .order_by(report_attachments.c.id)
        )
        return [
            Attachment(
                report_id=row.report_id,
                file_id=row.file_id,
                kind=AttachmentKind(row.kind),
                at=row.at,
                event_id=row.event_id,
                added_by=row.added_by,
                id=row.id,
            )
            for row in rows
        ]

    # -- "me too" and feedback ---------------------------------------------------------

    async def support(self, report_id: int, user_id: int, now: datetime) -> bool:
        """Count the person's "me too" once; ``False`` if they had already supported it."""
        inserted = await self._conn.execute(
            dialect_insert(self._conn, report_supports)
            .values(report_id=report_id, user_id=user_id, at=now)
            .on_conflict_do_nothing(index_elements=["report_id", "user_id"])
        )
        if not inserted.rowcount:
            return False
        await self._conn.execute(
            update(reports).where(reports.c.id == report_id).values(supports=reports.c.supports + 1)
        )
        return True

    async def has_supported(self, report_id: int, user_id: int) -> bool:
        found = await self._conn.scalar(
            select(report_supports.c.user_id).where(
                report_supports.c.report_id == report_id, report_supports.c.user_id == user_id
            )
        )
        return found is not None

    async def add_feedback(self, feedback: Feedback) -> bool:
        """Store the answer to one resolution; ``False`` if it was already answered."""
        inserted = await self._conn.execute(
            dialect_insert(self._conn, report_feedback)
            .values(
                report_id=feedback.report_id,
                resolve_event_id=feedback.resolve_event_id,
                user_id=feedback.user_id,
                fixed=feedback.fixed,
                rating=feedback.rating,
                comment=feedback.comment,
                at=feedback.at,
            )
            .on_conflict_do_nothing(index_elements=["resolve_event_id"])
        )
        return bool(inserted.rowcount)

    async def rate_feedback(self, resolve_event_id: int, rating: int) -> bool:
        """Set the rating once: the ``rating IS NULL`` condition makes a second, different
        press lose in the database, whichever transaction comes first."""
        changed = await self._conn.execute(
            update(report_feedback)
            .where(
                (report_feedback.c.resolve_event_id == resolve_event_id)
                & report_feedback.c.rating.is_(None)
            )
            .values(rating=rating)
        )
        return bool(changed.rowcount)

    async def comment_feedback(self, resolve_event_id: int, comment: str) -> bool:
        """Set the comment once (``comment IS NULL``), as :meth:`rate_feedback`."""
        changed = await self._conn.execute(
            update(report_feedback)
            .where(
                (report_feedback.c.resolve_event_id == resolve_event_id)
                & report_feedback.c.comment.is_(None)
            )
            .values(comment=comment)
        )
        return bool(changed.rowcount)

    async def feedback(self, report_id: int) -> list[Feedback]:
        rows = await self._conn.execute(
            select(report_feedback)
            .where(report_feedback.c.report_id == report_id)
            .order_by(report_feedback.c.id)
        )
        return [
            Feedback(
                report_id=row.report_id,
                resolve_event_id=row.resolve_event_id,
                fixed=row.fixed,
                at=row.at,
                user_id=row.user_id,
                rating=row.rating,
                comment=row.comment,
            )
            for row in rows
        ]

    # -- internals ---------------------------------------------------------------------

    async def _one(self, condition: Any) -> Report | None:
        row = (await self._conn.execute(select(reports).where(condition))).first()
        return None if row is None else _report(row)

    async def _many(self, condition: Any, *, limit: int, offset: int = 0) -> list[Report]:
        rows = await self._conn.execute(
            select(reports)
            .where(condition)
            .order_by(reports.c.created_at, reports.c.id)
            .limit(limit)
            .offset(offset)
        )
        return [_report(row) for row in rows]

    async def open_taken_by(self, user_id: int, community_code: str) -> list[Report]:
        """Open reports of the community that ``user_id`` accepted (named), oldest first.

        What a revoked role hands over to the community's secretary
        (:func:`civic.reports_handling.hand_over_reports`).
        """
        return await self._many(
            (reports.c.assignee_user_id == user_id)
            & (reports.c.community_code == community_code)
            & reports.c.state.in_(_OPEN),
            limit=1000,
        )

    async def in_period(
        self, community_code: str, start: datetime, end: datetime
    ) -> list[ReportHistory]:
        """The community's reports filed in ``[start, end)``, oldest first, with their
        events and feedback (``/stats``, the CSV and the monthly XLSX).

        Three queries whatever the number of reports: the reports, then all their
        events, then all their feedback, each matched to its report here. Events
        come without attachments: no figure needs a file id.
        """
        chosen = (
            (reports.c.community_code == community_code)
            & (reports.c.created_at >= start)
            & (reports.c.created_at < end)
        )
        ids = select(reports.c.id).where(chosen)
        found = [
            _report(row)
            for row in await self._conn.execute(
                select(reports).where(chosen).order_by(reports.c.created_at, reports.c.id)
            )
        ]
        if not found:
            return []
        events: dict[int, list[ReportEvent]] = {}
        for row in await self._conn.execute(
            select(report_events)
            .where(report_events.c.report_id.in_(ids))
            .order_by(report_events.c.id)
        ):
            events.setdefault(row.report_id, []).append(_event(row, ()))
        answers: dict[int, list[Feedback]] = {}
        for row in await self._conn.execute(
            select(report_feedback)
            .where(report_feedback.c.report_id.in_(ids))
            .order_by(report_feedback.c.id)
        ):
            answers.setdefault(row.report_id, []).append(
                Feedback(
                    report_id=row.report_id,
                    resolve_event_id=row.resolve_event_id,
                    fixed=row.fixed,
                    at=row.at,
                    user_id=row.user_id,
                    rating=row.rating,
                    comment=row.comment,
                )
            )
        return [
            ReportHistory(
                report,
                tuple(events.get(report.id or 0, ())),
                tuple(answers.get(report.id or 0, ())),
            )
            for report in found
        ]

    async def open_taken_anywhere(self, user_id: int) -> list[Report]:
        """Open reports ``user_id`` accepted (named), in every community, oldest first.

        What revoking a role over no single community (a department's liaison, an
        admin) may release (:func:`civic.reports_handling.hand_over_reports`).
        """
        return await self._many(
            (reports.c.assignee_user_id == user_id) & reports.c.state.in_(_OPEN), limit=1000
        )

    async def photo_counts(self, report_ids: Collection[int]) -> dict[int, int]:
        """How many photos each report has, counted in one query (the cards of a page);
        reports without photos are absent."""
        if not report_ids:
            return {}
        rows = await self._conn.execute(
            select(report_attachments.c.report_id, func.count())
            .where(
                report_attachments.c.report_id.in_(sorted(report_ids)),
                report_attachments.c.kind == AttachmentKind.PHOTO.value,
            )
            .group_by(report_attachments.c.report_id)
        )
        return {int(report_id): int(count) for report_id, count in rows}

    async def latest_events(
        self, report_ids: Collection[int], per_report: int
    ) -> dict[int, list[ReportEvent]]:
        """The last ``per_report`` events of each report, oldest first, without their
        attachments (a card's short history), in one query."""
        if not report_ids:
            return {}
        ranked = (
            select(
                report_events,
                func.row_number()
                .over(partition_by=report_events.c.report_id, order_by=report_events.c.id.desc())
                .label("rank"),
            )
            .where(report_events.c.report_id.in_(sorted(report_ids)))
            .subquery()
        )
        rows = await self._conn.execute(
            select(ranked).where(ranked.c.rank <= per_report).order_by(ranked.c.id)
        )
        found: dict[int, list[ReportEvent]] = {}
        for row in rows:
            found.setdefault(row.report_id, []).append(_event(row, ()))
        return found


def _report_values(report: Report) -> dict[str, Any]:
    number = report.number
    assert number is not None  # checked by the callers
    return {
        "community_code": report.community_code,
        "year": number.year,
        "sequence": number.sequence,
        "compound_code": report.compound_code,
        "building_code": report.building_code,
        "latitude": report.latitude,
        "longitude": report.longitude,
        "category_code": report.category_code,
        "category_type": report.category_type.value,
        "description": report.description,
        "anonymous": report.anonymous,
        "reporter_id": report.reporter.user_id,
        "on_behalf_name": report.reporter.name,
        "on_behalf_phone": report.reporter.phone,
        "filed_by": report.reporter.filed_by,
        "assignee_kind": report.assignee.kind.value,
        "assignee_code": report.assignee.code,
        "assignee_user_id": report.assignee.user_id,
        "state": report.state.value,
        "reject_reason": None if report.reject_reason is None else report.reject_reason.value,
        "duplicate_of": report.duplicate_of,
        "supports": report.supports,
        "accept_by": report.accept_by,
        "resolve_by": report.resolve_by,
        "created_at": report.created_at,
        "updated_at": report.updated_at or report.created_at,
        "resolved_at": report.resolved_at,
        "closed_at": report.closed_at,
        "submit_update_id": report.submit_update_id,
    }


def _reporter(row: Row[Any]) -> Reporter:
    """The reporter as stored; with neither a user nor a name, one who erased their data."""
    if row.reporter_id is None and row.on_behalf_name is None:
        return Reporter(filed_by=row.filed_by, erased=True)
    return Reporter(row.reporter_id, row.on_behalf_name, row.on_behalf_phone, row.filed_by)


def _report(row: Row[Any]) -> Report:
    return Report(
        community_code=row.community_code,
        compound_code=row.compound_code,
        category_code=row.category_code,
        category_type=CategoryType(row.category_type),
        description=row.description,
        reporter=_reporter(row),
        assignee=Assignee.parse(row.assignee_kind, row.assignee_code, row.assignee_user_id),
        created_at=row.created_at,
        accept_by=row.accept_by,
        resolve_by=row.resolve_by,
        state=ReportState(row.state),
        building_code=row.building_code,
        latitude=row.latitude,
        longitude=row.longitude,
        anonymous=row.anonymous,
        supports=row.supports,
        reject_reason=None if row.reject_reason is None else RejectReason(row.reject_reason),
        duplicate_of=row.duplicate_of,
        updated_at=row.updated_at,
        resolved_at=row.resolved_at,
        closed_at=row.closed_at,
        submit_update_id=row.submit_update_id,
        id=row.id,
        number=TrackingNumber(row.community_code, row.year, row.sequence),
    )


def _event(row: Row[Any], files: tuple[str, ...]) -> ReportEvent:
    assignee = (
        None
        if row.assignee_kind is None
        else Assignee.parse(row.assignee_kind, row.assignee_code, row.assignee_user_id)
    )
    return ReportEvent(
        report_id=row.report_id,
        kind=None if row.kind == SUBMIT_EVENT else ReportAction(row.kind),
        actor_role=ActorRole(row.actor_role),
        at=row.at,
        to_state=ReportState(row.to_state),
        from_state=None if row.from_state is None else ReportState(row.from_state),
        actor_id=row.actor_id,
        note=row.note,
        reason=None if row.reason is None else RejectReason(row.reason),
        assignee=assignee,
        update_id=row.update_id,
        id=row.id,
        attachments=files,
    )


# -- personal data (spec 01: /mydata and /deleteme) -----------------------------------


async def export_reports(conn: AsyncConnection, user_id: int) -> dict[str, Any]:
    """The person's reports, the events they took part in, their "me too"s and feedback.

    ``report_events_by_others`` is the rest of the thread of their own reports:
    staff's questions to them, acceptance, progress, the resolution — what was
    said to them and done about what they reported. Each keeps the acting role
    (assignee, staff, system) and the desk; the staff member's Telegram id is
    left out: it identifies another person, and an official act is the office's,
    whose role the export names.

    File ids are left out, as for deed photos: they are keys to files on
    Telegram's servers, not data about the person; the export says how many of
    each kind there were.
    """
    own = await _plain_rows(
        conn, select(reports).where(reports.c.reporter_id == user_id).order_by(reports.c.id)
    )
    for report in own:
        report["tracking_number"] = str(
            TrackingNumber(report["community_code"], report["year"], report["sequence"])
        )
    events = await _plain_rows(
        conn,
        select(report_events)
        .where(report_events.c.actor_id == user_id)
        .order_by(report_events.c.id),
    )
    others = await _plain_rows(
        conn,
        select(*(c for c in report_events.c if c.name not in {"actor_id", "assignee_user_id"}))
        .where(
            report_events.c.report_id.in_(
                select(reports.c.id).where(reports.c.reporter_id == user_id)
            ),
            (report_events.c.actor_id.is_(None)) | (report_events.c.actor_id != user_id),
        )
        .order_by(report_events.c.id),
    )
    attachments = await _plain_rows(
        conn,
        select(report_attachments.c.report_id, report_attachments.c.kind, report_attachments.c.at)
        .where(report_attachments.c.added_by == user_id)
        .order_by(report_attachments.c.id),
    )
    supports = await _plain_rows(
        conn,
        select(report_supports.c.report_id, report_supports.c.at)
        .where(report_supports.c.user_id == user_id)
        .order_by(report_supports.c.at),
    )
    feedback = await _plain_rows(
        conn,
        select(report_feedback)
        .where(
            report_feedback.c.user_id == user_id,
            # Their own reports only: a staff member's answers for residents without
            # Telegram (reports they filed for them) are the resident's, not theirs.
            report_feedback.c.report_id.in_(
                select(reports.c.id).where(reports.c.reporter_id == user_id)
            ),
        )
        .order_by(report_feedback.c.id),
    )
    return {
        "reports": own,
        "report_events": events,
        "report_events_by_others": others,
        "report_attachments_sent": attachments,
        "report_supports": supports,
        "report_feedback": feedback,
    }


async def erase_reports(conn: AsyncConnection, user_id: int) -> dict[str, int]:
    """Anonymise what the community's record keeps of the person; delete their "me too"s.

    A report is the community's record and feeds the statistics (counts by
    category and state, time to resolve, on-time rate, ratings), so it stays,
    without the person:

    * their reports lose the reporter's user id (nobody can tell whose it was)
      and their description becomes :data:`civic.reports.ERASED_TEXT`: free text
      may name the person, their flat or their neighbours, and no rule can find
      every such mention, so all of it goes. The location pin goes too: an
      exact point (often where the person stood, or their door) next to the
      filing time says where they were. Category, compound, building, dates,
      states and staff's notes stay: the statistics count reports per compound
      and building (where problems recur), and a building is shared by many
      households, so it describes the problem and the community's work, not
      the person;
    * the files they attached as the reporter (photos, voice notes with their
      reports and answers) are deleted: a voice is personal data itself, a
      photo may show them or their home. Files a staff member added in office
      (progress and resolution photos, a report filed on someone's behalf) are
      the community's record of its work and stay, like their events;
    * in the events they took part in as reporter on their own reports
      (answers, "is it fixed?"), their id goes and their note becomes the
      marker; events they took part in as staff or assignee stay as they are,
      like the audit log's record of staff acts (the roles' erasure ends their
      offices), and so do events where a staff member answered for a resident
      without Telegram;
    * their feedback on their own reports keeps "fixed" and the rating (the
      satisfaction figures), without their id and with the comment replaced by the
      marker; what a staff member answered for a resident without Telegram stays,
      like the events where they did;
    * their "me too"s are deleted and each report's count lowered: a support is
      only the person's opinion, and nothing published depends on it.

    Reports staff filed on someone's behalf keep that person's name and phone:
    they are not the erasing person's data. Idempotent.
    """
    counts: dict[str, int] = {}
    own = select(reports.c.id).where(reports.c.reporter_id == user_id).scalar_subquery()
    as_reporter = select(report_events.c.id).where(
        report_events.c.actor_id == user_id,
        report_events.c.actor_role == ActorRole.REPORTER.value,
    )
    attachments = await conn.execute(
        delete(report_attachments).where(
            report_attachments.c.added_by == user_id,
            report_attachments.c.report_id.in_(own),
            report_attachments.c.event_id.is_(None)
            | report_attachments.c.event_id.in_(as_reporter),
        )
    )
    counts["report_attachments"] = attachments.rowcount or 0
    events = await conn.execute(
        update(report_events)
        .where(
            report_events.c.actor_id == user_id,
            report_events.c.actor_role == ActorRole.REPORTER.value,
            report_events.c.report_id.in_(own),
        )
        .values(
            actor_id=None,
            note=case((report_events.c.note.is_(None), None), else_=ERASED_TEXT),
        )
    )
    counts["report_events"] = events.rowcount or 0
    feedback = await conn.execute(
        update(report_feedback)
        .where(report_feedback.c.user_id == user_id, report_feedback.c.report_id.in_(own))
        .values(
            user_id=None,
            comment=case((report_feedback.c.comment.is_(None), None), else_=ERASED_TEXT),
        )
    )
    counts["report_feedback"] = feedback.rowcount or 0
    counts["report_supports"] = await _delete_supports(conn, user_id)
    anonymised = await conn.execute(
        update(reports)
        .where(reports.c.id.in_(own))
        .values(reporter_id=None, description=ERASED_TEXT, latitude=None, longitude=None)
    )
    counts["reports"] = anonymised.rowcount or 0
    return counts


async def _delete_supports(conn: AsyncConnection, user_id: int) -> int:
    """Remove the person's "me too"s and lower the counts they raised."""
    supported = (
        await conn.execute(
            select(report_supports.c.report_id).where(report_supports.c.user_id == user_id)
        )
    ).scalars()
    report_ids = list(supported.all())
    if not report_ids:
        return 0
    await conn.execute(
        update(reports)
        .where(reports.c.id.in_(report_ids))
        .values(supports=case((reports.c.supports > 0, reports.c.supports - 1), else_=0))
    )
    await conn.execute(delete(report_supports).where(report_supports.c.user_id == user_id))
    return len(report_ids)


async def _plain_rows(conn: AsyncConnection, statement: Any) -> list[dict[str, Any]]:
    return [
        {key: value.isoformat() if isinstance(value, datetime) else value for key, value in row}
        for row in (r._mapping.items() for r in await conn.execute(statement))
    ]
