"""The priority rate limiter every message the bot sends goes through.

Spec 01 ("Sending"): one sender for everything, with a priority rate limiter shared
by direct replies (highest), personal notifications and broadcasts (lowest), at
most about 30 messages/s overall, about 1/s per private chat with short bursts and
20/min per group (Bot FAQ; ``telegram.constants.FloodLimit``). python-telegram-bot's
``AIORateLimiter`` has no per-chat limit and halts every request on one 429
(issues #4003, #5338), so this is our own :class:`~telegram.ext.BaseRateLimiter`,
plugged in with ``ApplicationBuilder().rate_limiter(...)``.

How it works
------------
* **Token buckets.** One global bucket, one per private chat, one per group (a
  negative ``chat_id``, or an ``@username``, which only channels and supergroups
  have). A send takes a token from the global bucket and from its chat's bucket.
  Sustained rates are the configured ones times ``pace`` (0.97): the margin absorbs
  network jitter, so that a server counting arrival times with the same limits
  (Telegram, the emulator in ``tgemu.limits``) practically never answers 429,
  while broadcasts still run at 97 % of the global limit. The global bucket and the
  group buckets hold 1.5 tokens: never two sends at once (no burst), yet a wake-up
  a few milliseconds late is not lost (with a capacity of exactly 1, every late
  wake-up would lower the rate; measured: 94 % instead of 97 %). With at most
  ``b + r·T`` sends in any window ``T``, 1.5 + 29.1/s never puts more than 30 sends
  in a second, and 1.5 + 19.4/min never more than 20 in a minute. Private chats
  get ``[sending] per_chat_burst`` tokens, as Telegram tolerates short bursts.
* **Who counts.** Methods that post or change a message in a chat
  (:data:`LIMITED_METHODS`: sends, copies, forwards, and edits, since Telegram
  counts edits against the same flood limits); an inline-message edit, which has no
  ``chat_id``, takes a global token only. Everything else (``getMe``,
  ``answerCallbackQuery``, ``getFile``, ``setMyCommands``, ...) passes straight
  through; ``getUpdates`` never even reaches a rate limiter.
* **Order.** Waiters are served by :class:`Priority`, then first come first
  served, but only among waiters whose chat has a token: a waiter for a busy chat
  never holds up waiters for other chats (no head-of-line blocking). Within one
  chat, a reply overtakes that chat's queued notifications.
* **No busy waiting.** One dispatcher task sleeps until the earliest moment a
  waiter can be served; a new waiter is served on arrival when it can be, and
  otherwise wakes the dispatcher to recompute that moment.
* **429.** Telegram's ``retry_after`` does not say which limit was hit. The chat's
  bucket is paused for ``retry_after``; the global bucket is paused too only when
  :data:`GLOBAL_429_CHATS` different chats got a 429 within
  :data:`GLOBAL_429_WINDOW` seconds (then the global limit is the likely cause),
  or when the request had no chat. One chat's 429 never stops the others. A reply
  is retried (``max_retries``, 2 by default) once the pause is over (and after a
  5xx or a refused connection, half a second later, then a second);
  notifications and broadcasts re-raise ``RetryAfter`` after pausing, so that the
  durable outbox reschedules its row.
* **Memory.** A chat's bucket is kept while it has waiters or is not yet full
  again; idle full buckets are dropped in amortised O(1) sweeps (when their number
  has doubled, and once a minute). Submitting and granting cost O(log n): the
  event loop must stay free, because a token granted while the loop is busy is
  used late, and many late sends arrive at Telegram together.

Limits: ``sendMediaGroup`` counts as one message although Telegram may count each
item; ``allow_paid_broadcast`` is not used to go faster; requests still waiting at
:meth:`PriorityRateLimiter.shutdown` are cancelled (the outbox resends them).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import math
import time
import warnings
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

from civic.outbox import Priority

__all__ = [
    "GLOBAL_429_CHATS",
    "GLOBAL_429_WINDOW",
    "LIMITED_METHODS",
    "ChatKey",
    "Priority",
    "PriorityRateLimiter",
    "SendLimits",
    "SendScheduler",
    "TokenBucket",
    "is_group",
    "retry_after_seconds",
]

logger = logging.getLogger(__name__)

ChatKey = int | str | None
"""A chat as the limiter knows it: an id, an ``@username``, or ``None`` (no chat)."""

LIMITED_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendVoice",
        "sendAudio",
        "sendVideo",
        "sendAnimation",
        "sendSticker",
        "sendPoll",
        "sendMediaGroup",
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
        "editMessageMedia",
    }
)
"""Bot API methods that count against the flood limits."""

GLOBAL_429_CHATS = 3
"""Distinct chats answered 429 within :data:`GLOBAL_429_WINDOW` that pause everything."""
GLOBAL_429_WINDOW = 1.0
"""Seconds within which 429s for different chats are taken as one global limit hit."""

_EPSILON = 1e-6
"""Token slack for float rounding: a bucket computed to be ready at ``t`` is ready at ``t``
(monotonic clocks read ~1e6 s, whose rounding times a rate of hundreds is ~1e-8 token)."""

_NO_BURST = 1.5
"""Capacity of a bucket that must not burst: one token, plus slack for late wake-ups."""

_SWEEP_FLOOR = 256
"""Buckets kept before the first sweep for idle ones."""
_SWEEP_INTERVAL = 60.0
"""Seconds after which idle buckets are swept even if their number did not grow."""


def retry_after_seconds(error: RetryAfter) -> float:
    """Return the seconds a ``RetryAfter`` asks to wait.

    python-telegram-bot 22 warns on every read of ``retry_after`` while it moves from
    ``int`` to ``timedelta`` (``PTB_TIMEDELTA``); both forms are accepted here and
    the warning, which says nothing about this program, is silenced.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


@dataclass(frozen=True, slots=True)
class SendLimits:
    """Sustained rates (tokens per second) and capacities (tokens) of the three buckets."""

    global_rate: float
    global_burst: float
    private_rate: float
    private_burst: float
    group_rate: float
    group_burst: float

    @classmethod
    def for_telegram(
        cls,
        *,
        global_per_second: float = 30.0,
        per_chat_per_second: float = 1.0,
        per_chat_burst: int = 3,
        per_group_per_minute: float = 20.0,
        pace: float = 0.97,
    ) -> SendLimits:
        """Return buckets that stay under Telegram's limits, as ``[sending]`` states them.

        ``pace`` (below 1) is the share of each limit used in the long run; see the
        module docstring for why the global and group buckets hold 1.5 tokens.
        """
        if not 0 < pace <= 1:
            raise ValueError("pace must be in (0, 1]")
        return cls(
            global_rate=global_per_second * pace,
            global_burst=_NO_BURST,
            private_rate=per_chat_per_second * pace,
            private_burst=float(per_chat_burst),
            group_rate=per_group_per_minute / 60.0 * pace,
            group_burst=_NO_BURST,
        )


class TokenBucket:
    """``capacity`` tokens refilled continuously at ``rate`` per second; can be paused."""

    __slots__ = ("capacity", "paused_until", "rate", "tokens", "updated")

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        if not rate > 0 or capacity < 1:
            raise ValueError("a bucket needs a positive rate and room for one token")
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.updated = now
        self.paused_until = -math.inf

    def ready_at(self, now: float) -> float:
        """Return the earliest time, not before ``now``, at which a token can be taken.

        A token may be taken exactly when this returns ``now``; callers decide with
        that comparison only, so a wake-up computed from it always finds the token.
        """
        self._refill(now)
        ready = now if self.tokens >= 1 - _EPSILON else now + (1 - self.tokens) / self.rate
        return max(ready, self.paused_until)

    def take(self, now: float) -> None:
        """Take one token (the caller has checked :meth:`ready_at`)."""
        self._refill(now)
        self.tokens -= 1

    def pause(self, until: float, now: float) -> None:
        """Give no token before ``until`` (Telegram said "retry after"), and empty the bucket.

        Emptying it means the pause is counted from now: tokens refill during the
        pause, so a private chat may burst again once it ends, as Telegram's own
        bucket would allow.
        """
        self._refill(now)
        self.tokens = min(self.tokens, 0.0)
        self.paused_until = max(self.paused_until, until)

    def idle(self, now: float) -> bool:
        """Tell whether the bucket is full and unpaused, i.e. like a new one."""
        self._refill(now)
        return self.tokens >= self.capacity - _EPSILON and self.paused_until <= now

    def _refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now


def is_group(chat: ChatKey) -> bool:
    """Tell whether ``chat`` gets the group limit: negative ids and ``@usernames``."""
    return isinstance(chat, str) or (chat is not None and chat < 0)


class SendScheduler:
    """The limiter's decisions, without asyncio: who may send at ``now``.

    Kept pure (time passed in) so that pacing, priorities and pauses are tested
    deterministically; :class:`PriorityRateLimiter` drives it with a clock.

    Each chat with waiting requests is in one of two heaps: *ready* (its bucket has
    a token; keyed by its best request's priority and ticket) or *asleep* (keyed by
    the time its bucket will have one). Global tokens go to the top of the ready
    heap, so every operation costs O(log n). Heap entries are never updated in
    place: a chat's current entry is recorded in ``_ready_head``/``_asleep_until``
    and entries that no longer match are skipped when they surface.
    """

    def __init__(self, limits: SendLimits, now: float) -> None:
        self.limits = limits
        self._now = now
        self._global = TokenBucket(limits.global_rate, limits.global_burst, now)
        self._buckets: dict[int | str, TokenBucket] = {}
        self._queues: dict[ChatKey, list[tuple[int, int]]] = {}
        self._chat_of: dict[int, ChatKey] = {}
        self._ready: list[tuple[int, int, ChatKey]] = []
        self._asleep: list[tuple[float, int, ChatKey]] = []
        self._ready_head: dict[ChatKey, int] = {}
        self._asleep_until: dict[ChatKey, float] = {}
        self._counter = itertools.count()
        self._sweep_above = _SWEEP_FLOOR
        self._sweep_after = now + _SWEEP_INTERVAL
        self._recent_429: deque[tuple[float, ChatKey]] = deque(maxlen=64)

    @property
    def waiting(self) -> int:
        """Return how many requests wait for a token."""
        return len(self._chat_of)

    @property
    def tracked_chats(self) -> int:
        """Return how many chat buckets are remembered (bounded memory, for tests)."""
        return len(self._buckets)

    def submit(self, chat: ChatKey, priority: Priority, now: float) -> int:
        """Queue a request to ``chat`` and return its ticket (larger = later)."""
        self._now = max(self._now, now)
        ticket = next(self._counter)
        queue = self._queues.setdefault(chat, [])
        heapq.heappush(queue, (int(priority), ticket))
        self._chat_of[ticket] = chat
        if chat not in self._asleep_until and self._ready_head.get(chat) != queue[0][1]:
            self._place(chat, self._now)
        return ticket

    def cancel(self, ticket: int) -> None:
        """Forget a request that no longer waits (its caller was cancelled)."""
        if ticket not in self._chat_of:
            return
        chat = self._chat_of.pop(ticket)
        queue = self._queues[chat]
        queue[:] = [entry for entry in queue if entry[1] != ticket]
        heapq.heapify(queue)
        if not queue:
            del self._queues[chat]
        if not queue or self._ready_head.get(chat) == ticket:
            self._place(chat, self._now)

    def grant(self, now: float) -> list[int]:
        """Take tokens for every request that may go at ``now``; return their tickets."""
        self._now = now = max(self._now, now)
        self._wake_due(now)
        granted: list[int] = []
        while self._ready:
            _, ticket, chat = self._ready[0]
            if self._ready_head.get(chat) != ticket:
                heapq.heappop(self._ready)
                continue
            if self._chat_ready_at(chat, now) > now:  # paused since it was placed
                heapq.heappop(self._ready)
                self._place(chat, now)
                continue
            if self._global.ready_at(now) > now:
                break
            heapq.heappop(self._ready)
            self._take(chat, ticket, now)
            granted.append(ticket)
            self._place(chat, now)
        self._sweep(now)
        return granted

    def next_wakeup(self, now: float) -> float | None:
        """Return when :meth:`grant` may next grant something, or ``None`` if nobody waits."""
        if not self._queues:
            return None
        now = max(self._now, now)
        if self._ready_head:
            return self._global.ready_at(now)
        self._drop_stale_sleepers()
        if not self._asleep:  # cannot happen: every chat with waiters is in a heap
            return now
        return max(self._asleep[0][0], self._global.ready_at(now))

    def record_retry_after(self, chat: ChatKey, seconds: float, now: float) -> bool:
        """Pause what a 429 for ``chat`` points at; return whether everything was paused."""
        until = now + seconds
        if chat is not None:
            self._bucket(chat, now).pause(until, now)
        self._recent_429.append((now, chat))
        while self._recent_429 and self._recent_429[0][0] + GLOBAL_429_WINDOW < now:
            self._recent_429.popleft()
        recent_chats = {recent for _, recent in self._recent_429}
        if chat is None or len(recent_chats) >= GLOBAL_429_CHATS:
            self._global.pause(until, now)
            return True
        return False

    def _place(self, chat: ChatKey, now: float) -> None:
        """Put ``chat`` in the ready or the asleep heap, or nowhere if nobody waits."""
        self._ready_head.pop(chat, None)
        self._asleep_until.pop(chat, None)
        queue = self._queues.get(chat)
        if not queue:
            return
        ready_at = self._chat_ready_at(chat, now)
        if ready_at <= now:
            priority, ticket = queue[0]
            heapq.heappush(self._ready, (priority, ticket, chat))
            self._ready_head[chat] = ticket
        else:
            heapq.heappush(self._asleep, (ready_at, next(self._counter), chat))
            self._asleep_until[chat] = ready_at

    def _wake_due(self, now: float) -> None:
        """Move the chats whose bucket has a token again to the ready heap."""
        while self._asleep and self._asleep[0][0] <= now:
            ready_at, _, chat = heapq.heappop(self._asleep)
            if self._asleep_until.get(chat) == ready_at:
                self._place(chat, now)

    def _drop_stale_sleepers(self) -> None:
        while self._asleep and self._asleep_until.get(self._asleep[0][2]) != self._asleep[0][0]:
            heapq.heappop(self._asleep)

    def _bucket(self, chat: int | str, now: float) -> TokenBucket:
        bucket = self._buckets.get(chat)
        if bucket is None:
            limits = self.limits
            if is_group(chat):
                bucket = TokenBucket(limits.group_rate, limits.group_burst, now)
            else:
                bucket = TokenBucket(limits.private_rate, limits.private_burst, now)
            self._buckets[chat] = bucket
        return bucket

    def _chat_ready_at(self, chat: ChatKey, now: float) -> float:
        if chat is None:
            return now
        return self._bucket(chat, now).ready_at(now)

    def _take(self, chat: ChatKey, ticket: int, now: float) -> None:
        """Give request ``ticket``, the best of ``chat``'s, its tokens and dequeue it."""
        queue = self._queues[chat]
        heapq.heappop(queue)
        if not queue:
            del self._queues[chat]
        del self._chat_of[ticket]
        self._global.take(now)
        if chat is not None:
            self._bucket(chat, now).take(now)

    def _sweep(self, now: float) -> None:
        """Drop idle chat buckets: when their number doubled, or every minute.

        Doubling keeps the cost amortised O(1) per request during a broadcast; the
        timed sweep gives the memory back after it.
        """
        if len(self._buckets) <= self._sweep_above and now < self._sweep_after:
            return
        for chat in [c for c, b in self._buckets.items() if b.idle(now)]:
            if chat not in self._queues:
                del self._buckets[chat]
        self._sweep_above = max(_SWEEP_FLOOR, 2 * len(self._buckets))
        self._sweep_after = now + _SWEEP_INTERVAL


Callback = Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]]
Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


REPLY_RETRY_SECONDS = 0.5
"""A reply that met a 5xx is sent again after this, then twice this."""


class PriorityRateLimiter(BaseRateLimiter[dict[str, Any]]):
    """python-telegram-bot's rate limiter for this bot; see the module docstring.

    Callers choose the priority through ``rate_limit_args``::

        await bot.send_message(chat_id, text, rate_limit_args={"priority": Priority.BROADCAST})

    Without it a request is a :attr:`Priority.REPLY`. ``clock`` and ``sleep`` are
    injectable so that tests run on a manual clock.
    """

    def __init__(
        self,
        limits: SendLimits | None = None,
        *,
        max_retries: int = 2,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._max_retries = max_retries
        self._scheduler = SendScheduler(limits or SendLimits.for_telegram(), clock())
        self._waiters: dict[int, asyncio.Future[None]] = {}
        self._wake = asyncio.Event()
        self._dispatcher: asyncio.Task[None] | None = None

    @classmethod
    def from_config(
        cls,
        *,
        global_per_second: float,
        per_chat_per_second: float,
        per_chat_burst: int,
        per_group_per_minute: float,
        max_retries: int = 2,
    ) -> PriorityRateLimiter:
        """Build the limiter from the ``[sending]`` section's values."""
        limits = SendLimits.for_telegram(
            global_per_second=global_per_second,
            per_chat_per_second=per_chat_per_second,
            per_chat_burst=per_chat_burst,
            per_group_per_minute=per_group_per_minute,
        )
        return cls(limits, max_retries=max_retries)

    @property
    def scheduler(self) -> SendScheduler:
        """The decisions behind the limiter (for health and tests)."""
        return self._scheduler

    async def initialize(self) -> None:
        """Nothing to set up: the dispatcher starts with the first waiting request."""

    async def shutdown(self) -> None:
        """Stop the dispatcher and cancel requests still waiting for a token."""
        dispatcher, self._dispatcher = self._dispatcher, None
        if dispatcher is not None:
            dispatcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await dispatcher
        for ticket, future in list(self._waiters.items()):
            self._scheduler.cancel(ticket)
            future.cancel()
        self._waiters.clear()
        self._wake = asyncio.Event()  # the old one may be bound to a loop that is closing

    async def process_request(
        self,
        callback: Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Wait for tokens, then call ``callback``; retry replies after a 429."""
        if endpoint not in LIMITED_METHODS:
            return await callback(*args, **kwargs)
        chat = _chat_key(data.get("chat_id"))
        priority = _priority(rate_limit_args)
        attempt = 0
        while True:
            await self._acquire(chat, priority)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                seconds = retry_after_seconds(error)
                everything = self._scheduler.record_retry_after(chat, seconds, self._clock())
                logger.warning(
                    "Telegram answered 429 to %s (%s): retry after %.1f s, %s paused",
                    endpoint,
                    priority.name,
                    seconds,
                    "all sending" if everything else "this chat",
                )
                if priority is not Priority.REPLY or attempt >= self._max_retries:
                    raise
                attempt += 1
            except (BadRequest, TimedOut):
                raise  # refused as such, or perhaps delivered: sending again could duplicate
            except NetworkError:
                # A 5xx or a refused connection: Telegram did not act on it. The user is
                # waiting for this reply, which no outbox row would send again.
                if priority is not Priority.REPLY or attempt >= self._max_retries:
                    raise
                attempt += 1
                await self._sleep(REPLY_RETRY_SECONDS * attempt)

    async def _acquire(self, chat: ChatKey, priority: Priority) -> None:
        """Return once ``chat``'s bucket and the global bucket have given a token."""
        ticket = self._scheduler.submit(chat, priority, self._clock())
        future = asyncio.get_running_loop().create_future()
        self._waiters[ticket] = future
        self._dispatch()
        if not future.done():
            self._ensure_dispatcher()
            self._wake.set()
        try:
            await future
        except asyncio.CancelledError:
            self._waiters.pop(ticket, None)
            self._scheduler.cancel(ticket)
            raise

    def _dispatch(self) -> None:
        """Release every waiter that may go now."""
        for ticket in self._scheduler.grant(self._clock()):
            future = self._waiters.pop(ticket, None)
            if future is not None and not future.done():
                future.set_result(None)

    def _ensure_dispatcher(self) -> None:
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.get_running_loop().create_task(
                self._run_dispatcher(), name="xieshang-rate-limiter"
            )

    async def _run_dispatcher(self) -> None:
        """Grant tokens as they become available; sleep in between, wake on arrivals."""
        while True:
            self._wake.clear()
            self._dispatch()
            wake_at = self._scheduler.next_wakeup(self._clock())
            if wake_at is None:
                await self._wake.wait()
                continue
            delay = wake_at - self._clock()
            if delay > 0:
                await self._sleep_or_wake(delay)
            else:
                await asyncio.sleep(0)

    async def _sleep_or_wake(self, delay: float) -> None:
        sleeper = asyncio.ensure_future(self._sleep(delay))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            waker.cancel()


def _chat_key(chat_id: object) -> ChatKey:
    """Return the limiter's key for a ``chat_id`` parameter (ids may arrive as strings)."""
    if chat_id is None:
        return None
    if isinstance(chat_id, int):
        return chat_id
    text = str(chat_id)
    try:
        return int(text)
    except ValueError:
        return text


def _priority(rate_limit_args: dict[str, Any] | None) -> Priority:
    """Return the priority a caller asked for; a reply when it did not say."""
    if not rate_limit_args:
        return Priority.REPLY
    return Priority(rate_limit_args.get("priority", Priority.REPLY))
