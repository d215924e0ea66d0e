"""Process updates of different users concurrently and each user's strictly in order.

python-telegram-bot's ``concurrent_updates(True)`` runs up to 256 updates at once
with no per-user order, which breaks conversations; sequential processing caps
throughput at one update per Bot API round trip (telegram-facts.md). This
processor chains each sender's updates and bounds how many run at once, because
PTB's HTTP pool slows down sharply with hundreds of requests in flight.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

log = logging.getLogger(__name__)

QUEUED_LIMIT = 100_000
"""PTB's own semaphore only bounds queued work here; :attr:`in_flight` bounds running work."""

DoneCallback = Callable[[object, BaseException | None], Awaitable[None]]


def sender_key(update: object) -> int | None:
    """Whose order an update belongs to: its user, else its chat, else nobody's."""
    if isinstance(update, Update):
        if update.effective_user is not None:
            return update.effective_user.id
        if update.effective_chat is not None:
            return update.effective_chat.id
    return None


class PerUserOrderedProcessor(BaseUpdateProcessor):
    """Users concurrently, each user's updates in arrival order, at most ``in_flight`` at once.

    Each update waits for the previous update of the same sender to finish (a
    chain of futures keyed by sender), then for a free slot. Waiting for the
    predecessor happens before taking a slot, so a user with a long queue never
    holds slots that other users could use.
    """

    def __init__(self, in_flight: int, on_done: DoneCallback | None = None) -> None:
        super().__init__(max_concurrent_updates=QUEUED_LIMIT)
        self.in_flight = in_flight
        self._slots = asyncio.Semaphore(in_flight)
        self._tails: dict[object, asyncio.Future[None]] = {}
        self._anonymous = itertools.count()
        self.on_done = on_done
        """Told of each finished update; the runner points it at the inbox feeder."""

    async def initialize(self) -> None:
        """Nothing to allocate: the chains are created as updates arrive."""

    async def shutdown(self) -> None:
        """Nothing to free: the application waits for running updates itself."""

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = sender_key(update)
        chain_key: object = key if key is not None else ("anonymous", next(self._anonymous))
        previous = self._tails.get(chain_key)
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tails[chain_key] = mine
        started = False
        error: BaseException | None = None
        try:
            if previous is not None:
                await previous
            async with self._slots:
                started = True
                await coroutine
        except asyncio.CancelledError as cancelled:
            error = cancelled  # shutting down: the update stays pending in the inbox
            raise
        except Exception as raised:
            error = raised
        finally:
            if not started and isinstance(coroutine, Coroutine):
                coroutine.close()  # cancelled before it ran: no "never awaited" warning
            mine.set_result(None)
            if self._tails.get(chain_key) is mine:
                del self._tails[chain_key]
            if self.on_done is not None:
                try:
                    await self.on_done(update, error)
                except Exception:
                    log.exception("recording the outcome of an update failed")
