"""P2: a broadcast to N residents through the outbox, against the configured send limit.

Spec 06, P2: a broadcast to 10,000 residents must run at ≥ 0.95 × the configured
limit, receive 429s for ≤ 0.1 % of its sends, and lose nothing. Telegram's limit
is 30 messages/s; to finish in under a minute the benchmark scales the emulator's
limits and the bot's ``[sending]`` limits by the same factor (10 by default: 300/s).

How it goes:

1. a fresh SQLite database, upgraded with ``python -m bot migrate``;
2. N emulator users each write to the bot once (a user must have talked to a
   bot before it can write to them); their updates are confirmed with
   ``getUpdates`` here, so the bot starts with nothing to receive;
3. N outbox rows (priority ``BROADCAST``, one per user) are enqueued through
   the storage API, as the broadcasts service will do;
4. the bot (``python -m bot run``) starts; its outbox sender delivers the rows;
5. when every row is sent (or nothing moved for a while) the bot is stopped and
   the figures are read: the emulator's receive time of every message (rate from
   the first to the last), its 429 count, the messages each user received
   (exactly one each), and the rows' final status in the database.

    python3 dev.py bench p2_broadcast [--recipients 10000] [--scale 10] [--smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import tomllib
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from bench.harness import (
    ROOT,
    BenchFailed,
    EmulatorProcess,
    Process,
    keep_logs,
    machine,
    migrate,
    run_bench,
    say,
    sqlite_url,
    table,
    write_config,
    xieshang_bot,
)
from civic.outbox import DeliveryStatus, OutgoingMessage, Priority
from storage.chats import SeenChat
from storage.database import Database
from tgemu.client import EmulatorClient, EmulatorUser

RATE_BAR = 0.95
RETRY_BAR = 0.001
STALL_SECONDS = 30.0
CONCURRENCY = 64
"""Control-API requests at once while preparing and reading (the emulator's cost, not the bot's)."""

T = TypeVar("T")


async def bounded(count: int, make: Callable[[int], Awaitable[T]]) -> list[T]:
    """``make(0) … make(count - 1)``, at most :data:`CONCURRENCY` at once, results in order."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(index: int) -> T:
        async with gate:
            return await make(index)

    return list(await asyncio.gather(*(one(i) for i in range(count))))


def scaled_sending(scale: float) -> dict[str, float]:
    """The shipped ``[sending]`` limits times ``scale``, within what the configuration allows."""
    shipped = tomllib.loads((ROOT / "config.toml").read_text(encoding="utf-8"))["sending"]
    return {
        "global_per_second": float(shipped["global_per_second"]) * scale,
        "per_chat_per_second": min(30.0, float(shipped["per_chat_per_second"]) * scale),
        "per_chat_burst": min(30, round(int(shipped["per_chat_burst"]) * scale)),
        "per_group_per_minute": float(shipped["per_group_per_minute"]) * scale,
    }


async def open_chats(client: EmulatorClient, emulator: EmulatorProcess, count: int) -> list[int]:
    """``count`` users who each wrote to the bot once; their updates confirmed already."""

    async def resident(index: int) -> int:
        user = await client.create_user(first_name=f"Resident{index}", language_code="zh-hans")
        await user.send_text("你好")
        return user.id

    ids = await bounded(count, resident)
    offset = 0
    async with aiohttp.ClientSession() as http:
        while True:
            url = f"{emulator.url}/bot{emulator.token}/getUpdates"
            body = {"offset": offset, "limit": 100, "timeout": 0}
            async with http.post(url, json=body) as response:
                updates = (await response.json())["result"]
            if not updates:
                return ids
            offset = updates[-1]["update_id"] + 1


async def enqueue_broadcast(database: Database, chat_ids: Sequence[int], run: str) -> None:
    """One ``BROADCAST`` row per chat, as the broadcasts service will queue them."""
    now = datetime.now(UTC)
    messages = [
        OutgoingMessage(
            chat_id,
            {"text": f"社区通知：本月协商议事会将于周六上午九点召开。({n + 1})"},
            priority=Priority.BROADCAST,
            dedupe_key=f"bench-p2:{run}:{chat_id}",
        )
        for n, chat_id in enumerate(chat_ids)
    ]
    async with database.uow() as uow:
        await uow.chats.seen([SeenChat(c, "private", "zh-hans") for c in chat_ids], now)
        await uow.outbox.enqueue(messages, now)
        await uow.commit()


async def outbox_counts(database: Database) -> dict[str, int]:
    async with database.uow(read_only=True) as uow:
        return await uow.outbox.counts()


async def wait_for_broadcast(
    client: EmulatorClient, database: Database, process: Process, count: int
) -> None:
    """Until no row is pending, or nothing was sent for :data:`STALL_SECONDS`."""
    sent, last_progress = 0, time.monotonic()
    while process.running():
        await asyncio.sleep(0.5)
        now_sent = sum((await client.stats())["sends_per_chat"].values())
        if now_sent != sent:
            sent, last_progress = now_sent, time.monotonic()
        if sent >= count and (await outbox_counts(database)).get("pending", 0) == 0:
            return
        if time.monotonic() - last_progress > STALL_SECONDS:
            say(f"nothing sent for {STALL_SECONDS:.0f} s; stopping with {sent} of {count} sent")
            return
    raise BenchFailed(f"the bot exited during the broadcast:\n{process.tail()}")


@dataclass(frozen=True)
class Figures:
    recipients: int
    limit: float
    messages: int
    first_at: float
    last_at: float
    too_many_requests: int
    send_calls: int
    rows: dict[str, int]
    without: int
    duplicates: int
    seconds_to_last: float
    bot_cpu_seconds: float

    @property
    def rate(self) -> float:
        span = self.last_at - self.first_at
        return (self.messages - 1) / span if span > 0 and self.messages > 1 else 0.0

    @property
    def retry_share(self) -> float:
        return self.too_many_requests / self.messages if self.messages else float("nan")

    @property
    def rows_not_sent(self) -> int:
        return sum(n for status, n in self.rows.items() if status != DeliveryStatus.SENT.value)

    @property
    def lost(self) -> int:
        return max(self.rows_not_sent, self.without)


async def read_figures(
    client: EmulatorClient,
    database: Database,
    chat_ids: Sequence[int],
    limit: float,
    spawned_at_wall: float,
    bot_cpu_seconds: float,
) -> Figures:
    stats = await client.stats()
    users = [EmulatorUser(client, {"id": c, "first_name": "Resident"}) for c in chat_ids]

    async def received(index: int) -> list[float]:
        events, _ = await users[index].events(0, 0)
        return [m.received_at for m in events if m.event == "sent"]

    per_user = await bounded(len(users), received)
    times = sorted(t for got in per_user for t in got)
    counts = Counter(len(got) for got in per_user)
    methods: dict[str, Any] = stats["methods"]
    return Figures(
        recipients=len(chat_ids),
        limit=limit,
        messages=len(times),
        first_at=times[0] if times else 0.0,
        last_at=times[-1] if times else 0.0,
        too_many_requests=int(stats["too_many_requests"]),
        send_calls=int(methods.get("sendMessage", 0)),
        rows=await outbox_counts(database),
        without=counts.get(0, 0),
        duplicates=sum((n - 1) * users for n, users in counts.items() if n > 1),
        seconds_to_last=(times[-1] - spawned_at_wall) if times else float("nan"),
        bot_cpu_seconds=bot_cpu_seconds,
    )


def print_figures(args: argparse.Namespace, f: Figures) -> None:
    rate_ratio = f.rate / f.limit
    print(
        f"P2 broadcast through the outbox: {f.recipients:,} recipients, emulator and bot limits "
        f"scaled ×{args.scale:g} (global {f.limit:g} msg/s); SQLite"
    )
    print(f"machine: {machine()}")
    print()
    rows = [
        ["messages received", f"{f.messages:,} of {f.recipients:,}", ""],
        ["achieved rate, first to last send", f"{f.rate:,.1f} msg/s", ""],
        ["÷ configured limit", f"{rate_ratio:.3f}", f"≥ {RATE_BAR:g}"],
        [
            "429s received ÷ sends",
            f"{f.too_many_requests} ÷ {f.messages:,} = {f.retry_share:.3%}",
            f"≤ {RETRY_BAR:.1%}",
        ],
        ["sendMessage calls", f"{f.send_calls:,}", ""],
        ["outbox rows by status", ", ".join(f"{k} {v:,}" for k, v in sorted(f.rows.items())), ""],
        ["users without the message", f"{f.without:,}", "0"],
        ["duplicate messages", f"{f.duplicates:,}", "0"],
        ["bot spawn → last send", f"{f.seconds_to_last:.1f} s", ""],
        [
            "bot CPU time, spawn → end",
            f"{f.bot_cpu_seconds:.1f} s ({f.bot_cpu_seconds / f.seconds_to_last:.0%} of a core)",
            "",
        ],
    ]
    print(table(["figure", "value", "bar"], rows))
    print()

    def verdict(ok: bool) -> str:
        return "meets" if ok else "misses"

    print(
        f"P2: achieved {rate_ratio:.3f} × the limit (bar ≥ {RATE_BAR:g}: "
        f"{verdict(rate_ratio >= RATE_BAR)}); 429s {f.retry_share:.3%} of sends "
        f"(bar ≤ {RETRY_BAR:.1%}: {verdict(f.retry_share <= RETRY_BAR)}); lost {f.lost}, "
        f"duplicates {f.duplicates} (bar 0: {verdict(f.lost == 0 and f.duplicates == 0)})"
    )


async def main_async(args: argparse.Namespace) -> int:
    sending = scaled_sending(args.scale)
    limit = sending["global_per_second"]
    with tempfile.TemporaryDirectory(prefix="xieshang-p2-") as temp:
        workdir = Path(temp)
        emulator = EmulatorProcess(workdir, limits=True, limit_scale=args.scale)
        await emulator.start()
        spec = xieshang_bot(
            workdir / "xieshang", config=write_config(workdir / "p2.toml", {"sending": sending})
        )
        database = Database(sqlite_url(workdir / "xieshang"))
        process = spec.process(emulator, workdir / "xieshang.log")
        try:
            migrate(spec, emulator, workdir / "migrate.log")
            async with EmulatorClient(emulator.url) as client:
                say(f"opening {args.recipients:,} private chats")
                chat_ids = await open_chats(client, emulator, args.recipients)
                say("queueing the broadcast in the outbox")
                await enqueue_broadcast(database, chat_ids, f"{time.time():.0f}")
                await client.reset_stats()
                spawned_at_wall = time.time()
                process.start()
                say("the bot is running; waiting for the broadcast to finish")
                await wait_for_broadcast(client, database, process, len(chat_ids))
                cpu = process.cpu_seconds()
                process.stop()
                say("reading what every user received")
                figures = await read_figures(
                    client, database, chat_ids, limit, spawned_at_wall, cpu
                )
        except BenchFailed:
            say(f"logs kept in {keep_logs(workdir, 'p2')}")
            raise
        finally:
            process.stop()
            await database.dispose()
            emulator.stop()
        broken = figures.messages == 0 or figures.lost or figures.duplicates
        if broken:
            say(f"logs kept in {keep_logs(workdir, 'p2')}")
    print_figures(args, figures)
    if figures.messages == 0:
        print(
            "BENCHMARK BROKEN: the bot sent nothing (is the outbox sender running?)",
            file=sys.stderr,
        )
    elif broken:
        print("BENCHMARK BROKEN: messages lost or duplicated", file=sys.stderr)
    return 1 if broken else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.p2_broadcast", description="P2: broadcast through the outbox"
    )
    parser.add_argument("--recipients", type=int, default=10_000, help="residents (10,000)")
    parser.add_argument(
        "--scale", type=float, default=10.0, help="emulator and bot limits × this (10: 300/s)"
    )
    parser.add_argument("--smoke", action="store_true", help="300 recipients")
    args = parser.parse_args(argv)
    if args.smoke:
        args.recipients = 300
    return run_bench(main_async, args)


if __name__ == "__main__":
    sys.exit(main())
