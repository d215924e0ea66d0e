"""The monthly report on SQLite and PostgreSQL: the job through the real ticker, and the
sender uploading the file a row carries.

The ticker runs ``reports.monthly`` as the bot registers it
(:func:`handlers.reports_monthly.register_jobs` needs the services, so the same
handler is registered here with the real renderer); the outbox rows it queues
are read back and their workbooks opened. The sender test sends such a row to
the in-process emulator and downloads what the user received.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from bot.config import load_config_file
from bot.config.reports import working_calendar_from_config
from bot.i18n import Catalogs
from civic.jobs import DueJob, JobStatus
from civic.outbox import MessageKind, OutgoingMessage, inline_file, read_inline_file, sent_file
from civic.places import sync_places
from civic.reports_monthly import MONTHLY_KIND, ensure_monthly_job, send_monthly_reports
from civic.roles import Grant, Role, Scope, ScopeKind
from handlers.reports_monthly import MonthlyDocuments
from scheduler.registry import JobRegistry
from scheduler.ticker import Outcome, RetryPolicy, Ticker
from storage.database import Database
from storage.outbox import OutboxRow
from storage.uow import SqlUnitOfWork
from tests.contract.test_reports_filing import a_resident
from tests.contract.test_reports_stats import PLACES, a_report, file
from tests.contract.test_sender import (  # noqa: F401  (fixtures)
    client,
    counts_are,
    emulator,
    running_sender,
    timedelta_retry_after,
    until,
    users_who_wrote,
)
from tests.helpers import SHIPPED_CONFIG
from tgemu import Emulator
from tgemu.client import EmulatorClient

SHANGHAI = ZoneInfo("Asia/Shanghai")
CATALOGS = Catalogs.load(strict=True)
CALENDAR = working_calendar_from_config(load_config_file(SHIPPED_CONFIG))
SET_UP = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
DUE = datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI)
TOWNSHIP_ADMIN = 880_000_001
CHINESE_ADMIN = 880_000_002
COUNTY_ADMIN = 880_000_003


def ticker(database: Database, *, failing: str = "") -> Ticker:
    """The job as the bot registers it; the run of month ``failing`` raises, every time."""
    documents = MonthlyDocuments(CATALOGS, PLACES)
    jobs = JobRegistry()

    async def send_monthly(uow: SqlUnitOfWork, job: DueJob, now: datetime) -> None:
        await send_monthly_reports(
            uow,
            job.key,
            now,
            job_due_at=job.due_at,
            timezone="Asia/Shanghai",
            calendar=CALENDAR,
            places=PLACES,
            files=documents,
        )
        if job.key == failing:
            raise RuntimeError("the database went away mid-run")

    jobs.add(MONTHLY_KIND, send_monthly)
    return Ticker(database, jobs, retry=RetryPolicy(max_attempts=1))


async def set_up(database: Database) -> None:
    """Places, two township admins (one reads English) and a county admin; the job ensured."""
    await sync_places(database.uow(), PLACES, SET_UP)
    async with database.uow() as uow:
        for user_id, scope in (
            (TOWNSHIP_ADMIN, Scope(ScopeKind.TOWNSHIP, "YK")),
            (CHINESE_ADMIN, Scope(ScopeKind.TOWNSHIP, "YK")),
            (COUNTY_ADMIN, Scope.county()),
        ):
            await uow.roles.add(Grant(user_id, Role.ADMIN, scope, granted_at=SET_UP))
        await uow.residents.add(a_resident(TOWNSHIP_ADMIN))
        await ensure_monthly_job(uow, SET_UP, "Asia/Shanghai", CALENDAR)
        await uow.commit()


async def queued_documents(database: Database) -> list[OutboxRow]:
    async with database.uow(read_only=True) as uow:
        rows = await uow.outbox.due(DUE + timedelta(days=400), 1000)
    return [r for r in rows if r.kind is MessageKind.DOCUMENT]


async def job_status(database: Database, key: str) -> tuple[JobStatus, datetime] | None:
    async with database.uow(read_only=True) as uow:
        job = await uow.due_jobs.get(MONTHLY_KIND, key)
    return None if job is None else (job.status, job.due_at)


async def test_on_the_first_at_nine_each_township_admin_gets_each_communitys_workbook_once(
    database: Database,
) -> None:
    await set_up(database)
    await file(database, a_report(datetime(2026, 11, 3, 2, 0, tzinfo=UTC)))
    await file(
        database,
        a_report(datetime(2026, 11, 10, 2, 0, tzinfo=UTC)),
        resolve_after=timedelta(hours=6),
    )
    await file(database, a_report(datetime(2026, 12, 1, 2, 0, tzinfo=UTC)))  # December: not in it
    run = ticker(database)

    early = await run.tick(DUE - timedelta(minutes=1))
    assert early.total == 0
    assert await queued_documents(database) == []

    report = await run.tick(DUE + timedelta(seconds=30))
    assert report.count(Outcome.DONE) == 1

    rows = await queued_documents(database)
    communities = [c.code for c in PLACES.communities]
    assert sorted((r.chat_id, r.payload["document"]["filename"]) for r in rows) == sorted(
        (chat, f"reports-{code}-2026-11.xlsx")
        for chat in (TOWNSHIP_ADMIN, CHINESE_ADMIN)
        for code in communities
    )  # the county admin is not asked: the township has admins
    hd = next(
        r
        for r in rows
        if r.chat_id == TOWNSHIP_ADMIN
        and r.payload["document"]["filename"].startswith("reports-HD")
    )
    assert hd.payload["caption"] == (
        "Monthly report of Hedong Community, 2026-11 (sent automatically). Reports filed: 2; "
        "resolved: 1; on time: 50%; average rating: 4.0."  # the other was not accepted in time
    )
    inline = read_inline_file(hd.payload["document"])
    assert inline is not None
    summary = load_workbook(io.BytesIO(inline[0]))["Summary"]
    figures = {row[0]: row[1] for row in summary.iter_rows(values_only=True) if row[0]}
    assert figures["Reports filed"] == 2
    assert figures["Median time to resolve (hours)"] == 6
    chinese = next(
        r
        for r in rows
        if r.chat_id == CHINESE_ADMIN and r.payload["document"]["filename"].startswith("reports-HD")
    )
    assert str(chinese.payload["caption"]).startswith("河东社区 · 2026-11 问题反映月报")

    assert await job_status(database, "2026-11") == (JobStatus.DONE, DUE)
    assert await job_status(database, "2026-12") == (
        JobStatus.PENDING,
        datetime(2027, 1, 4, 9, 0, tzinfo=SHANGHAI),  # after New Year's Day and a weekend
    )
    assert await job_status(database, "2027-01") == (
        JobStatus.PENDING,
        datetime(2027, 2, 1, 9, 0, tzinfo=SHANGHAI),
    )
    again = await run.tick(DUE + timedelta(hours=1))
    assert again.total == 0
    assert len(await queued_documents(database)) == len(rows)


async def test_a_restart_ensures_the_job_again_without_a_second_report(database: Database) -> None:
    await set_up(database)
    run = ticker(database)
    await run.tick(DUE + timedelta(seconds=30))
    first = await queued_documents(database)

    # restarts on the 1st after the job ran, and on January's first working day before nine
    for moment in (DUE + timedelta(hours=2), datetime(2027, 1, 4, 8, 0, tzinfo=SHANGHAI)):
        async with database.uow() as uow:
            month = await ensure_monthly_job(uow, moment, "Asia/Shanghai", CALENDAR)
            await uow.commit()
        assert month.label == "2026-12"
    # December's job also finds November's documents already queued
    async with database.uow() as uow:
        await send_monthly_reports(
            uow,
            "2026-11",
            DUE + timedelta(hours=3),
            job_due_at=DUE,
            timezone="Asia/Shanghai",
            calendar=CALENDAR,
            places=PLACES,
            files=MonthlyDocuments(CATALOGS, PLACES),
        )
        await uow.commit()

    assert len(await queued_documents(database)) == len(first)
    assert await job_status(database, "2026-11") == (JobStatus.DONE, DUE)
    assert (await job_status(database, "2026-12") or (None,))[0] is JobStatus.PENDING


async def test_without_a_township_admin_the_county_admin_receives_them(database: Database) -> None:
    await sync_places(database.uow(), PLACES, SET_UP)
    async with database.uow() as uow:
        await uow.roles.add(Grant(COUNTY_ADMIN, Role.ADMIN, Scope.county(), granted_at=SET_UP))
        await ensure_monthly_job(uow, SET_UP, "Asia/Shanghai", CALENDAR)
        await uow.commit()

    await ticker(database).tick(DUE + timedelta(seconds=30))

    rows = await queued_documents(database)
    assert {r.chat_id for r in rows} == {COUNTY_ADMIN}
    assert len(rows) == len(PLACES.communities)


async def test_a_month_whose_run_fails_for_good_does_not_stop_the_next_months(
    database: Database,
) -> None:
    await set_up(database)
    run = ticker(database, failing="2026-11")

    failed = await run.tick(DUE + timedelta(seconds=30))

    assert failed.count(Outcome.FAILED) == 1
    assert (await job_status(database, "2026-11") or (None,))[0] is JobStatus.FAILED
    assert await queued_documents(database) == []  # rolled back with the run
    december_due = datetime(2027, 1, 4, 9, 0, tzinfo=SHANGHAI)
    assert await job_status(database, "2026-12") == (JobStatus.PENDING, december_due)

    december = await run.tick(december_due + timedelta(seconds=30))

    assert december.count(Outcome.DONE) == 1
    rows = await queued_documents(database)
    assert rows  # December's workbooks; November's is read with /stats
    assert all(r.payload["document"]["filename"].endswith("-2026-12.xlsx") for r in rows)
    assert await job_status(database, "2027-01") == (
        JobStatus.PENDING,
        datetime(2027, 2, 1, 9, 0, tzinfo=SHANGHAI),
    )
    assert (await job_status(database, "2027-02") or (None,))[0] is JobStatus.PENDING


async def test_an_admins_data_export_names_the_workbooks_without_carrying_them(
    database: Database,
) -> None:
    await set_up(database)
    await ticker(database).tick(DUE + timedelta(seconds=30))
    (hd,) = [
        r
        for r in await queued_documents(database)
        if r.chat_id == TOWNSHIP_ADMIN
        and r.payload["document"]["filename"] == "reports-HD-2026-11.xlsx"
    ]
    inline = read_inline_file(hd.payload["document"])
    assert inline is not None

    async with database.uow(read_only=True) as uow:
        export = await uow.personal_data.export(TOWNSHIP_ADMIN)

    documents = [m["payload"] for m in export["messages_to_you"] if "document" in m["payload"]]
    assert len(documents) == len(PLACES.communities)
    shown = next(d for d in documents if d["document"]["filename"] == "reports-HD-2026-11.xlsx")
    assert shown["document"] == {"filename": "reports-HD-2026-11.xlsx", "bytes": len(inline[0])}
    assert "base64" not in str(export["messages_to_you"])
    assert str(shown["caption"]).startswith("Monthly report of Hedong Community")

    # sent: the row keeps Telegram's file id, which the export leaves out too
    async with database.uow() as uow:
        kept = sent_file("BQACAgIAAx-secret", "reports-HD-2026-11.xlsx", len(inline[0]))
        assert not await uow.outbox.keep_sent_file(hd.id, kept)  # pending: keeps its file
        await uow.outbox.mark_sent_many([(hd.id, 77)], DUE + timedelta(minutes=1))
        assert await uow.outbox.keep_sent_file(hd.id, kept)
        await uow.commit()
    async with database.uow(read_only=True) as uow:
        export = await uow.personal_data.export(TOWNSHIP_ADMIN)
    assert "BQACAgIAAx-secret" not in str(export["messages_to_you"])
    assert {"filename": "reports-HD-2026-11.xlsx", "bytes": len(inline[0])} in [
        m["payload"]["document"] for m in export["messages_to_you"]
    ]


async def test_the_sender_uploads_the_file_a_row_carries(
    emulator: Emulator,  # noqa: F811  (the fixtures of test_sender)
    client: EmulatorClient,  # noqa: F811
    database: Database,
) -> None:
    (user,) = await users_who_wrote(client, database, 1)
    data = b"PK\x03\x04 a workbook " + bytes(range(256))
    async with database.uow() as uow:
        await uow.outbox.enqueue(
            [
                OutgoingMessage(
                    user.id,
                    {"document": inline_file(data, "reports-HD-2026-11.xlsx"), "caption": "Nov"},
                    kind=MessageKind.DOCUMENT,
                    dedupe_key="reports.monthly:2026-11:HD:to:1",
                ),
                OutgoingMessage(
                    user.id,
                    {"document": {"base64": "not base64!", "filename": "x.xlsx"}},
                    kind=MessageKind.DOCUMENT,
                ),
            ],
            datetime.now(UTC),
        )
        await uow.commit()

    async def sent_payload() -> dict[str, Any] | None:
        async with database.uow(read_only=True) as uow:
            result = await uow.connection.exec_driver_sql(
                "SELECT payload FROM outbox WHERE status = 'sent'"
            )
            rows = [json.loads(row[0]) for row in result.all()]
        return rows[0] if rows else None

    async def file_dropped() -> bool:
        payload = await sent_payload()
        return payload is not None and "base64" not in payload["document"]

    async with running_sender(emulator, database):
        await until(counts_are(database, {"sent": 1, "failed": 1}))
        await until(file_dropped)

    (received,) = [m for m in await user.messages() if m.document is not None]
    assert received.caption == "Nov"
    assert received.document is not None
    assert received.document["file_name"] == "reports-HD-2026-11.xlsx"
    assert await client.download(received.document["file_id"]) == data
    # once Telegram holds the file, the sent row keeps its file id, name and size only
    assert await sent_payload() == {
        "document": sent_file(received.document["file_id"], "reports-HD-2026-11.xlsx", len(data)),
        "caption": "Nov",
    }
    async with database.uow(read_only=True) as uow:
        result = await uow.connection.exec_driver_sql(
            "SELECT error, attempts FROM outbox WHERE status = 'failed'"
        )
        failures = [tuple(row) for row in result.all()]
    assert [(str(error).split(":")[0], attempts) for error, attempts in failures] == [
        ("BadInlineFile", 1)
    ]
