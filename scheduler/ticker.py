"""The tick: run every due job exactly once, skip the useless ones, retry the failing ones.

Each job runs in its own unit of work: claim it, run its handler, mark it done,
commit — all four or none (quality bar R4):

- the handler's writes (outbox rows, a ballot's result) and the job's ``done``
  commit together, so a committed job has had its whole effect, exactly once;
- a crash before the commit leaves no trace: the job is still pending and runs
  again from scratch on the next tick after the restart;
- a second ticker on the same database (two processes by mistake) cannot claim a
  job the first one holds or has finished (:meth:`storage.due_jobs.SqlDueJobsRepository.claim`);
- a job past its ``stale_after`` (a reminder for a meeting that is over) is
  marked skipped without running: after downtime nothing is sent late;
- a handler that raises is rolled back; a new transaction records the error and
  keeps the job pending for a retry with backoff, until ``max_attempts``, then
  marks it failed.

The tick takes ``now`` as an argument, so tests and the emulator clock decide
what time it is.
"""

from __future__ import annotations

import logging
from collections.abc import Container
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from civic.jobs import DueJob, JobStatus
from scheduler.registry import JobRegistry
from storage.database import Database

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 100


class Step(StrEnum):
    """What the ticker does with a claimed job."""

    RUN = "run"
    SKIP_STALE = "skip_stale"
    FAIL_UNKNOWN = "fail_unknown"


def decide(job: DueJob, now: datetime, known_kinds: Container[str]) -> Step:
    """Run it, unless it is no longer useful (skipped) or nobody knows its kind (failed).

    Staleness comes first: a useless job is skipped whatever its kind.
    """
    if job.is_stale(now):
        return Step.SKIP_STALE
    if job.kind not in known_kinds:
        return Step.FAIL_UNKNOWN
    return Step.RUN


@dataclass(frozen=True)
class RetryPolicy:
    """How a job whose handler raised is retried: doubling delays, then given up."""

    max_attempts: int = 5
    first_delay_seconds: float = 60.0
    max_delay_seconds: float = 3600.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts is at least 1")
        if not 0 < self.first_delay_seconds <= self.max_delay_seconds:
            raise ValueError("0 < first_delay_seconds <= max_delay_seconds")

    def retry_at(self, attempts: int, now: datetime) -> datetime | None:
        """When to try again after ``attempts`` failed tries, or ``None``: give up."""
        if attempts >= self.max_attempts:
            return None
        delay = self.first_delay_seconds * 2 ** min(max(attempts - 1, 0), 32)
        return now + timedelta(seconds=min(delay, self.max_delay_seconds))


class Outcome(StrEnum):
    """How one job ended in this tick."""

    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"
    RETRYING = "retrying"
    TAKEN = "taken"
    """Another ticker had it, had finished it, or it was moved later since it was read."""


@dataclass
class TickReport:
    """What one tick did, by outcome; ``full``: the batch was full, more may be due."""

    outcomes: dict[Outcome, int] = field(default_factory=dict)
    full: bool = False

    def count(self, outcome: Outcome) -> int:
        return self.outcomes.get(outcome, 0)

    def add(self, outcome: Outcome) -> None:
        self.outcomes[outcome] = self.count(outcome) + 1

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())


def describe(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class Ticker:
    """Runs due jobs against one database; safe to run in several processes at once."""

    def __init__(
        self,
        database: Database,
        registry: JobRegistry,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        retry: RetryPolicy | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size is at least 1")
        self._database = database
        self._registry = registry
        self._batch_size = batch_size
        self._retry = retry or RetryPolicy()
        self._stopping = False

    def stop(self) -> None:
        """Finish the job in hand and start no other (shutdown); the rest stay pending."""
        self._stopping = True

    async def tick(self, now: datetime) -> TickReport:
        """Run the jobs due at ``now``, at most one batch, the oldest first."""
        async with self._database.uow(read_only=True) as uow:
            jobs = await uow.due_jobs.due(now, self._batch_size)
        report = TickReport(full=len(jobs) >= self._batch_size)
        for job in jobs:
            if self._stopping:
                break
            report.add(await self.run_job(job.id, now))
        if report.total:
            log.info(
                "scheduler tick: %s%s",
                ", ".join(f"{o.value} {n}" for o, n in sorted(report.outcomes.items())),
                "; more are due" if report.full else "",
            )
        return report

    async def run_job(self, job_id: int, now: datetime) -> Outcome:
        """Claim, run and finish one job in one transaction; see the module docstring.

        Errors of the database itself propagate (the job stays pending); only an
        exception from the handler counts as a failed attempt.
        """
        failure: Exception | None = None
        async with self._database.uow() as uow:
            job = await uow.due_jobs.claim(job_id, now)
            if job is None:
                return Outcome.TAKEN
            step = decide(job, now, self._registry)
            if step is Step.SKIP_STALE:
                await uow.due_jobs.finish(job.id, JobStatus.SKIPPED, now, "stale")
                await uow.commit()
                log.info("job %s %s skipped: stale since %s", job.kind, job.key, job.stale_after)
                return Outcome.SKIPPED
            handler = self._registry.get(job.kind)
            if step is Step.FAIL_UNKNOWN or handler is None:
                error = f"no handler is registered for the job kind {job.kind!r}"
                await uow.due_jobs.finish(job.id, JobStatus.FAILED, now, error)
                await uow.commit()
                log.error("job %s %s failed: %s", job.kind, job.key, error)
                return Outcome.FAILED
            try:
                await handler(uow, job, now)
            except Exception as error:
                failure = error  # leaving the block without commit rolls its writes back
            else:
                await uow.due_jobs.finish(job.id, JobStatus.DONE, now)
                await uow.commit()
                return Outcome.DONE
        assert failure is not None  # every other path returned inside the block
        return await self._record_failure(job, failure, now)

    async def _record_failure(self, job: DueJob, failure: Exception, now: datetime) -> Outcome:
        attempts = job.attempts + 1
        retry_at = self._retry.retry_at(attempts, now)
        error = describe(failure)
        async with self._database.uow() as uow:
            if retry_at is None:
                await uow.due_jobs.finish(job.id, JobStatus.FAILED, now, error)
            else:
                await uow.due_jobs.retry_later(job.id, retry_at, error)
            await uow.commit()
        if retry_at is None:
            log.error(
                "job %s %s failed for good after %d attempts: %s",
                job.kind,
                job.key,
                attempts,
                error,
                exc_info=failure,
            )
            return Outcome.FAILED
        log.warning(
            "job %s %s failed (attempt %d of %d), retrying at %s: %s",
            job.kind,
            job.key,
            attempts,
            self._retry.max_attempts,
            retry_at.isoformat(),
            error,
            exc_info=failure,
        )
        return Outcome.RETRYING
