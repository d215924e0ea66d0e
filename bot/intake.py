"""From Telegram to the handlers through the inbox, so no update is lost to a crash.

Two loops share the work. The :class:`Poller` calls ``getUpdates``, writes the
batch to the inbox and commits, and only then confirms it (the offset of the
next call). The :class:`InboxFeeder` reads pending rows and hands them to the
application, whose :class:`~bot.processing.PerUserOrderedProcessor` runs them;
when an update's handlers finish, its row is marked done. After a crash, rows
still pending are fed again at start-up, and a redelivered update is ignored by
its ``update_id`` (spec 01, Storage; quality bars R1 and R5).

In webhook mode :class:`bot.webhook.WebhookIntake` takes the poller's place: both
are an :class:`Intake`, and both commit through :func:`store_updates`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Protocol

from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application

from bot.batching import GroupCommit
from bot.processing import sender_key
from bot.ratelimit import retry_after_seconds
from storage.chats import SeenChat
from storage.database import Database
from storage.inbox import InboxItem, InboxOutcome, InboxStatus
from storage.runtime_status import LAST_GET_UPDATES

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


STATUS_EVERY_SECONDS = 15.0
"""How often the poller records its last successful ``getUpdates`` for ``health``."""
LONG_POLL_SECONDS = 30
"""``getUpdates``' long-poll timeout; ``health`` allows twice this between successful calls."""


def seen_chat(update: Update) -> SeenChat | None:
    """The chat an update comes from, as :mod:`storage.chats` records it."""
    chat = update.effective_chat
    if chat is None:
        return None
    user = update.effective_user
    language = user.language_code if user is not None and chat.type == "private" else None
    # Telegram promises no length; the column holds 16 (PostgreSQL would refuse more).
    speaks = update.my_chat_member is None and update.chat_member is None
    return SeenChat(chat.id, chat.type, language[:16] if language else None, speaks)


async def store_updates(
    database: Database,
    updates: Sequence[Update],
    now: datetime,
    *,
    status: str | None = None,
) -> None:
    """Commit received updates to the inbox (and their chats) in one transaction.

    Both ways of receiving, the poller and the webhook receiver, call this before
    confirming an update to Telegram. ``status`` names a
    :mod:`storage.runtime_status` value to set to ``now`` in the same commit.
    """
    items = [
        InboxItem(u.update_id, sender_key(u), json.dumps(u.to_dict(), ensure_ascii=False))
        for u in updates
    ]
    if not items and status is None:
        return
    chats = [chat for chat in map(seen_chat, updates) if chat is not None]
    async with database.uow() as uow:
        if items:
            await uow.inbox.add(items, now)
            await uow.chats.seen(chats, now)
        if status is not None:
            await uow.runtime_status.put(status, now.isoformat(), now)
        await uow.commit()


class Intake(Protocol):
    """A way of receiving updates into the inbox: the poller, or the webhook receiver."""

    async def run(self) -> None:
        """Receive until :meth:`stop`; raise only when receiving cannot go on."""

    async def stop(self) -> None:
        """Stop receiving; return once nothing more will be stored."""


class IntakeHealth:
    """What ``health`` reports about receiving updates."""

    def __init__(self) -> None:
        self.last_get_updates: datetime | None = None
        self.conflicts = 0


class Poller:
    """``getUpdates`` in a loop; each batch is committed to the inbox before it is confirmed."""

    def __init__(
        self,
        bot: Bot,
        database: Database,
        wake_feeder: Callable[[], None],
        *,
        poll_timeout: int = LONG_POLL_SECONDS,
        clock: Clock = utc_now,
        health: IntakeHealth | None = None,
    ) -> None:
        self._bot = bot
        self._database = database
        self._wake_feeder = wake_feeder
        self._poll_timeout = poll_timeout
        self._clock = clock
        self.health = health or IntakeHealth()
        self._stopping = asyncio.Event()
        self._published_at: datetime | None = None

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        offset: int | None = None
        backoff = 1.0
        while not self._stopping.is_set():
            try:
                updates = await self._bot.get_updates(
                    offset=offset,
                    timeout=self._poll_timeout,
                    allowed_updates=Update.ALL_TYPES,
                )
            except InvalidToken:
                log.critical("Telegram refused the bot token; stopping the poller")
                raise
            except Conflict:
                self.health.conflicts += 1
                log.warning(
                    "Telegram answered 409 Conflict: another process polls with this token, "
                    "or a webhook is set; retrying in %.0f s",
                    backoff,
                )
                await self._pause(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            except RetryAfter as error:
                await self._pause(retry_after_seconds(error))
                continue
            except (NetworkError, TelegramError) as error:
                log.warning("getUpdates failed (%s); retrying in %.0f s", error, backoff)
                await self._pause(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            self.health.last_get_updates = self._clock()
            try:
                await self._store(updates)
            except Exception as error:  # the batch is not confirmed: Telegram sends it again
                log.error(
                    "storing %d updates failed (%s); retrying in %.0f s",
                    len(updates),
                    type(error).__name__,
                    backoff,
                )
                await self._pause(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            backoff = 1.0
            if not updates:
                continue
            offset = updates[-1].update_id + 1  # confirmed by the next call, after the commit
            self._wake_feeder()

    async def _store(self, updates: tuple[Update, ...]) -> None:
        now = self._clock()
        publish = (
            self._published_at is None
            or (now - self._published_at).total_seconds() >= STATUS_EVERY_SECONDS
        )
        await store_updates(
            self._database, updates, now, status=LAST_GET_UPDATES if publish else None
        )
        if publish:
            self._published_at = now

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)


class PollingIntake:
    """The :class:`Poller` as an :class:`Intake` (polling and local mode)."""

    def __init__(self, bot: Bot, poller: Poller) -> None:
        self._bot = bot
        self.poller = poller

    async def run(self) -> None:
        await self._leave_webhook_mode()
        await self.poller.run()

    async def stop(self) -> None:
        """The poll in flight is abandoned by the runner; its batch is not confirmed yet."""
        self.poller.stop()

    async def _leave_webhook_mode(self) -> None:
        """Delete a webhook left from webhook mode, else every ``getUpdates`` answers 409.

        The settings chose polling (no ``XIESHANG_WEBHOOK_URL``), so the operator
        switched modes; pending updates stay with Telegram and are polled next.
        """
        bot = self._bot
        try:
            info = await bot.get_webhook_info()
        except TelegramError as error:
            log.warning("could not read the webhook info (%s); polling anyway", error)
            return
        if info.url:
            log.warning("a webhook was set; deleting it to poll (pending updates are kept)")
            await bot.delete_webhook(drop_pending_updates=False)


class InboxFeeder:
    """Hands pending inbox rows to the application, oldest first, and records each outcome.

    At most ``window`` updates are handed over and unfinished at once, so a
    backlog after downtime is read from the database in slices rather than all
    into memory.

    Rows are read after a watermark (the highest ``update_id`` fed). A webhook
    receiver with several connections can commit a lower ``update_id`` after a
    higher one (Telegram keeps each chat's order, not the order across chats);
    :meth:`wake` with the stored ids moves the next read back below the watermark,
    and ids already handed over are skipped, so such an update is neither left
    behind until the next start nor run twice.
    """

    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        database: Database,
        *,
        window: int = 500,
        clock: Clock = utc_now,
    ) -> None:
        self._application = application
        self._database = database
        self._window = window
        self._clock = clock
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._outstanding: set[int] = set()
        self._room = asyncio.Condition()
        self._last_fed = 0
        self._rescan_after: int | None = None
        self._outcomes = GroupCommit(self._record_outcomes)
        """Outcomes of updates that finish together are committed together."""
        self._handed: OrderedDict[int, None] = OrderedDict()
        """Recently handed-over ids: a re-read can see a row whose done mark is not
        committed yet, after it left ``_outstanding``."""

    def wake(self, stored: Iterable[int] = ()) -> None:
        """New rows are in the inbox; ``stored`` names them when they may be out of order."""
        low = min(stored, default=None)
        if low is not None and low <= self._last_fed:
            self._rescan(after=low - 1)
        self._wake.set()

    def _rescan(self, *, after: int) -> None:
        """Make the next read start after ``after`` even if that is below the watermark."""
        if self._rescan_after is None or after < self._rescan_after:
            self._rescan_after = after

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        asyncio.get_running_loop().create_task(self._notify_room())

    async def _notify_room(self) -> None:
        async with self._room:
            self._room.notify_all()

    @property
    def outstanding(self) -> int:
        return len(self._outstanding)

    async def run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            fed = await self._feed_once()
            if fed == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=1.0)

    async def _feed_once(self) -> int:
        room = self._window - len(self._outstanding)
        if room <= 0:
            async with self._room:  # woken by on_done, or by stop()
                await self._room.wait_for(
                    lambda: len(self._outstanding) < self._window or self._stopping.is_set()
                )
            return 0
        after, limit = self._last_fed, room
        if self._rescan_after is not None:
            # Below the watermark, rows handed over but not done are pending too: read past them.
            after, limit = min(after, self._rescan_after), room + len(self._outstanding)
            self._rescan_after = None
        async with self._database.uow(read_only=True) as uow:
            items = await uow.inbox.pending(after, limit)
        bot = self._application.bot
        fed = 0
        for item in items:
            if item.update_id in self._outstanding or item.update_id in self._handed:
                continue
            if fed == room:
                if item.update_id <= self._last_fed:  # come back for the rest below the mark
                    self._rescan(after=item.update_id - 1)
                break
            update = Update.de_json(json.loads(item.payload), bot)
            self._outstanding.add(item.update_id)
            self._remember(item.update_id)
            self._last_fed = max(self._last_fed, item.update_id)
            await self._application.update_queue.put(update)
            fed += 1
        return fed

    def _remember(self, update_id: int) -> None:
        self._handed[update_id] = None
        while len(self._handed) > 4 * self._window:
            self._handed.popitem(last=False)

    async def on_done(self, update: object, error: BaseException | None) -> None:
        """Record that an update's handlers finished (called by the update processor)."""
        if not isinstance(update, Update):
            return
        if isinstance(error, asyncio.CancelledError):
            self._outstanding.discard(update.update_id)
            return  # not processed: it stays pending for the next start
        status = InboxStatus.DONE if error is None else InboxStatus.FAILED
        detail = None if error is None else f"{type(error).__name__}: {error}"[:2000]
        try:
            await self._outcomes.add(InboxOutcome(update.update_id, status, detail))
        finally:  # unrecorded, the row stays pending and is fed again at the next start
            self._outstanding.discard(update.update_id)
            await self._notify_room()

    async def _record_outcomes(self, outcomes: list[InboxOutcome]) -> None:
        async with self._database.uow() as uow:
            await uow.inbox.mark_many(outcomes, self._clock())
            await uow.commit()

    async def drain(self, seconds: float) -> bool:
        """Wait until every handed-over update finished; ``False`` if time ran out."""
        deadline = time.monotonic() + seconds
        while self._outstanding:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.05)
        return True
