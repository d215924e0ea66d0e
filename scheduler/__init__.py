"""The scheduler: one tick that asks storage what is due and calls services.

Jobs live in the ``due_jobs`` table, not in APScheduler: services schedule them
by ``(kind, key)`` (:class:`civic.ports.DueJobsRepository`), the tick
(:class:`scheduler.ticker.Ticker`) runs each exactly once or skips it when it
has become useless, and APScheduler only calls the tick
(:mod:`scheduler.jobqueue`), so a restart never runs a due item twice (spec 01
and 06, R4).

Each capability registers its job kinds next to its Telegram handlers
(:func:`handlers.register_jobs`), because a job renders messages with the same
catalogs and buttons as they do.
"""

from __future__ import annotations

from scheduler.registry import JobHandler, JobRegistry

__all__ = ["JobHandler", "JobRegistry"]
