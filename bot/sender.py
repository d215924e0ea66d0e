"""The outbox sender: delivers queued notifications and broadcasts (spec 01, Sending).

Services write :class:`~civic.outbox.OutgoingMessage` rows in the same unit of
work as the change that causes them; this loop reads due rows and sends them
through the bot, whose :class:`~bot.ratelimit.PriorityRateLimiter` paces every
request (direct replies first, then notifications, then broadcasts). Each
outcome is written back to the row:

* sent: ``sent`` with Telegram's message id; a row that carried its own file
  (:func:`civic.outbox.inline_file`) then keeps Telegram's file id instead of the
  bytes, so sent rows do not hold files for ever;
* 429: the limiter pauses the chat (or everything) and re-raises; the row stays
  pending, not before ``retry_after`` (the same row is retried, no new one);
* 5xx and network errors: pending with an exponential backoff
  (:func:`civic.outbox.retry_delay_seconds`), failed after :data:`MAX_ATTEMPTS`;
* 403 (blocked, deactivated) and 400 "chat not found": the chat is marked
  unreachable and its pending rows are closed; an unblocking ``my_chat_member``
  update makes it reachable again (:func:`record_reachable`);
* other 400s: ``failed`` with Telegram's description, never retried;
* a document row whose own file (:func:`civic.outbox.inline_file`) cannot be
  decoded: ``failed``, never retried.

A row stays pending until its outcome is committed, so a crash can send a row
twice (at most :attr:`OutboxSender.window` rows are in flight) but never lose
one. At most one row per chat is in flight, so a chat gets its messages in the
order they were queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from telegram import InlineKeyboardMarkup, InputFile, Message
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.batching import GroupCommit
from bot.ratelimit import retry_after_seconds
from civic.outbox import (
    BadInlineFile,
    MessageKind,
    read_inline_file,
    retry_delay_seconds,
    sent_file,
)
from storage.database import Database
from storage.outbox import OutboxRow

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

MAX_ATTEMPTS = 40
"""Failed tries (5xx, network) before a row is given up: about three hours of backoff."""

UNREACHABLE_400 = ("chat not found", "user not found", "peer_id_invalid")
"""400 descriptions that mean the chat is gone, which the spec treats like a 403."""

STUCK_CHECK_SECONDS = 60.0


async def record_unreachable(database: Database, chat_id: int, now: datetime, reason: str) -> int:
    """Mark a chat unreachable and close its pending rows; return how many were closed."""
    async with database.uow() as uow:
        await uow.chats.mark_unreachable(chat_id, now, reason)
        closed = await uow.outbox.mark_chat_unreachable(chat_id, now, reason)
        await uow.commit()
    return closed


async def record_reachable(database: Database, chat_id: int) -> None:
    """The user allowed the bot again (``my_chat_member``): send to them again."""
    async with database.uow() as uow:
        await uow.chats.mark_reachable(chat_id)
        await uow.commit()


class OutboxSender:
    """Sends due outbox rows, at most ``window`` at once and one per chat at a time."""

    def __init__(
        self,
        bot: ExtBot[Any],
        database: Database,
        *,
        clock: Clock,
        window: int = 64,
        poll_seconds: float = 1.0,
        stuck_after_seconds: float = 600.0,
        backoff: Callable[[int], float] = retry_delay_seconds,
    ) -> None:
        self._bot = bot
        self._database = database
        self._clock = clock
        self.window = window
        self._poll_seconds = poll_seconds
        self._stuck_after = stuck_after_seconds
        self._backoff = backoff
        self._sent = GroupCommit(self._record_sent)
        """Deliveries that finish together are recorded in one transaction."""
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._chats_in_flight: set[int] = set()
        self._last_stuck_check = 0.0

    def wake(self) -> None:
        """Look for due rows now (called after a service queued something)."""
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def run(self) -> None:
        """Deliver until :meth:`stop`; rows queued by other processes are found by polling."""
        while not self._stopping.is_set():
            self._wake.clear()
            started = 0
            try:
                started = await self._start_due()
                await self._warn_if_stuck()
            except Exception:
                log.exception("reading the outbox failed; retrying")
            if started == 0 or self.in_flight >= self.window:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self._poll_seconds)

    async def drain(self, seconds: float) -> bool:
        """Wait for rows being sent; cancel those still waiting after ``seconds``.

        A cancelled row stays pending in the database and is sent after restart.
        """
        tasks = list(self._tasks.values())
        if not tasks:
            return True
        _, pending = await asyncio.wait(tasks, timeout=seconds)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        return not pending

    async def _start_due(self) -> int:
        room = self.window - self.in_flight
        if room <= 0:
            return 0
        now = self._clock()
        async with self._database.uow(read_only=True) as uow:
            rows = await uow.outbox.due(now, room, exclude_chats=self._chats_in_flight)
            blocked = await uow.chats.unreachable_ids(sorted({r.chat_id for r in rows}))
        chosen: list[OutboxRow] = []
        chats: set[int] = set()
        for row in rows:
            if row.chat_id not in chats:  # one row per chat at a time keeps each chat's order
                chats.add(row.chat_id)
                chosen.append(row)
        for chat_id in {r.chat_id for r in chosen} & blocked:
            await record_unreachable(self._database, chat_id, now, "chat is unreachable")
        for row in chosen:
            if row.chat_id in blocked:
                continue
            self._chats_in_flight.add(row.chat_id)
            task = asyncio.create_task(self._deliver(row), name=f"outbox-{row.id}")
            self._tasks[row.id] = task
            task.add_done_callback(functools.partial(self._forget, row))
        return len(chosen)

    def _forget(self, row: OutboxRow, _task: asyncio.Task[None]) -> None:
        self._tasks.pop(row.id, None)
        self._chats_in_flight.discard(row.chat_id)
        self._wake.set()

    async def _deliver(self, row: OutboxRow) -> None:
        try:
            message = await self._send(row)
        except RetryAfter as error:
            seconds = retry_after_seconds(error)
            await self._retry(
                row, timedelta(seconds=seconds), f"RetryAfter: {seconds:g} s", count_attempt=False
            )
        except Forbidden as error:
            await self._unreachable(row, f"Forbidden: {error.message}")
        except BadRequest as error:  # before TelegramError: BadRequest is a NetworkError
            if any(words in error.message.lower() for words in UNREACHABLE_400):
                await self._unreachable(row, f"BadRequest: {error.message}")
            else:
                await self._fail(row, f"BadRequest: {error.message}")
        except ChatMigrated as error:
            await self._fail(row, f"ChatMigrated: the group is now {error.new_chat_id}")
        except BadInlineFile as error:
            await self._fail(row, f"BadInlineFile: {error}")
        except TelegramError as error:  # 5xx, network errors, timeouts
            attempts = row.attempts + 1
            reason = f"{type(error).__name__}: {error.message}"
            if attempts >= MAX_ATTEMPTS:
                await self._fail(row, reason)
            else:
                delay = timedelta(seconds=self._backoff(attempts))
                await self._retry(row, delay, reason)
        except asyncio.CancelledError:
            raise  # shutting down: the row stays pending
        except Exception as error:
            log.exception("sending outbox row %d failed unexpectedly", row.id)
            await self._retry(row, timedelta(seconds=self._backoff(row.attempts + 1)), repr(error))
        else:
            # The row stays "in flight" until this commits, so it is never read again as due.
            try:
                await self._sent.add((row.id, message.message_id))
            except Exception as error:  # sent, but still pending: it will be sent again
                log.error("recording outbox row %d as sent failed: %r", row.id, error)
                return
            await self._keep_file_id(row, message)

    async def _keep_file_id(self, row: OutboxRow, message: Message) -> None:
        """A sent row that carried its own file keeps Telegram's file id instead of it."""
        inline = read_inline_file(row.payload.get("document"))
        if inline is None or message.document is None:
            return
        document = sent_file(message.document.file_id, inline[1], len(inline[0]))
        try:
            async with self._database.uow() as uow:
                await uow.outbox.keep_sent_file(row.id, document)
                await uow.commit()
        except Exception as error:  # the row keeps its file: harmless, only heavier
            log.warning("dropping outbox row %d's sent file failed: %r", row.id, error)

    async def _record_sent(self, sent: list[tuple[int, int | None]]) -> None:
        async with self._database.uow() as uow:
            await uow.outbox.mark_sent_many(sent, self._clock())
            await uow.commit()

    async def _send(self, row: OutboxRow) -> Message:
        payload: dict[str, Any] = dict(row.payload)
        markup = payload.pop("reply_markup", None)
        if markup is not None:
            payload["reply_markup"] = InlineKeyboardMarkup.de_json(markup, self._bot)
        limits = {"priority": row.priority}
        if row.kind is MessageKind.TEXT:
            return await self._bot.send_message(row.chat_id, rate_limit_args=limits, **payload)
        if row.kind is MessageKind.PHOTO:
            return await self._bot.send_photo(row.chat_id, rate_limit_args=limits, **payload)
        inline = read_inline_file(payload.get("document"))
        if inline is not None:  # a file the bot made, carried by the row itself
            data, filename = inline
            payload["document"] = InputFile(data, filename=filename)
        return await self._bot.send_document(row.chat_id, rate_limit_args=limits, **payload)

    async def _retry(
        self, row: OutboxRow, delay: timedelta, reason: str, *, count_attempt: bool = True
    ) -> None:
        async with self._database.uow() as uow:
            await uow.outbox.retry_later(
                row.id, self._clock() + delay, reason, count_attempt=count_attempt
            )
            await uow.commit()

    async def _fail(self, row: OutboxRow, reason: str) -> None:
        log.warning("outbox row %d to chat %d refused: %s", row.id, row.chat_id, reason)
        async with self._database.uow() as uow:
            await uow.outbox.mark_failed(row.id, self._clock(), reason)
            await uow.commit()

    async def _unreachable(self, row: OutboxRow, reason: str) -> None:
        closed = await record_unreachable(self._database, row.chat_id, self._clock(), reason)
        log.info(
            "chat %d is unreachable (%s); %d queued messages closed", row.chat_id, reason, closed
        )

    async def _warn_if_stuck(self) -> None:
        """Log a warning when the oldest pending row waits longer than ``stuck_after``."""
        moment = time.monotonic()
        if moment - self._last_stuck_check < STUCK_CHECK_SECONDS:
            return
        self._last_stuck_check = moment
        async with self._database.uow(read_only=True) as uow:
            backlog = await uow.outbox.backlog()
        if backlog.oldest_created_at is None:
            return
        age = (self._clock() - backlog.oldest_created_at).total_seconds()
        if age > self._stuck_after:
            log.warning(
                "the outbox looks stuck: %d messages pending, the oldest for %.0f s "
                "(is Telegram reachable? see `xieshang health`)",
                backlog.pending,
                age,
            )
