"""The scheduler: one tick that asks storage what is due and calls services.

Jobs live in the ``due_jobs`` table, not in APScheduler: services schedule them
by ``(kind, key)`` (:class:`civic.ports.DueJobsRepository`), the tick
(:class:`scheduler.ticker.Ticker`) runs each exactly once or skips it when it
has become useless, and APScheduler only calls the tick
(:mod:`scheduler.jobqueue`), so a restart never runs a due item twice (spec 01
and 06, R4).
"""

from __future__ import annotations

from scheduler.registry import JobHandler, JobRegistry


def register_all(registry: JobRegistry) -> None:
    """Register every capability's job kinds, in one place.

    Each capability that schedules work adds a ``register(registry)`` call here
    (``sessions``, ``ballots``, ...), next to its handlers' in ``handlers``.
    """


__all__ = ["JobHandler", "JobRegistry", "register_all"]
