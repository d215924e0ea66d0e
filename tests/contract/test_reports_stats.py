"""uow.reports.in_period on SQLite and PostgreSQL: a month's reports with their events and
feedback, in a few queries."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event as sa_event

from bot.config import load_config_file, places_from_config
from civic.places import CategoryType, sync_places
from civic.reports import (
    ActorRole,
    Feedback,
    Report,
    ReportAction,
    Reporter,
    ReportEvent,
    ReportState,
)
from civic.reports_routing import Assignee, AssigneeKind
from civic.reports_stats import community_stats, month_period
from storage.database import Database
from tests.helpers import SHIPPED_CONFIG

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
PLACES = places_from_config(load_config_file(SHIPPED_CONFIG))
NOVEMBER = month_period(2026, 11, "Asia/Shanghai")
ANN = 777_000_001


@pytest.fixture
async def db(database: Database) -> Database:
    await sync_places(database.uow(), PLACES, NOW)
    return database


def a_report(created: datetime, community: str = "HD") -> Report:
    return Report(
        community_code=community,
        compound_code="HD-02" if community == "HD" else "CB-01",
        category_code="garbage",
        category_type=CategoryType.COMPLAINT,
        description="Rubbish",
        reporter=Reporter(user_id=ANN),
        assignee=Assignee(AssigneeKind.COMMUNITY, community),
        created_at=created,
        accept_by=created + timedelta(days=1),
        resolve_by=created + timedelta(days=7),
    )


async def file(db: Database, report: Report, *, resolve_after: timedelta | None = None) -> int:
    """Store a report with its filing event; optionally accepted, resolved and rated."""
    async with db.uow() as uow:
        number = await uow.reports.next_number(report.community_code, 2026)
        stored = await uow.reports.add(replace(report, number=number))
        assert stored.id is not None
        at = report.created_at
        await uow.reports.add_event(
            ReportEvent(
                stored.id, None, ActorRole.REPORTER, at, ReportState.SUBMITTED, actor_id=ANN
            )
        )
        if resolve_after is not None:
            await uow.reports.add_event(
                ReportEvent(
                    stored.id, ReportAction.ACCEPT, ActorRole.STAFF, at, ReportState.ACCEPTED
                )
            )
            resolved = await uow.reports.add_event(
                ReportEvent(
                    stored.id,
                    ReportAction.RESOLVE,
                    ActorRole.STAFF,
                    at + resolve_after,
                    ReportState.RESOLVED,
                )
            )
            await uow.reports.save(
                replace(stored, state=ReportState.RESOLVED), ReportState.SUBMITTED
            )
            await uow.reports.add_feedback(
                Feedback(stored.id, resolved, True, at + resolve_after, user_id=ANN, rating=4)
            )
        await uow.commit()
    return stored.id


async def test_a_month_holds_the_communitys_reports_filed_in_it_with_their_history(
    db: Database,
) -> None:
    first = await file(
        db, a_report(NOVEMBER.start), resolve_after=timedelta(hours=6)
    )  # 00:00 on 1 November in Shanghai: in
    second = await file(db, a_report(NOVEMBER.end - timedelta(seconds=1)))
    await file(db, a_report(NOVEMBER.end))  # 00:00 on 1 December: out
    await file(db, a_report(NOVEMBER.start - timedelta(seconds=1)))  # October: out
    await file(db, a_report(NOW, community="CB"))  # another community: out

    async with db.uow(read_only=True) as uow:
        found = await uow.reports.in_period("HD", NOVEMBER.start, NOVEMBER.end)

    assert [h.report.id for h in found] == [first, second]
    resolved, waiting = found
    assert [e.kind for e in resolved.events] == [None, ReportAction.ACCEPT, ReportAction.RESOLVE]
    assert [(f.fixed, f.rating) for f in resolved.feedback] == [(True, 4)]
    assert [e.kind for e in waiting.events] == [None]
    assert waiting.feedback == ()

    stats = community_stats("HD", found, NOVEMBER, NOW)
    assert (stats.total, stats.median_hours, stats.average_rating) == (2, 6, 4)


async def test_an_empty_month_is_an_empty_list(db: Database) -> None:
    async with db.uow(read_only=True) as uow:
        assert await uow.reports.in_period("HD", NOVEMBER.start, NOVEMBER.end) == []


async def test_the_read_takes_three_queries_however_many_reports(db: Database) -> None:
    for day in range(6):
        await file(
            db,
            a_report(NOVEMBER.start + timedelta(days=day, hours=3)),
            resolve_after=timedelta(hours=day + 1),
        )
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    sa_event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with db.uow(read_only=True) as uow:
            found = await uow.reports.in_period("HD", NOVEMBER.start, NOVEMBER.end)
    finally:
        sa_event.remove(db.engine.sync_engine, "before_cursor_execute", count)

    assert len(found) == 6
    assert all(len(h.events) == 3 and len(h.feedback) == 1 for h in found)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 3
