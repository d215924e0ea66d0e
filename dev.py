#!/usr/bin/env python3
"""The developer's entry point: ``python3 dev.py run`` and ``python3 dev.py test``.

Works on a fresh machine with only Python 3.11+: it creates ``.venv``, installs
the project with the versions pinned in ``requirements.lock`` (again only when
``pyproject.toml`` or the lock changed), then runs the command.

    python3 dev.py run [ARGS]        the bot (local mode on the emulator when no token is set);
                                     ARGS go to `python -m bot`, e.g. `check-config`
    python3 dev.py test [PYTEST]     ruff, ruff format --check, mypy, then the whole test suite
    python3 dev.py bench NAME [ARGS] a benchmark of bench/ (p1_interactive, p2_broadcast,
                                     p5_startup), e.g. `bench p5_startup --smoke`
    python3 dev.py lock              re-pin requirements.lock from the current environment
    python3 dev.py revision MESSAGE  write a new migration from changes to storage/tables.py
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
LOCK = ROOT / "requirements.lock"
STAMP = VENV / ".xieshang-installed"
CHECKED_PATHS = [
    "bot",
    "civic",
    "handlers",
    "storage",
    "scheduler",
    "tgemu",
    "tests",
    "bench",
    "dev.py",
]
BENCHMARKS = ["p1_interactive", "p2_broadcast", "p5_startup"]


def say(message: str) -> None:
    print(f"[dev] {message}", flush=True)


def run(*command: str | Path, env: dict[str, str] | None = None) -> int:
    return subprocess.call([str(part) for part in command], cwd=ROOT, env=env)


def fingerprint() -> str:
    digest = hashlib.sha256()
    for path in (ROOT / "pyproject.toml", LOCK):
        if path.exists():
            digest.update(path.read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def ensure_environment() -> None:
    """Create the virtual environment and install the project, when needed."""
    if sys.version_info < (3, 11):
        sys.exit(f"xieshang needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        say(f"creating the virtual environment in {VENV.name}/")
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    wanted = fingerprint()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    say("installing the project and its dependencies (first run, or they changed)")
    pip = [PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    constraints = ["--constraint", LOCK] if LOCK.exists() else []
    if run(*pip, *constraints, "--editable", ".[dev]") != 0:
        sys.exit("installing the dependencies failed: see pip's message above")
    STAMP.write_text(wanted)


def command_run(args: list[str]) -> int:
    return run(PYTHON, "-m", "bot", *(args or ["run"]))


def command_test(args: list[str]) -> int:
    """Lint, format check, type check, then every test tier; stop at the first failure."""
    steps: list[tuple[str, list[str | Path]]] = [
        ("ruff check", [BIN / "ruff", "check", *CHECKED_PATHS]),
        ("ruff format --check", [BIN / "ruff", "format", "--check", *CHECKED_PATHS]),
        ("mypy", [BIN / "mypy"]),
        ("mypy bench", [BIN / "mypy", "bench"]),  # not an installed package, so named here
        ("pytest", [PYTHON, "-m", "pytest", *args]),
    ]
    for name, command in steps:
        say(name)
        code = run(*command)
        if code != 0:
            say(f"{name} failed (exit code {code})")
            return code
    say("all checks passed")
    return 0


def command_bench(args: list[str]) -> int:
    """One benchmark of bench/, e.g. ``bench p1_interactive --smoke``; figures come last."""
    if not args or args[0] not in BENCHMARKS:
        sys.exit(f"usage: python3 dev.py bench {{{','.join(BENCHMARKS)}}} [--smoke] [ARGS]")
    return run(PYTHON, "-m", f"bench.{args[0]}", *args[1:])


def command_lock(_: list[str]) -> int:
    frozen = subprocess.run(
        [PYTHON, "-m", "pip", "freeze", "--exclude-editable"],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout.splitlines()
    pins = [line for line in frozen if line and not line.startswith(("-e", "xieshang"))]
    LOCK.write_text("\n".join(pins) + "\n")
    STAMP.write_text(fingerprint())
    say(f"wrote {len(pins)} pins to {LOCK.name}")
    return 0


def command_revision(args: list[str]) -> int:
    if not args:
        sys.exit('usage: python3 dev.py revision "what the migration changes"')
    code = (
        "import asyncio, sys, tempfile\n"
        "from storage.engine import create_engine\n"
        "from storage.migrate import make_revision\n"
        "async def main():\n"
        "    engine = create_engine(f'sqlite+aiosqlite:///{tempfile.mkdtemp()}/head.sqlite3')\n"
        "    await make_revision(engine, sys.argv[1])\n"
        "    await engine.dispose()\n"
        "asyncio.run(main())\n"
    )
    return run(PYTHON, "-c", code, " ".join(args))


COMMANDS = {
    "run": command_run,
    "test": command_test,
    "bench": command_bench,
    "lock": command_lock,
    "revision": command_revision,
}


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(__doc__)
        return 2
    ensure_environment()
    return COMMANDS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
