"""P1: interactive throughput of xieshang against bare echo bots, same emulator, same run.

Spec 06, P1a (emulator limits off) and P1b (50 ms added to every Bot API call,
a real round trip to Telegram being 50-300 ms). Simulated residents each send a
short script of updates; every bot under test gets the same backlog, and the
figure is updates answered per second. Each reply is matched to the update it
answers, so replies out of per-user order are counted too.

How one run goes, per bot: start the bot as a process, let it answer one
``/help`` (warm), create the users, **pause the bot (SIGSTOP)**, queue every
user's script through the emulator (users concurrently, each user's updates in
order), then resume it and time from the resume to the last reply the
emulator received. Pausing keeps the benchmark's own sending off the clock and
off the CPU while the bot works, so the figure is the bot's.

The script: the report flow (command, buttons, text, photo, confirm) is issue 6
and not built yet, so today's script alternates ``/help`` and an unknown command
``/x<user>n<step>``: each should be answered with one message, and the unknown
command's answer quotes it, which identifies the reply. To switch to the report
flow, write another :class:`Script` and use it in :func:`measure`; steps that
press buttons of the previous reply also need a closed-loop driver (see
:class:`Step`), and the echo bots a text-only equivalent of the flow.

    python3 dev.py bench p1_interactive [--users 200] [--per-user 6] [--smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness import (
    BotSpec,
    EmulatorProcess,
    aiogram_echo,
    ensure_aiogram,
    keep_logs,
    machine,
    median,
    ptb_echo,
    run_bench,
    say,
    table,
    warm_up,
    write_config,
    xieshang_bot,
)
from bot.i18n import SUPPORTED_LOCALES, Catalogs
from tgemu.client import EmulatorClient, EmulatorUser

HELP = "/help"
CONCURRENCY_LEVELS = (4, 16, 256)
"""``concurrent_updates(K)`` levels of the PTB echo, as the spec lists them."""

DELAY_MS = 50
STALL_SECONDS = 20.0
"""A run ends when no reply came for this long (a bot that lost updates)."""

UNLIMITED_SENDING = {
    "sending": {"global_per_second": 1000, "per_chat_per_second": 30, "per_chat_burst": 30}
}
"""xieshang's own send limits at their maxima: with the emulator's limits off there is
no Telegram limit for them to mirror, and the echo bots have none."""


@dataclass(frozen=True)
class Step:
    """One update a simulated resident sends, and the key its reply is recognised by.

    Today's steps only send text, so a whole script is queued in advance while
    the bot is paused. Report-flow steps that press buttons of the previous
    reply need :func:`run_bot` to wait for that reply before each such step (a
    closed loop, timed from the first send); give ``send`` that reply then.
    """

    key: str
    send: Callable[[EmulatorUser], Awaitable[object]]


class Script:
    """What each simulated resident does, and how a reply is matched to a step."""

    description = ""

    def steps(self, user_index: int, count: int) -> list[Step]:
        raise NotImplementedError

    def reply_key(self, text: str) -> str:
        raise NotImplementedError


class CommandScript(Script):
    """``/help`` and unknown commands alternately: what the bot answers today."""

    description = (
        "/help and an unknown command /x<user>n<step> alternately "
        "(the report flow is issue 6, not built yet)"
    )
    _unknown = re.compile(r"/x\d+n\d+")

    def __init__(self) -> None:
        catalogs = Catalogs.load()
        self._help_texts = {HELP} | {
            catalogs.messages(locale)["common.help"] for locale in SUPPORTED_LOCALES
        }

    def steps(self, user_index: int, count: int) -> list[Step]:
        texts = [HELP if n % 2 == 0 else f"/x{user_index}n{n}" for n in range(count)]
        return [Step(text, _sender(text)) for text in texts]

    def reply_key(self, text: str) -> str:
        """``/help`` for xieshang's help text or an echoed /help; else the command quoted.

        xieshang's help starts with ``common.help`` and goes on with what this
        person's roles can do, so the reply is matched by that beginning.
        Anything else (say, an unknown-command answer to ``/help``) keeps its own
        text as key, so it counts as unexpected without taking a step's place.
        """
        if any(text.startswith(help_text) for help_text in self._help_texts):
            return HELP
        found = self._unknown.search(text)
        return found.group(0) if found else f"other: {text[:60]}"


def _sender(text: str) -> Callable[[EmulatorUser], Awaitable[object]]:
    async def send(user: EmulatorUser) -> object:
        return await user.send_text(text)

    return send


@dataclass(frozen=True)
class UserOutcome:
    replies: int
    matched: int
    out_of_order: int
    unexpected: int
    last_matched: int
    """Index (in arrival order) of the last reply that answered a step; -1 if none."""


def judge_replies(expected: Sequence[str], replies: Sequence[str]) -> UserOutcome:
    """Match replies (keys, in arrival order) to the script's steps; count those out of order.

    A key that appears once in the script names its step; replies with a repeated
    key (``/help``) take that key's steps in order. A reply is out of order when
    a reply to a later step arrived before it. Keys not (or no longer) in the
    script are unexpected: a duplicate, or an answer to something not sent.
    """
    positions: dict[str, list[int]] = {}
    for index, key in enumerate(expected):
        positions.setdefault(key, []).append(index)
    latest = last_matched = -1
    matched = out_of_order = unexpected = 0
    for index, key in enumerate(replies):
        free = positions.get(key)
        if not free:
            unexpected += 1
            continue
        position = free.pop(0)
        matched += 1
        last_matched = index
        if position < latest:
            out_of_order += 1
        latest = max(latest, position)
    return UserOutcome(len(replies), matched, out_of_order, unexpected, last_matched)


@dataclass
class RunResult:
    bot: str
    updates: int
    replies: int = 0
    matched: int = 0
    out_of_order: int = 0
    unexpected: int = 0
    rates: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    """The bot's CPU time per answered update, resume to end (milliseconds)."""
    xieshang: bool = False
    example_unexpected: str = ""

    @property
    def missing(self) -> int:
        return self.updates - self.matched

    @property
    def rate(self) -> float:
        return median(self.rates)

    @property
    def order_preserved(self) -> bool:
        """Every step answered, none out of order (extra replies are reported apart)."""
        return self.out_of_order == 0 and self.missing == 0

    def add(self, other: RunResult) -> None:
        """Fold another round in: the worst counts, every rate."""
        self.replies = max(self.replies, other.replies)
        self.matched = min(self.matched, other.matched)
        self.out_of_order = max(self.out_of_order, other.out_of_order)
        self.unexpected = max(self.unexpected, other.unexpected)
        self.example_unexpected = self.example_unexpected or other.example_unexpected
        self.rates += other.rates
        self.cpu_ms += other.cpu_ms


async def queue_script(user: EmulatorUser, steps: Sequence[Step]) -> None:
    for step in steps:
        await step.send(user)


async def wait_for_replies(
    client: EmulatorClient, expected: int, stall_seconds: float, alive: Callable[[], bool]
) -> None:
    """Until the bot has sent ``expected`` messages and then nothing for a second.

    Waiting on after ``expected`` catches extra replies (duplicates); a bot that
    sends nothing new for ``stall_seconds`` before that has lost some updates.
    The timing comes from the emulator's receive times, not from this loop.
    """
    sent, last_progress = 0, time.monotonic()
    while True:
        await asyncio.sleep(0.05)
        now_sent = sum((await client.stats())["sends_per_chat"].values())
        if now_sent != sent:
            sent, last_progress = now_sent, time.monotonic()
            continue
        quiet = time.monotonic() - last_progress
        if (sent >= expected and quiet > 1.0) or quiet > stall_seconds or not alive():
            return


async def run_bot(
    spec: BotSpec,
    emulator: EmulatorProcess,
    client: EmulatorClient,
    script: Script,
    *,
    users: int,
    per_user: int,
    delay_ms: float,
    log_path: Path,
) -> RunResult:
    """One bot, one backlog of ``users × per_user`` updates; see the module's docstring."""
    await client.reset()
    process = spec.process(emulator, log_path)
    process.start()
    try:
        if delay_ms:
            await client.set_delay(delay_ms)
        await warm_up(client, process)
        residents = await client.create_users(users, first_name="Resident", language_code="en")
        scripts = [script.steps(i, per_user) for i in range(users)]
        process.pause()
        await asyncio.gather(*(queue_script(u, s) for u, s in zip(residents, scripts, strict=True)))
        await client.reset_stats()
        started = time.time()
        cpu_before = process.cpu_seconds()
        process.resume()
        expected = users * per_user
        await wait_for_replies(client, expected, STALL_SECONDS, process.running)
        cpu = process.cpu_seconds() - cpu_before
        logs = await asyncio.gather(*(u.events(0, 0) for u in residents))
    finally:
        process.stop()
    result = RunResult(spec.name, expected, xieshang=spec.xieshang)
    last_reply = started
    for steps, (events, _) in zip(scripts, logs, strict=True):
        sent = [m for m in events if m.event == "sent"]
        outcome = judge_replies(
            [s.key for s in steps], [script.reply_key(m.text or "") for m in sent]
        )
        result.replies += outcome.replies
        result.matched += outcome.matched
        result.out_of_order += outcome.out_of_order
        result.unexpected += outcome.unexpected
        if outcome.unexpected and not result.example_unexpected:
            keys = {s.key for s in steps}
            result.example_unexpected = next(
                m.text or "" for m in sent if script.reply_key(m.text or "") not in keys
            )
        if outcome.last_matched >= 0:
            last_reply = max(last_reply, sent[outcome.last_matched].received_at)
    elapsed = last_reply - started
    result.rates.append(result.matched / elapsed if elapsed > 0 else 0.0)
    result.cpu_ms.append(1000 * cpu / result.matched if result.matched else float("nan"))
    return result


def bots_under_test(workdir: Path, *, smoke: bool, aiogram: bool) -> tuple[list[BotSpec], str]:
    """xieshang and the baselines; the second value says why aiogram is missing, if it is."""
    config = write_config(workdir / "config-p1.toml", UNLIMITED_SENDING)
    bots = [xieshang_bot(workdir / "xieshang", config=config), ptb_echo()]
    if smoke:
        return bots, "aiogram: not run in the smoke size"
    bots += [ptb_echo(k) for k in CONCURRENCY_LEVELS]
    if not aiogram:
        return bots, "aiogram: not run (--no-aiogram)"
    python = ensure_aiogram()
    if isinstance(python, str):
        return bots, f"aiogram: unavailable ({python})"
    return [*bots, aiogram_echo(python)], ""


def report_mode(title: str, results: Sequence[RunResult]) -> str:
    rows = [
        [
            r.bot,
            f"{r.rate:,.0f}",
            f"{median(r.cpu_ms):.2f}",
            f"{r.matched}/{r.updates}",
            r.out_of_order,
            r.unexpected,
            "yes" if r.order_preserved else "no",
        ]
        for r in results
    ]
    headers = [
        "bot",
        "updates/s",
        "bot CPU ms/update",
        "answered",
        "out of order",
        "unexpected",
        "order kept",
    ]
    return f"{title}\n{table(headers, rows)}"


def ratio_line(label: str, results: Sequence[RunResult], bar: float) -> tuple[str, float | None]:
    mine = next(r for r in results if r.xieshang)
    baselines = [
        r for r in results if not r.xieshang and r.order_preserved and r.bot.startswith("PTB")
    ]
    if not baselines:
        return f"{label}: no python-telegram-bot echo kept per-user order: no baseline", None
    best = max(baselines, key=lambda r: r.rate)
    ratio = mine.rate / best.rate if best.rate else float("nan")
    verdict = "meets" if ratio >= bar else "misses"
    return (
        f"{label}: xieshang {mine.rate:,.0f}/s ÷ best order-preserving echo "
        f"({best.bot}) {best.rate:,.0f}/s = {ratio:.2f} (bar ≥ {bar:g}: {verdict})",
        ratio,
    )


def problems(results: Sequence[RunResult]) -> list[str]:
    """What makes the benchmark itself fail (never a timing)."""
    found = []
    for r in results:
        if r.matched == 0:
            found.append(f"{r.bot} answered nothing")
        elif (r.xieshang or r.bot == ptb_echo().name) and not r.order_preserved:
            found.append(f"{r.bot}: {r.missing} unanswered, {r.out_of_order} out of order")
    return found


def extra_replies(results: Sequence[RunResult]) -> list[str]:
    """Replies that answer no step: a bug in the bot, shown but not failing the benchmark."""
    return [
        f"{r.bot} sent {r.unexpected} replies that answer no step, "
        f"e.g. {r.example_unexpected[:80]!r}"
        for r in results
        if r.unexpected
    ]


@dataclass(frozen=True)
class Mode:
    label: str
    title: str
    delay_ms: float
    bar: float
    """xieshang's updates/s over the best order-preserving PTB echo's must reach this."""


MODES = (
    Mode("P1a", "emulator limits off", 0.0, 0.5),
    Mode("P1b", f"{DELAY_MS} ms added to every Bot API call", DELAY_MS, 1.0),
)


async def measure(
    emulator: EmulatorProcess,
    bots: Sequence[BotSpec],
    mode: Mode,
    args: argparse.Namespace,
    workdir: Path,
) -> list[RunResult]:
    """Every bot in one mode, ``args.rounds`` times, the bots taking turns."""
    script = CommandScript()
    results: dict[str, RunResult] = {}
    async with EmulatorClient(emulator.url) as client:
        for round_ in range(args.rounds):
            for spec in bots:
                say(f"{mode.label}, round {round_ + 1}: {spec.name}")
                result = await run_bot(
                    spec,
                    emulator,
                    client,
                    script,
                    users=args.users,
                    per_user=args.per_user,
                    delay_ms=mode.delay_ms,
                    log_path=workdir / f"{mode.label}-{spec.name.replace(' ', '_')}.log",
                )
                say(
                    f"  {result.rate:,.0f} updates/s, {result.matched}/{result.updates} "
                    f"answered, {result.out_of_order} out of order"
                )
                if spec.name in results:
                    results[spec.name].add(result)
                else:
                    results[spec.name] = result
    return list(results.values())


def print_figures(
    args: argparse.Namespace, notes: Sequence[str], outcomes: Sequence[tuple[Mode, list[RunResult]]]
) -> None:
    updates = args.users * args.per_user
    print(
        f"P1 interactive throughput: {args.users} users × {args.per_user} updates = "
        f"{updates} updates per bot; {args.rounds} round(s), median updates/s"
    )
    print(f"script: {CommandScript.description}")
    print(f"machine: {machine()}")
    print("xieshang: SQLite; [sending] limits at their maxima (1000/s, 30/s and burst 30 per chat)")
    for note in notes:
        print(note)
    for mode, results in outcomes:
        print()
        print(report_mode(f"{mode.label} — {mode.title}", results))
    print()
    for mode, results in outcomes:
        for line in extra_replies(results):
            print(f"note ({mode.label}): {line}")
    for mode, results in outcomes:
        mine = next(r for r in results if r.xieshang)
        print(f"{mode.label}: xieshang replies out of per-user order: {mine.out_of_order} (bar 0)")
    for mode, results in outcomes:
        print(ratio_line(mode.label, results, mode.bar)[0])


async def main_async(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="xieshang-p1-") as temp:
        workdir = Path(temp)
        bots, aiogram_note = bots_under_test(workdir, smoke=args.smoke, aiogram=not args.no_aiogram)
        emulator = EmulatorProcess(workdir, limits=False)
        await emulator.start()
        try:
            outcomes = [
                (mode, await measure(emulator, bots, mode, args, workdir)) for mode in MODES
            ]
        finally:
            emulator.stop()
        failures = [p for _, results in outcomes for p in problems(results)]
        if failures:
            say(f"logs kept in {keep_logs(workdir, 'p1')}")
    print_figures(args, [aiogram_note] if aiogram_note else [], outcomes)
    if failures:
        print("BENCHMARK BROKEN: " + "; ".join(failures), file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.p1_interactive", description="P1: interactive throughput vs echo bots"
    )
    parser.add_argument("--users", type=int, default=200, help="simulated residents (200)")
    parser.add_argument("--per-user", type=int, default=6, help="updates each (6)")
    parser.add_argument("--rounds", type=int, default=1, help="repeat and take the median (1)")
    parser.add_argument(
        "--smoke", action="store_true", help="20 users, xieshang and sequential PTB only"
    )
    parser.add_argument("--no-aiogram", action="store_true", help="skip the aiogram echo")
    args = parser.parse_args(argv)
    if args.smoke:
        args.users, args.per_user, args.rounds = 20, 6, 1
    return run_bench(main_async, args)


if __name__ == "__main__":
    sys.exit(main())
