"""What every benchmark needs: the emulator and the bots as processes, configs, tables.

The benchmarks run everything as an operator would: the emulator is
``python -m tgemu``, xieshang is ``python -m bot run`` in polling mode, and the
bare echo bots are scripts of their own. Nothing here imports the bot; the
benchmarks talk to the bots only through the emulator (and P2 to the database
through :mod:`storage`, as the services do).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tgemu.client import EmulatorClient

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PYTHON = sys.executable
AIOGRAM_VENV = BENCH / ".venv-aiogram"
AIOGRAM_PIN = "aiogram==3.31.0"
"""aiogram pins pydantic below the project's, so it lives in a virtual environment of its own."""


class BenchFailed(Exception):
    """The benchmark itself broke (a bot did not answer, replies out of order, ...)."""


def run_bench(
    main_async: Callable[[argparse.Namespace], Coroutine[Any, Any, int]], args: argparse.Namespace
) -> int:
    """Run a benchmark's coroutine; a broken benchmark says so last and exits 1."""
    try:
        return asyncio.run(main_async(args))
    except BenchFailed as error:
        print(f"BENCHMARK BROKEN: {error}", file=sys.stderr)
        return 1


def say(message: str) -> None:
    """Progress goes to stderr, so that the figures are the last thing on stdout."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def machine() -> str:
    """One line naming the machine the figures come from."""
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"{os.cpu_count()} cores ({model}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def make_token() -> str:
    return f"{6_100_000_000 + secrets.randbelow(1_000_000)}:{secrets.token_urlsafe(30)}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Process:
    """A child process whose output goes to a log file."""

    name: str
    argv: Sequence[str]
    env: Mapping[str, str]
    log_path: Path
    popen: subprocess.Popen[bytes] | None = None
    spawned_at: float = 0.0
    """``time.monotonic()`` just before the process was spawned."""

    def start(self) -> None:
        with self.log_path.open("ab") as out:
            self.spawned_at = time.monotonic()
            self.popen = subprocess.Popen(
                list(self.argv), cwd=ROOT, env=dict(self.env), stdout=out, stderr=subprocess.STDOUT
            )

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def cpu_seconds(self) -> float:
        """CPU time the process has used so far (user + system; Linux ``/proc``), or NaN."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def pause(self) -> None:
        """SIGSTOP: the process stops reading, so work can be queued for it."""
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if it has not exited after ``grace`` seconds."""
        if self.popen is None or self.popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGCONT)  # a paused process cannot handle SIGTERM
        self.popen.terminate()
        try:
            self.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=10)

    def tail(self, lines: int = 25) -> str:
        if not self.log_path.exists():
            return "(no output)"
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:]) or "(no output)"


async def wait_for_port(port: int, process: Process, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not process.running():
            raise BenchFailed(f"{process.name} exited before listening:\n{process.tail()}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        await asyncio.sleep(0.02)
    raise BenchFailed(f"{process.name} does not listen on port {port}:\n{process.tail()}")


@dataclass
class EmulatorProcess:
    """``python -m tgemu`` on a free port, with one bot token registered."""

    workdir: Path
    token: str = field(default_factory=make_token)
    limits: bool = False
    limit_scale: float = 1.0
    process: Process | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.port = free_port()
        argv = [PYTHON, "-m", "tgemu", "--port", str(self.port), "--token", self.token]
        if not self.limits:
            argv.append("--no-limits")
        argv += ["--limit-scale", str(self.limit_scale)]
        self.process = Process("the emulator", argv, base_env(), self.workdir / "emulator.log")
        self.process.start()
        await wait_for_port(self.port, self.process)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


def base_env() -> dict[str, str]:
    """A clean environment: no token or database of the developer's leaks in."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(ROOT)),
        "LANG": "C.UTF-8",
        "PTB_TIMEDELTA": "true",
    }


def write_config(path: Path, overrides: Mapping[str, Mapping[str, object]]) -> Path:
    """A copy of ``config.toml`` with some ``[section] key = value`` lines changed.

    Line-based so that the shipped file's comments and layout stay; every key
    named must exist in its section.
    """
    lines = (ROOT / "config.toml").read_text(encoding="utf-8").splitlines()
    pending = {
        (section, key): value for section, keys in overrides.items() for key, value in keys.items()
    }
    section = ""
    for index, line in enumerate(lines):
        header = re.match(r"\s*\[([^\[\]]+)\]", line)
        if header:
            section = header.group(1).strip()
            continue
        assignment = re.match(r"\s*([A-Za-z0-9_]+)\s*=", line)
        if assignment and (section, assignment.group(1)) in pending:
            value = pending.pop((section, assignment.group(1)))
            rendered = str(value).lower() if isinstance(value, bool) else repr(value)
            lines[index] = f"{assignment.group(1)} = {rendered}"
    if pending:
        raise ValueError(f"config.toml has no such keys: {sorted(pending)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass(frozen=True)
class BotSpec:
    """How to start one bot under test."""

    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    xieshang: bool = False

    def process(
        self, emulator: EmulatorProcess, log_path: Path, argv: Sequence[str] | None = None
    ) -> Process:
        env = {
            **base_env(),
            "TELEGRAM_BOT_TOKEN": emulator.token,
            "TELEGRAM_API_URL": emulator.url,
            **self.env,
        }
        return Process(self.name, argv or self.argv, env, log_path)


SIGNING_KEY = secrets.token_urlsafe(32)


def xieshang_bot(
    data_dir: Path, *, config: Path | None = None, database_url: str | None = None
) -> BotSpec:
    """``python -m bot run`` in polling mode, with its own data folder and SQLite database."""
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {
        "XIESHANG_SIGNING_KEY": SIGNING_KEY,
        "XIESHANG_DATA_DIR": str(data_dir),
        "XIESHANG_DATABASE_URL": database_url or sqlite_url(data_dir),
    }
    if config is not None:
        env["XIESHANG_CONFIG"] = str(config)
    return BotSpec("xieshang", (PYTHON, "-m", "bot", "run"), env, xieshang=True)


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite+aiosqlite:///{data_dir / 'xieshang.sqlite3'}"


def migrate(spec: BotSpec, emulator: EmulatorProcess, log_path: Path) -> None:
    """``python -m bot migrate`` with the bot's environment: the schema, before the bot runs."""
    process = spec.process(emulator, log_path, (PYTHON, "-m", "bot", "migrate"))
    process.start()
    assert process.popen is not None
    if process.popen.wait(timeout=120) != 0:
        raise BenchFailed(f"`python -m bot migrate` failed:\n{process.tail()}")


def ptb_echo(concurrency: int | None = None) -> BotSpec:
    """The bare python-telegram-bot echo bot, sequential or ``concurrent_updates(K)``."""
    argv: tuple[str, ...] = (PYTHON, str(BENCH / "echo_ptb.py"))
    if concurrency is None:
        return BotSpec("PTB echo, sequential", argv)
    return BotSpec(
        f"PTB echo, concurrent_updates({concurrency})", (*argv, "--concurrent", str(concurrency))
    )


def aiogram_echo(python: Path) -> BotSpec:
    return BotSpec("aiogram 3 echo", (str(python), str(BENCH / "echo_aiogram.py")))


def ensure_aiogram() -> Path | str:
    """The aiogram venv's python (created with pip on first use), or why it is unavailable."""
    python = AIOGRAM_VENV / "bin" / "python"
    stamp = AIOGRAM_VENV / ".installed"
    if python.exists() and stamp.exists() and stamp.read_text() == AIOGRAM_PIN:
        return python
    say(f"creating {AIOGRAM_VENV.relative_to(ROOT)} with {AIOGRAM_PIN} (once)")
    try:
        subprocess.run(
            [PYTHON, "-m", "venv", "--clear", str(AIOGRAM_VENV)],
            check=True,
            capture_output=True,
            timeout=120,
        )
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                AIOGRAM_PIN,
            ],
            check=True,
            capture_output=True,
            timeout=600,
        )
    except (OSError, subprocess.SubprocessError) as error:
        detail = getattr(error, "stderr", b"") or b""
        last = detail.decode(errors="replace").strip().splitlines()[-1:] or [str(error)]
        return f"creating its virtual environment failed ({last[0][:200]})"
    stamp.write_text(AIOGRAM_PIN)
    return python


async def method_calls(client: EmulatorClient, name: str) -> int:
    """How often the bot called a Bot API method (names are case-insensitive)."""
    methods = (await client.stats())["methods"]
    return sum(int(n) for method, n in methods.items() if method.lower() == name.lower())


async def wait_until_polling(
    client: EmulatorClient, process: Process, seconds: float = 60.0
) -> None:
    """Until the bot has called ``getUpdates`` once (stats must have been reset before)."""
    deadline = time.monotonic() + seconds
    while await method_calls(client, "getUpdates") == 0:
        if not process.running():
            raise BenchFailed(f"{process.name} exited:\n{process.tail()}")
        if time.monotonic() > deadline:
            raise BenchFailed(f"{process.name} never called getUpdates:\n{process.tail()}")
        await asyncio.sleep(0.02)


async def warm_up(client: EmulatorClient, process: Process) -> None:
    """One command answered: the bot is up, its imports and connections are warm."""
    await wait_until_polling(client, process)
    probe = await client.create_user(first_name="Probe", language_code="en")
    await probe.send_text("/help")
    try:
        await probe.next_message(timeout=60)
    except TimeoutError:
        raise BenchFailed(f"{process.name} did not answer /help:\n{process.tail()}") from None


def keep_logs(workdir: Path, name: str) -> Path:
    """Copy a failed run's logs to ``bench/results/`` (ignored by git) before the temp dir goes."""
    target = BENCH / "results" / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    target.mkdir(parents=True, exist_ok=True)
    for log in workdir.rglob("*.log"):
        shutil.copy(log, target / log.name)
    return target


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table, so that figures can be pasted into the README as they are."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])
