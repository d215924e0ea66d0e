"""P5: start-up time, process spawn to the first ``getUpdates``, xieshang against the echo bot.

Spec 06, P5: xieshang must be ready to receive within 2 × the time a bare
python-telegram-bot echo bot takes. The clock starts just before the process is
spawned and stops when the emulator has counted the bot's first ``getUpdates``
(its ``/control/stats``, read every 5 ms; the emulator runs without limits or
delays, so the figure is the bot's own start-up: interpreter, imports,
configuration, database, ``getMe``).

xieshang is timed twice: on a database already at the newest schema (a normal
restart; the bar applies here) and on a fresh SQLite file (the first start of an
install, which runs every migration). Samples take turns, after one untimed
warm-up round (file cache, bytecode); the figure is the median.

    python3 dev.py bench p5_startup [--repeat 7] [--smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness import (
    BenchFailed,
    BotSpec,
    EmulatorProcess,
    aiogram_echo,
    ensure_aiogram,
    keep_logs,
    machine,
    median,
    method_calls,
    migrate,
    ptb_echo,
    run_bench,
    say,
    table,
    xieshang_bot,
)
from tgemu.client import EmulatorClient

BAR = 2.0
POLL_SECONDS = 0.005


@dataclass
class Contender:
    """A way to start a bot; ``spec`` is called per sample (a fresh database needs a new one)."""

    name: str
    spec: Callable[[int], BotSpec]
    samples: list[float] = field(default_factory=list)


async def time_to_first_poll(
    spec: BotSpec, emulator: EmulatorProcess, client: EmulatorClient, log_path: Path
) -> float:
    """Seconds from spawning the bot to the emulator's first ``getUpdates`` from it."""
    await client.reset_stats()
    process = spec.process(emulator, log_path)
    process.start()
    try:
        deadline = process.spawned_at + 120.0
        while await method_calls(client, "getUpdates") == 0:
            now = time.monotonic()
            if not process.running():
                raise BenchFailed(f"{spec.name} exited before polling:\n{process.tail()}")
            if now > deadline:
                raise BenchFailed(f"{spec.name} never called getUpdates:\n{process.tail()}")
            await asyncio.sleep(POLL_SECONDS)
        return time.monotonic() - process.spawned_at
    finally:
        process.stop(grace=3.0)


def contenders(
    workdir: Path, emulator: EmulatorProcess, *, smoke: bool, aiogram: bool
) -> tuple[list[Contender], str]:
    migrated = xieshang_bot(workdir / "migrated")
    migrate(migrated, emulator, workdir / "migrate.log")
    found = [
        Contender(ptb_echo().name, lambda _: ptb_echo()),
        Contender("xieshang, migrated database", lambda _: migrated),
        Contender("xieshang, fresh database", lambda n: xieshang_bot(workdir / f"fresh-{n}")),
    ]
    if smoke:
        return found, "aiogram: not run in the smoke size"
    if not aiogram:
        return found, "aiogram: not run (--no-aiogram)"
    python = ensure_aiogram()
    if isinstance(python, str):
        return found, f"aiogram: unavailable ({python})"
    return [*found, Contender("aiogram 3 echo", lambda _: aiogram_echo(python))], ""


def ratio_line(mine: Contender, echo: Contender, *, barred: bool) -> str:
    ratio = median(mine.samples) / median(echo.samples)
    verdict = (
        f"bar ≤ {BAR:g}: {'meets' if ratio <= BAR else 'misses'}"
        if barred
        else "no bar: the first start of an install"
    )
    return (
        f"P5: {mine.name} {median(mine.samples):.2f} s ÷ {echo.name} "
        f"{median(echo.samples):.2f} s = {ratio:.2f} ({verdict})"
    )


def print_figures(
    args: argparse.Namespace, notes: Sequence[str], found: Sequence[Contender]
) -> None:
    echo = found[0]
    print(
        f"P5 start-up, process spawn to the first getUpdates: {args.repeat} sample(s) each, "
        "median (min–max)"
    )
    print(f"machine: {machine()}")
    print("xieshang: SQLite, the shipped config.toml (places synced at every start)")
    for note in notes:
        print(note)
    print()
    rows = [
        [
            c.name,
            f"{median(c.samples):.3f}",
            f"{min(c.samples):.3f}–{max(c.samples):.3f}",
            f"{median(c.samples) / median(echo.samples):.2f}",
        ]
        for c in found
    ]
    print(table(["bot", "seconds", "min–max", "÷ PTB echo"], rows))
    print()
    print(ratio_line(found[2], echo, barred=False))
    print(ratio_line(found[1], echo, barred=True))


async def main_async(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="xieshang-p5-") as temp:
        workdir = Path(temp)
        emulator = EmulatorProcess(workdir, limits=False)
        await emulator.start()
        try:
            found, note = contenders(
                workdir, emulator, smoke=args.smoke, aiogram=not args.no_aiogram
            )
            async with EmulatorClient(emulator.url) as client:
                rounds = args.repeat if args.smoke else args.repeat + 1
                for round_ in range(rounds):
                    warm = not args.smoke and round_ == 0
                    for contender in found:
                        spec = contender.spec(round_)
                        log = workdir / f"{contender.name.replace(' ', '_')}-{round_}.log"
                        seconds = await time_to_first_poll(spec, emulator, client, log)
                        label = "warm-up" if warm else f"round {round_}"
                        say(f"{label}: {contender.name} {seconds:.3f} s")
                        if not warm:
                            contender.samples.append(seconds)
        except BenchFailed:
            say(f"logs kept in {keep_logs(workdir, 'p5')}")
            raise
        finally:
            emulator.stop()
    print_figures(args, [note] if note else [], found)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.p5_startup", description="P5: start-up to the first getUpdates"
    )
    parser.add_argument("--repeat", type=int, default=7, help="timed samples per bot (7)")
    parser.add_argument("--smoke", action="store_true", help="one sample each, no warm-up")
    parser.add_argument("--no-aiogram", action="store_true", help="skip the aiogram echo")
    args = parser.parse_args(argv)
    if args.smoke:
        args.repeat = 1
    return run_bench(main_async, args)


if __name__ == "__main__":
    sys.exit(main())
