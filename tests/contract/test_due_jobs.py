"""The due-jobs contract and the ticker on both databases: each due job runs exactly once.

Quality bar R4: the bot down across scheduled moments runs each due job once on
restart and skips the ones no longer useful; a crash mid-run leaves no partial
writes; two tickers on one database never run a job twice.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from civic.jobs import DueJob, JobStatus
from civic.outbox import OutgoingMessage
from scheduler.registry import JobRegistry
from scheduler.ticker import Outcome, RetryPolicy, Ticker
from storage.database import Database
from storage.uow import SqlUnitOfWork

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


async def schedule(
    database: Database,
    key: str,
    due_at: datetime,
    *,
    kind: str = "tests.note",
    stale_after: datetime | None = None,
    chat_id: int = 1,
) -> None:
    async with database.uow() as uow:
        await uow.due_jobs.schedule(
            kind, key, due_at, NOW, stale_after=stale_after, payload={"chat_id": chat_id}
        )
        await uow.commit()


async def job(database: Database, key: str, kind: str = "tests.note") -> DueJob:
    async with database.uow(read_only=True) as uow:
        found = await uow.due_jobs.get(kind, key)
    assert found is not None
    return found


async def outbox_texts(database: Database) -> list[str]:
    async with database.uow(read_only=True) as uow:
        rows = await uow.outbox.due(NOW + timedelta(days=365), 1000)
    return sorted(str(r.payload["text"]) for r in rows)


class Notes:
    """A job kind whose handler writes one outbox row per run, and counts its runs."""

    def __init__(self, *, fail_times: int = 0, delay: float = 0.0) -> None:
        self.runs: Counter[str] = Counter()
        self.fail_times = fail_times
        self.delay = delay

    async def __call__(self, uow: SqlUnitOfWork, job: DueJob, now: datetime) -> None:
        self.runs[job.key] += 1
        await uow.outbox.enqueue(
            [OutgoingMessage(int(job.payload["chat_id"]), {"text": f"note {job.key}"})], now
        )
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.runs[job.key] <= self.fail_times:
            raise RuntimeError(f"handler failed on run {self.runs[job.key]}")

    def registry(self) -> JobRegistry:
        registry = JobRegistry()
        registry.add("tests.note", self)
        return registry


# -- the repository ----------------------------------------------------------------------


async def test_scheduling_a_key_twice_keeps_one_job_and_moves_it_while_pending(
    database: Database,
) -> None:
    async with database.uow() as uow:
        assert await uow.due_jobs.schedule("tests.note", "k", NOW, NOW, payload={"n": 1})
        assert await uow.due_jobs.schedule(
            "tests.note", "k", NOW + MINUTE, NOW, stale_after=NOW + 2 * MINUTE, payload={"n": 2}
        )
        await uow.commit()

    moved = await job(database, "k")
    assert (moved.due_at, moved.stale_after, dict(moved.payload)) == (
        NOW + MINUTE,
        NOW + 2 * MINUTE,
        {"n": 2},
    )
    async with database.uow(read_only=True) as uow:
        assert await uow.due_jobs.counts() == {"pending": 1}
        assert await uow.due_jobs.due(NOW, 10) == []


async def test_a_finished_job_is_left_alone_when_scheduled_again(database: Database) -> None:
    await schedule(database, "k", NOW)
    async with database.uow() as uow:
        assert await uow.due_jobs.claim((await job(database, "k")).id, NOW) is not None
        assert await uow.due_jobs.finish((await job(database, "k")).id, JobStatus.DONE, NOW)
        await uow.commit()

    async with database.uow() as uow:
        assert not await uow.due_jobs.schedule("tests.note", "k", NOW + MINUTE, NOW)
        await uow.commit()

    finished = await job(database, "k")
    assert (finished.status, finished.due_at, finished.attempts) == (JobStatus.DONE, NOW, 1)


async def test_reschedule_and_cancel_act_on_pending_jobs_only(database: Database) -> None:
    await schedule(database, "moved", NOW)
    await schedule(database, "cancelled", NOW)
    async with database.uow() as uow:
        assert await uow.due_jobs.reschedule("tests.note", "moved", NOW + MINUTE, stale_after=None)
        assert await uow.due_jobs.cancel("tests.note", "cancelled", NOW)
        assert not await uow.due_jobs.cancel("tests.note", "cancelled", NOW)
        assert not await uow.due_jobs.reschedule("tests.note", "cancelled", NOW, stale_after=None)
        assert not await uow.due_jobs.reschedule("tests.note", "absent", NOW, stale_after=None)
        # A cancelled job stays cancelled when a service re-states its schedule.
        assert not await uow.due_jobs.schedule("tests.note", "cancelled", NOW, NOW)
        await uow.commit()

    assert (await job(database, "moved")).due_at == NOW + MINUTE
    cancelled = await job(database, "cancelled")
    assert (cancelled.status, cancelled.error) == (JobStatus.SKIPPED, "cancelled")


async def test_due_lists_pending_jobs_whose_moment_has_come_oldest_first(
    database: Database,
) -> None:
    await schedule(database, "later", NOW + MINUTE)
    await schedule(database, "second", NOW - MINUTE)
    await schedule(database, "first", NOW - 2 * MINUTE)
    await schedule(database, "now", NOW)

    async with database.uow(read_only=True) as uow:
        assert [j.key for j in await uow.due_jobs.due(NOW, 10)] == ["first", "second", "now"]
        assert [j.key for j in await uow.due_jobs.due(NOW, 2)] == ["first", "second"]


async def test_a_job_claimed_and_finished_cannot_be_claimed_again(database: Database) -> None:
    await schedule(database, "k", NOW)
    job_id = (await job(database, "k")).id

    async with database.uow() as uow:
        assert await uow.due_jobs.claim(job_id, NOW) is not None
        await uow.rollback()  # a run that did not commit leaves the job claimable
    async with database.uow() as uow:
        claimed = await uow.due_jobs.claim(job_id, NOW)
        assert claimed is not None
        assert claimed.key == "k"
        await uow.due_jobs.finish(job_id, JobStatus.DONE, NOW)
        await uow.commit()
    async with database.uow() as uow:
        assert await uow.due_jobs.claim(job_id, NOW) is None


async def test_a_job_not_yet_due_cannot_be_claimed(database: Database) -> None:
    await schedule(database, "k", NOW + MINUTE)
    async with database.uow() as uow:
        assert await uow.due_jobs.claim((await job(database, "k")).id, NOW) is None


async def test_a_job_held_by_an_open_transaction_is_never_claimed_by_another(
    database: Database,
) -> None:
    """PostgreSQL skips the locked row at once; SQLite makes the second writer wait its turn."""
    await schedule(database, "k", NOW)
    job_id = (await job(database, "k")).id

    async def claim_elsewhere() -> DueJob | None:
        async with database.uow() as second:
            return await second.due_jobs.claim(job_id, NOW)

    async with database.uow() as first:
        assert await first.due_jobs.claim(job_id, NOW) is not None
        elsewhere = asyncio.create_task(claim_elsewhere())
        await asyncio.sleep(0.2)
        await first.due_jobs.finish(job_id, JobStatus.DONE, NOW)
        await first.commit()
    assert await asyncio.wait_for(elsewhere, 15) is None


async def test_kinds_and_keys_that_storage_cannot_hold_are_refused(database: Database) -> None:
    async with database.uow() as uow:
        with pytest.raises(ValueError, match=r"capability\.step"):
            await uow.due_jobs.schedule("Sessions Remind", "k", NOW, NOW)
        with pytest.raises(ValueError, match="1 to 160"):
            await uow.due_jobs.schedule("sessions.remind", "k" * 161, NOW, NOW)


# -- the ticker on a real database ---------------------------------------------------------


async def test_each_due_job_runs_once_and_commits_with_what_its_handler_wrote(
    database: Database,
) -> None:
    notes = Notes()
    ticker = Ticker(database, notes.registry())
    await schedule(database, "a", NOW - MINUTE)
    await schedule(database, "b", NOW)
    await schedule(database, "future", NOW + MINUTE)

    report = await ticker.tick(NOW)
    again = await ticker.tick(NOW)

    assert report.count(Outcome.DONE) == 2
    assert again.total == 0
    assert notes.runs == {"a": 1, "b": 1}
    assert await outbox_texts(database) == ["note a", "note b"]
    done = await job(database, "a")
    assert (done.status, done.attempts, done.error) == (JobStatus.DONE, 1, None)
    assert (await job(database, "future")).status is JobStatus.PENDING


async def test_a_handler_that_raises_writes_nothing_and_is_retried_with_backoff(
    database: Database,
) -> None:
    notes = Notes(fail_times=1)
    ticker = Ticker(database, notes.registry(), retry=RetryPolicy(first_delay_seconds=60))
    await schedule(database, "k", NOW)

    assert (await ticker.tick(NOW)).count(Outcome.RETRYING) == 1
    failed_once = await job(database, "k")
    assert await outbox_texts(database) == []  # the handler's row was rolled back
    assert failed_once.status is JobStatus.PENDING
    assert failed_once.attempts == 1
    assert failed_once.due_at == NOW + MINUTE
    assert failed_once.error == "RuntimeError: handler failed on run 1"

    assert (await ticker.tick(NOW + 30 * timedelta(seconds=1))).total == 0  # not yet
    assert (await ticker.tick(NOW + MINUTE)).count(Outcome.DONE) == 1
    assert await outbox_texts(database) == ["note k"]
    done = await job(database, "k")
    assert (done.status, done.attempts) == (JobStatus.DONE, 2)


async def test_a_job_that_keeps_failing_is_given_up_after_max_attempts(
    database: Database,
) -> None:
    notes = Notes(fail_times=99)
    retry = RetryPolicy(max_attempts=3, first_delay_seconds=10, max_delay_seconds=15)
    ticker = Ticker(database, notes.registry(), retry=retry)
    await schedule(database, "k", NOW)

    outcomes = []
    moment = NOW
    for _ in range(5):
        report = await ticker.tick(moment)
        outcomes += [o for o, n in report.outcomes.items() for _ in range(n)]
        moment += timedelta(seconds=15)

    assert outcomes == [Outcome.RETRYING, Outcome.RETRYING, Outcome.FAILED]
    failed = await job(database, "k")
    assert (failed.status, failed.attempts) == (JobStatus.FAILED, 3)
    assert failed.error == "RuntimeError: handler failed on run 3"
    assert await outbox_texts(database) == []


class Crash(BaseException):
    """Stands for the process dying mid-run: nothing after it runs, not even error handling."""


async def test_a_crash_mid_run_leaves_the_job_pending_to_run_again_from_scratch(
    database: Database,
) -> None:
    crashing = True

    async def note_then_crash(uow: SqlUnitOfWork, job: DueJob, now: datetime) -> None:
        await uow.outbox.enqueue([OutgoingMessage(1, {"text": f"note {job.key}"})], now)
        if crashing:
            raise Crash

    registry = JobRegistry()
    registry.add("tests.note", note_then_crash)
    await schedule(database, "k", NOW)

    with pytest.raises(Crash):
        await Ticker(database, registry).tick(NOW)

    untouched = await job(database, "k")
    assert (untouched.status, untouched.attempts, untouched.due_at) == (JobStatus.PENDING, 0, NOW)
    assert await outbox_texts(database) == []

    crashing = False  # the restarted process
    restarted = Database(database.url)
    try:
        assert (await Ticker(restarted, registry).tick(NOW + MINUTE)).count(Outcome.DONE) == 1
    finally:
        await restarted.dispose()
    assert await outbox_texts(database) == ["note k"]


async def test_a_stale_job_is_skipped_without_running(database: Database) -> None:
    notes = Notes()
    await schedule(database, "stale", NOW - 2 * MINUTE, stale_after=NOW - MINUTE)
    await schedule(database, "just_in_time", NOW - 2 * MINUTE, stale_after=NOW)

    report = await Ticker(database, notes.registry()).tick(NOW)

    assert (report.count(Outcome.SKIPPED), report.count(Outcome.DONE)) == (1, 1)
    assert notes.runs == {"just_in_time": 1}
    skipped = await job(database, "stale")
    assert (skipped.status, skipped.error) == (JobStatus.SKIPPED, "stale")


async def test_a_job_of_an_unknown_kind_fails_and_says_why(database: Database) -> None:
    await schedule(database, "k", NOW, kind="tests.retired")

    report = await Ticker(database, Notes().registry()).tick(NOW)

    assert report.count(Outcome.FAILED) == 1
    failed = await job(database, "k", kind="tests.retired")
    assert failed.status is JobStatus.FAILED
    assert failed.error is not None
    assert "tests.retired" in failed.error


async def test_a_job_moved_later_after_it_was_read_is_not_run_early(database: Database) -> None:
    notes = Notes()
    ticker = Ticker(database, notes.registry())
    await schedule(database, "k", NOW)
    async with database.uow(read_only=True) as uow:
        (read,) = await uow.due_jobs.due(NOW, 10)
    await schedule(database, "k", NOW + MINUTE)

    assert await ticker.run_job(read.id, NOW) is Outcome.TAKEN
    assert notes.runs == {}


async def test_a_tick_takes_at_most_one_batch(database: Database) -> None:
    notes = Notes()
    ticker = Ticker(database, notes.registry(), batch_size=3)
    for n in range(5):
        await schedule(database, f"k{n}", NOW - n * MINUTE)

    first = await ticker.tick(NOW)
    second = await ticker.tick(NOW)

    assert (first.count(Outcome.DONE), first.full) == (3, True)
    assert (second.count(Outcome.DONE), second.full) == (2, False)
    assert set(notes.runs) == {"k4", "k3", "k2", "k1", "k0"}


async def test_after_downtime_each_overdue_job_runs_once_and_useless_ones_are_skipped(
    database: Database,
) -> None:
    """R4: scheduled moments pass while the bot is down; on restart each runs once."""
    hour = timedelta(hours=1)
    await schedule(database, "session.create", NOW + hour)  # no stale_after: always useful
    await schedule(database, "reminder.48h", NOW + 2 * hour, stale_after=NOW + 3 * hour)
    await schedule(database, "reminder.2h", NOW + 4 * hour, stale_after=NOW + 9 * hour)
    await schedule(database, "ballot.close", NOW + 5 * hour)
    await schedule(database, "tomorrow", NOW + 30 * hour)

    # The bot was down from NOW until NOW + 8 h; a new process starts.
    restarted = Database(database.url)
    notes = Notes()
    try:
        ticker = Ticker(restarted, notes.registry())
        first = await ticker.tick(NOW + 8 * hour)
        later = [await ticker.tick(NOW + 8 * hour + n * MINUTE) for n in range(1, 4)]
    finally:
        await restarted.dispose()

    assert notes.runs == {"session.create": 1, "reminder.2h": 1, "ballot.close": 1}
    assert (first.count(Outcome.DONE), first.count(Outcome.SKIPPED)) == (3, 1)
    assert all(r.total == 0 for r in later)
    assert (await job(database, "reminder.48h")).status is JobStatus.SKIPPED
    assert await outbox_texts(database) == [
        "note ballot.close",
        "note reminder.2h",
        "note session.create",
    ]


async def test_two_tickers_on_one_database_run_each_job_once(database: Database) -> None:
    """Two processes started by mistake: separate engines, racing over the same jobs."""
    count = 40
    for n in range(count):
        await schedule(database, f"k{n:02}", NOW - timedelta(seconds=n))
    notes = Notes(delay=0.002)
    other = Database(database.url)
    try:
        reports = await asyncio.gather(
            Ticker(database, notes.registry()).tick(NOW),
            Ticker(other, notes.registry()).tick(NOW),
        )
    finally:
        await other.dispose()

    assert sum(r.count(Outcome.DONE) for r in reports) == count
    assert sum(r.count(Outcome.TAKEN) for r in reports) > 0  # they did race
    assert set(notes.runs.values()) == {1}
    assert len(notes.runs) == count
    assert len(await outbox_texts(database)) == count
    async with database.uow(read_only=True) as uow:
        assert await uow.due_jobs.counts() == {"done": count}


async def test_two_tickers_racing_for_every_single_job_run_each_once(database: Database) -> None:
    """Both have read the same due jobs; each job is then claimed by both at the same moment."""
    count = 20
    for n in range(count):
        await schedule(database, f"k{n:02}", NOW)
    async with database.uow(read_only=True) as uow:
        ids = [j.id for j in await uow.due_jobs.due(NOW, count)]
    notes = Notes(delay=0.002)
    other = Database(database.url)
    try:
        tickers = (Ticker(database, notes.registry()), Ticker(other, notes.registry()))
        outcomes = await asyncio.gather(*(t.run_job(i, NOW) for i in ids for t in tickers))
    finally:
        await other.dispose()

    assert Counter(outcomes) == {Outcome.DONE: count, Outcome.TAKEN: count}
    assert set(notes.runs.values()) == {1}
    assert len(await outbox_texts(database)) == count
