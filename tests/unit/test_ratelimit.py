"""The priority rate limiter: pacing, priorities without head-of-line blocking, 429 pauses.

Two layers are tested: the pure :class:`SendScheduler` with explicit times, and the
python-telegram-bot :class:`PriorityRateLimiter` on a manual clock whose sleeps only
end when a test advances time, so nothing depends on how fast the machine is.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import json
import time
import warnings
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import ExtBot
from telegram.request import BaseRequest, RequestData

from bot.ratelimit import (
    GLOBAL_429_CHATS,
    Priority,
    PriorityRateLimiter,
    SendLimits,
    SendScheduler,
    TokenBucket,
    retry_after_seconds,
)

LIMITS = SendLimits.for_telegram()


@pytest.fixture(autouse=True)
def timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB 22's ``timedelta`` form, as production does.

    Otherwise python-telegram-bot warns (an error under this suite's filters) each
    time it builds a ``RetryAfter``.
    """
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


ALICE, BOB = 101, 102
GROUP = -100200


# --- the pure scheduler ---------------------------------------------------------------


def drain(scheduler: SendScheduler, start: float, until: float) -> list[tuple[float, int]]:
    """Grant everything the scheduler allows from ``start`` to ``until``, as (time, ticket)."""
    now = start
    granted: list[tuple[float, int]] = []
    while now <= until:
        granted.extend((now, ticket) for ticket in scheduler.grant(now))
        wake = scheduler.next_wakeup(now)
        if wake is None:
            break
        assert wake > now, "the scheduler must never ask to be woken without progress"
        now = wake
    return granted


def max_in_window(times: list[float], window: float) -> int:
    """Return the largest number of ``times`` inside any window of ``window`` seconds."""
    times = sorted(times)
    return max(
        (sum(1 for t in times[i:] if t < start + window) for i, start in enumerate(times)),
        default=0,
    )


def test_a_burst_to_one_chat_is_paced_at_the_per_chat_rate_after_the_burst() -> None:
    scheduler = SendScheduler(LIMITS, now=0.0)
    for _ in range(10):
        scheduler.submit(ALICE, Priority.REPLY, 0.0)
    times = [t for t, _ in drain(scheduler, 0.0, 60.0)]
    assert len(times) == 10
    assert times[2] < 0.1, "the first per_chat_burst messages go at once"
    gaps = [later - earlier for earlier, later in itertools.pairwise(times[3:])]
    assert all(gap == pytest.approx(1 / 0.97) for gap in gaps)
    assert max_in_window(times, 1.0) <= 3


def test_many_chats_are_paced_at_the_global_rate() -> None:
    scheduler = SendScheduler(LIMITS, now=0.0)
    for chat in range(1, 1001):
        scheduler.submit(chat, Priority.BROADCAST, 0.0)
    times = [t for t, _ in drain(scheduler, 0.0, 10.0)]
    assert max_in_window(times, 1.0) <= 30
    assert len(times) >= 0.95 * 30 * 10


def test_a_reply_queued_behind_100_broadcasts_is_served_next() -> None:
    scheduler = SendScheduler(LIMITS, now=0.0)
    broadcasts = [scheduler.submit(chat, Priority.BROADCAST, 0.0) for chat in range(1, 101)]
    assert scheduler.grant(0.0) == [broadcasts[0]]
    reply = scheduler.submit(ALICE, Priority.REPLY, 0.01)
    assert scheduler.grant(0.01) == []
    wake = scheduler.next_wakeup(0.01)
    assert wake is not None
    assert wake < 0.05
    assert scheduler.grant(wake) == [reply]
    assert scheduler.grant(wake + 1 / 29) == [broadcasts[1]]


def test_within_one_chat_a_reply_overtakes_queued_notifications() -> None:
    scheduler = SendScheduler(LIMITS, now=0.0)
    notifications = [scheduler.submit(ALICE, Priority.NOTIFICATION, 0.0) for _ in range(5)]
    granted = [ticket for _, ticket in drain(scheduler, 0.0, 0.5)]
    reply = scheduler.submit(ALICE, Priority.REPLY, 0.5)
    later = [ticket for _, ticket in drain(scheduler, 0.5, 10.0)]
    assert granted == notifications[:3]
    assert later == [reply, *notifications[3:]]


def test_a_waiter_for_a_busy_chat_does_not_block_another_chat() -> None:
    scheduler = SendScheduler(LIMITS, now=0.0)
    for _ in range(3):
        scheduler.submit(ALICE, Priority.REPLY, 0.0)
    drain(scheduler, 0.0, 0.2)
    reply_to_alice = scheduler.submit(ALICE, Priority.REPLY, 0.2)
    broadcast_to_bob = scheduler.submit(BOB, Priority.BROADCAST, 0.2)
    assert scheduler.grant(0.2) == [broadcast_to_bob]
    granted = drain(scheduler, 0.2, 5.0)
    assert [ticket for _, ticket in granted] == [reply_to_alice]
    assert granted[0][0] > 0.9


def test_a_retry_after_pauses_that_chat_only() -> None:
    scheduler = SendScheduler(LIMITS, now=0.0)
    assert scheduler.record_retry_after(ALICE, 5.0, now=0.0) is False
    alice = scheduler.submit(ALICE, Priority.REPLY, 0.0)
    bob = scheduler.submit(BOB, Priority.REPLY, 0.0)
    assert scheduler.grant(0.0) == [bob]
    assert scheduler.next_wakeup(0.0) == pytest.approx(5.0)
    assert scheduler.grant(4.99) == []
    assert scheduler.grant(5.0) == [alice]


def test_retry_afters_from_several_chats_at_once_pause_everything() -> None:
    scheduler = SendScheduler(LIMITS, now=0.0)
    chats = range(1, GLOBAL_429_CHATS + 1)
    paused = [scheduler.record_retry_after(chat, 2.0, now=0.1 * chat) for chat in chats]
    assert paused == [False] * (GLOBAL_429_CHATS - 1) + [True]
    other = scheduler.submit(999, Priority.REPLY, 0.5)
    assert scheduler.grant(0.5) == []
    wake = scheduler.next_wakeup(0.5)
    assert wake == pytest.approx(0.1 * GLOBAL_429_CHATS + 2.0)
    assert scheduler.grant(0.1 * GLOBAL_429_CHATS + 2.0) == [other]


def test_retry_afters_spread_out_in_time_do_not_pause_everything() -> None:
    scheduler = SendScheduler(LIMITS, now=0.0)
    assert not any(scheduler.record_retry_after(chat, 1.0, now=2.0 * chat) for chat in range(10))


def test_groups_get_at_most_20_messages_a_minute() -> None:
    scheduler = SendScheduler(LIMITS, now=0.0)
    for _ in range(60):
        scheduler.submit(GROUP, Priority.NOTIFICATION, 0.0)
    times = [t for t, _ in drain(scheduler, 0.0, 180.0)]
    assert max_in_window(times, 60.0) <= 20
    assert len([t for t in times if t < 60.0]) >= 19


def test_usernames_are_limited_like_groups() -> None:
    scheduler = SendScheduler(LIMITS, now=0.0)
    first, second = (scheduler.submit("@county_news", Priority.BROADCAST, 0.0) for _ in range(2))
    assert scheduler.grant(0.0) == [first]
    assert scheduler.next_wakeup(0.0) == pytest.approx(0.5 * 60 / (20 * 0.97))
    assert scheduler.grant(1.5) == []
    assert scheduler.grant(1.6) == [second]


def test_idle_chat_buckets_are_forgotten() -> None:
    scheduler = SendScheduler(LIMITS, now=0.0)
    for chat in range(1, 1001):
        scheduler.submit(chat, Priority.BROADCAST, 0.0)
    drain(scheduler, 0.0, 60.0)
    scheduler.submit(5000, Priority.REPLY, 100.0)
    scheduler.grant(100.0)
    assert scheduler.tracked_chats <= 300
    assert scheduler.waiting == 0


def test_granting_stays_cheap_with_many_chats_waiting() -> None:
    """A grant pass must not scan every waiting chat: the event loop has to stay free.

    (A linear scan made 3,000 queued broadcasts take ~1 ms a pass, and sends granted
    meanwhile left together in bursts.) The bound is ten times what O(log n) takes.
    """
    scheduler = SendScheduler(LIMITS, now=0.0)
    for chat in range(1, 20_001):
        scheduler.submit(chat, Priority.BROADCAST, 0.0)
    started = time.perf_counter()
    granted = drain(scheduler, 0.0, 100.0)
    assert len(granted) >= 2900
    assert time.perf_counter() - started < 2.0


def test_a_cancelled_request_leaves_the_queue() -> None:
    scheduler = SendScheduler(LIMITS, now=0.0)
    first = scheduler.submit(ALICE, Priority.REPLY, 0.0)
    second = scheduler.submit(BOB, Priority.REPLY, 0.0)
    scheduler.cancel(first)
    scheduler.cancel(first)
    assert scheduler.waiting == 1
    assert scheduler.grant(0.0) == [second]
    assert scheduler.next_wakeup(0.0) is None


@given(
    st.lists(
        st.tuples(
            st.sampled_from([ALICE, BOB, GROUP, *range(1, 40)]),
            st.sampled_from(list(Priority)),
            st.floats(min_value=0, max_value=2),
        ),
        min_size=1,
        max_size=150,
    )
)
def test_no_window_ever_exceeds_telegrams_limits(
    requests: list[tuple[int, Priority, float]],
) -> None:
    scheduler = SendScheduler(LIMITS, now=0.0)
    now = 0.0
    chat_of: dict[int, int] = {}
    granted: list[tuple[float, int]] = []
    for chat, priority, gap in requests:
        granted += drain(scheduler, now, now + gap)
        now += gap
        chat_of[scheduler.submit(chat, priority, now)] = chat
    granted += drain(scheduler, now, now + 1000.0)
    assert sorted(ticket for _, ticket in granted) == sorted(chat_of)
    assert max_in_window([t for t, _ in granted], 1.0) <= 30
    for chat in set(chat_of.values()):
        times = [t for t, ticket in granted if chat_of[ticket] == chat]
        if chat == GROUP:
            assert max_in_window(times, 60.0) <= 20
        else:
            assert max_in_window(times, 1.0) <= 3


def test_a_paused_bucket_gives_no_token_before_the_pause_ends() -> None:
    bucket = TokenBucket(rate=1.0, capacity=3, now=0.0)
    bucket.pause(until=10.0, now=0.0)
    assert bucket.ready_at(0.0) == 10.0
    assert not bucket.idle(5.0)
    assert bucket.idle(10.0)


def test_limits_refuse_a_pace_outside_zero_to_one() -> None:
    with pytest.raises(ValueError, match="pace"):
        SendLimits.for_telegram(pace=1.5)


# --- the python-telegram-bot rate limiter, on a manual clock -------------------------------


class ManualClock:
    """A monotonic clock and a sleep that only return when the test advances time."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(delay, 0.0), next(self._order), future))
        await future

    async def advance(self, seconds: float) -> None:
        """Move time forward, waking each sleeper at its deadline, in order."""
        target = self.now + seconds
        await settle()
        while self._sleepers and self._sleepers[0][0] <= target:
            deadline, _, future = heapq.heappop(self._sleepers)
            if future.done():
                continue
            self.now = max(self.now, deadline)
            future.set_result(None)
            await settle()
        self.now = target
        await settle()


async def settle() -> None:
    """Let every task that can run, run."""
    for _ in range(50):
        await asyncio.sleep(0)


class Recorder:
    """A stand-in for the HTTP call: records when each request reached Telegram."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.sent: list[tuple[float, str, Any]] = []
        self.refuse: dict[Any, list[float]] = {}
        """Per label, ``retry_after`` values to answer with before succeeding."""
        self.fail: dict[Any, list[Exception]] = {}
        """Per label, errors to raise (a 5xx, a 400) before succeeding."""

    async def __call__(self, label: Any) -> dict[str, Any]:
        errors = self.fail.get(label)
        if errors:
            raise errors.pop(0)
        pending = self.refuse.get(label)
        if pending:
            raise RetryAfter(int(pending.pop(0)))
        self.sent.append((self.clock.now, "sent", label))
        return {"ok": True}

    def labels(self) -> list[Any]:
        return [label for _, _, label in self.sent]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def limiter(clock: ManualClock) -> AsyncIterator[PriorityRateLimiter]:
    limiter = PriorityRateLimiter(clock=clock, sleep=clock.sleep)
    await limiter.initialize()
    yield limiter
    await limiter.shutdown()


def send(
    limiter: PriorityRateLimiter,
    recorder: Recorder,
    chat_id: int | str | None,
    label: Any,
    priority: Priority | None = None,
    endpoint: str = "sendMessage",
) -> asyncio.Task[Any]:
    """Start one request through the limiter, as ExtBot would."""
    data: dict[str, Any] = {"text": "x"}
    if chat_id is not None:
        data["chat_id"] = chat_id
    rate_limit_args = None if priority is None else {"priority": priority}
    return asyncio.ensure_future(
        limiter.process_request(recorder, (label,), {}, endpoint, data, rate_limit_args)
    )


async def test_requests_that_send_nothing_pass_straight_through(
    limiter: PriorityRateLimiter, clock: ManualClock
) -> None:
    recorder = Recorder(clock)
    flood = [send(limiter, recorder, ALICE, n) for n in range(10)]
    await settle()
    for endpoint in ("getMe", "answerCallbackQuery", "getFile", "setMyCommands"):
        await asyncio.wait_for(
            limiter.process_request(recorder, (endpoint,), {}, endpoint, {"chat_id": ALICE}, None),
            timeout=1,
        )
    assert recorder.labels()[-4:] == ["getMe", "answerCallbackQuery", "getFile", "setMyCommands"]
    assert clock.now == 0.0
    for task in flood:
        task.cancel()


async def test_a_burst_to_one_chat_is_paced_after_its_first_messages(
    limiter: PriorityRateLimiter, clock: ManualClock
) -> None:
    recorder = Recorder(clock)
    tasks = [send(limiter, recorder, "101", n) for n in range(6)]
    await clock.advance(0.2)
    assert recorder.labels() == [0, 1, 2]
    await clock.advance(10.0)
    await asyncio.gather(*tasks)
    times = [t for t, _, _ in recorder.sent]
    assert recorder.labels() == list(range(6))
    assert all(
        later - earlier == pytest.approx(1 / 0.97)
        for earlier, later in itertools.pairwise(times[3:])
    )


async def test_many_chats_are_sent_at_the_global_rate(
    limiter: PriorityRateLimiter, clock: ManualClock
) -> None:
    recorder = Recorder(clock)
    tasks = [send(limiter, recorder, chat, chat, Priority.BROADCAST) for chat in range(1, 301)]
    await clock.advance(5.0)
    times = [t for t, _, _ in recorder.sent]
    assert max_in_window(times, 1.0) <= 30
    assert len(times) >= 0.95 * 30 * 5
    await clock.advance(10.0)
    await asyncio.gather(*tasks)


async def test_a_reply_behind_100_broadcasts_is_sent_next(
    limiter: PriorityRateLimiter, clock: ManualClock
) -> None:
    recorder = Recorder(clock)
    tasks = [send(limiter, recorder, chat, chat, Priority.BROADCAST) for chat in range(1, 101)]
    await clock.advance(0.5)
    sent_before = len(recorder.sent)
    assert 10 <= sent_before < 100
    tasks.append(send(limiter, recorder, ALICE, "reply"))
    await clock.advance(0.04)
    assert recorder.labels()[sent_before] == "reply"
    await clock.advance(10.0)
    await asyncio.gather(*tasks)


async def test_a_busy_chat_does_not_hold_up_another_chat(
    limiter: PriorityRateLimiter, clock: ManualClock
) -> None:
    recorder = Recorder(clock)
    alice = [send(limiter, recorder, ALICE, f"alice {n}") for n in range(10)]
    await clock.advance(0.2)
    bob = send(limiter, recorder, BOB, "bob", Priority.BROADCAST)
    await clock.advance(0.05)
    assert bob.done()
    assert recorder.labels()[-1] == "bob"
    await clock.advance(20.0)
    await asyncio.gather(*alice)


async def test_a_reply_answered_429_is_retried_after_the_pause_and_other_chats_go_on(
    limiter: PriorityRateLimiter, clock: ManualClock
) -> None:
    recorder = Recorder(clock)
    recorder.refuse["alice"] = [3.0]
    alice = send(limiter, recorder, ALICE, "alice")
    await clock.advance(0.1)
    bob = send(limiter, recorder, BOB, "bob")
    await clock.advance(0.1)
    assert bob.done()
    assert not alice.done()
    await clock.advance(3.0)
    assert await alice == {"ok": True}
    assert recorder.sent[-1][0] == pytest.approx(3.0)
    assert recorder.labels() == ["bob", "alice"]


async def test_a_reply_gives_up_after_max_retries(
    limiter: PriorityRateLimiter, clock: ManualClock
) -> None:
    recorder = Recorder(clock)
    recorder.refuse["alice"] = [1.0, 1.0, 1.0]
    alice = send(limiter, recorder, ALICE, "alice")
    await clock.advance(5.0)
    with pytest.raises(RetryAfter):
        await alice
    assert recorder.sent == []


async def test_a_reply_that_met_a_server_error_is_sent_again_shortly(
    limiter: PriorityRateLimiter, clock: ManualClock
) -> None:
    recorder = Recorder(clock)
    recorder.fail["alice"] = [NetworkError("Bad Gateway")]
    alice = send(limiter, recorder, ALICE, "alice")
    await clock.advance(0.4)
    assert not alice.done()
    await clock.advance(0.2)
    assert await alice == {"ok": True}
    assert recorder.sent[-1][0] == pytest.approx(0.5)


async def test_refusals_and_notifications_are_not_retried_on_errors(
    limiter: PriorityRateLimiter, clock: ManualClock
) -> None:
    recorder = Recorder(clock)
    recorder.fail["reply"] = [BadRequest("Message text is empty")]
    recorder.fail["notice"] = [NetworkError("Bad Gateway")]
    reply = send(limiter, recorder, ALICE, "reply")
    notice = send(limiter, recorder, BOB, "notice", Priority.NOTIFICATION)
    await clock.advance(2.0)
    with pytest.raises(BadRequest):
        await reply
    with pytest.raises(NetworkError):  # the outbox retries it, with its own backoff
        await notice
    assert recorder.sent == []


async def test_a_broadcast_answered_429_pauses_its_chat_and_is_handed_back(
    limiter: PriorityRateLimiter, clock: ManualClock
) -> None:
    recorder = Recorder(clock)
    recorder.refuse["alice"] = [4.0]
    broadcast = send(limiter, recorder, ALICE, "alice", Priority.BROADCAST)
    await clock.advance(0.01)
    with pytest.raises(RetryAfter):
        await broadcast
    later = send(limiter, recorder, ALICE, "alice again", Priority.NOTIFICATION)
    await clock.advance(3.9)
    assert not later.done()
    await clock.advance(0.2)
    assert later.done()
    assert recorder.sent[-1][0] == pytest.approx(4.0)


async def test_a_new_request_wakes_a_dispatcher_sleeping_on_a_paused_chat(
    limiter: PriorityRateLimiter, clock: ManualClock
) -> None:
    recorder = Recorder(clock)
    limiter.scheduler.record_retry_after(ALICE, 30.0, clock.now)
    waiting = send(limiter, recorder, ALICE, "alice")
    await clock.advance(1.0)
    for _ in range(3):
        send(limiter, recorder, ALICE, "alice")
    bob = [send(limiter, recorder, BOB, f"bob {n}") for n in range(4)]
    await clock.advance(1.2)
    assert sum(task.done() for task in bob) == 4
    assert not waiting.done()
    waiting.cancel()


async def test_edits_of_inline_messages_take_a_global_token_only(
    limiter: PriorityRateLimiter, clock: ManualClock
) -> None:
    recorder = Recorder(clock)
    tasks = [send(limiter, recorder, None, n, endpoint="editMessageText") for n in range(30)]
    await clock.advance(1.0)
    assert len(recorder.sent) == 30
    await asyncio.gather(*tasks)


async def test_an_unknown_priority_is_refused(limiter: PriorityRateLimiter) -> None:
    recorder = Recorder(ManualClock())
    with pytest.raises(ValueError, match="Priority"):
        await limiter.process_request(
            recorder, ("x",), {}, "sendMessage", {"chat_id": 1}, {"priority": 7}
        )


async def test_shutdown_cancels_requests_still_waiting(clock: ManualClock) -> None:
    limiter = PriorityRateLimiter(clock=clock, sleep=clock.sleep)
    recorder = Recorder(clock)
    tasks = [send(limiter, recorder, ALICE, n) for n in range(5)]
    await settle()
    await limiter.shutdown()
    await settle()
    assert [task.cancelled() for task in tasks] == [False] + [True] * 4
    assert limiter.scheduler.waiting == 0


def test_retry_after_seconds_reads_both_forms_without_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert retry_after_seconds(RetryAfter(7)) == 7.0
    monkeypatch.delenv("PTB_TIMEDELTA")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        legacy = RetryAfter(3)
    assert retry_after_seconds(legacy) == 3.0


# --- wired into python-telegram-bot ------------------------------------------------------


class FakeTelegram(BaseRequest):
    """Answers the Bot API in memory; the first sendMessage to chat 1 gets a 429."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.refused = False

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = None,
        write_timeout: object = None,
        connect_timeout: object = None,
        pool_timeout: object = None,
    ) -> tuple[int, bytes]:
        endpoint = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data else {}
        self.calls.append((endpoint, dict(params)))
        if endpoint == "getMe":
            result: Any = {"id": 1, "is_bot": True, "first_name": "b", "username": "b_bot"}
        elif endpoint == "sendMessage":
            if not self.refused:
                self.refused = True
                body = {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests: retry after 1",
                    "parameters": {"retry_after": 1},
                }
                return 429, json.dumps(body).encode()
            chat = {"id": int(str(params["chat_id"])), "type": "private", "first_name": "r"}
            result = {"message_id": 1, "date": 0, "chat": chat, "text": params["text"]}
        else:
            result = True
        return 200, json.dumps({"ok": True, "result": result}).encode()


async def test_extbot_passes_priorities_and_retries_a_reply_after_429() -> None:
    telegram = FakeTelegram()
    limiter = PriorityRateLimiter()
    bot: ExtBot[dict[str, Any]] = ExtBot(
        "1:" + "a" * 35, request=telegram, get_updates_request=telegram, rate_limiter=limiter
    )
    async with bot:
        message = await asyncio.wait_for(bot.send_message(chat_id=1, text="hi"), timeout=5)
        assert message.text == "hi"
        telegram.refused = False
        with pytest.raises(RetryAfter):
            await bot.send_message(
                chat_id=2, text="news", rate_limit_args={"priority": Priority.BROADCAST}
            )
    sends = [endpoint for endpoint, _ in telegram.calls if endpoint == "sendMessage"]
    assert sends == ["sendMessage"] * 3
