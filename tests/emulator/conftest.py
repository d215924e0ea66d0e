"""Fixtures for the emulator's contract tests: an emulator, its client, PTB bots.

Every test gets a fresh in-process emulator on a free port (cheap: no process is
spawned).  Flood limits are off unless a test switches them on, so tests that
send many messages do not trip over them by accident.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from telegram import Bot
from telegram.ext import Application, ApplicationBuilder

from tgemu import Emulator
from tgemu.client import EmulatorClient

TOKEN = "123456789:AAH-emulator-test-token"
BOT_ID = 123456789


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(port=0, tokens=[TOKEN], limits=False) as emu:
        yield emu


@pytest.fixture
async def client(emulator: Emulator) -> AsyncIterator[EmulatorClient]:
    async with EmulatorClient(emulator.url) as c:
        yield c


@pytest.fixture
async def bot(emulator: Emulator) -> AsyncIterator[Bot]:
    """A bare PTB Bot (no Application) pointed at the emulator."""
    async with make_bot(emulator.url) as b:
        yield b


def make_bot(url: str, token: str = TOKEN) -> Bot:
    return Bot(token, base_url=f"{url}/bot", base_file_url=f"{url}/file/bot")


def make_app(url: str, token: str = TOKEN) -> Application:  # type: ignore[type-arg]
    return (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{url}/bot")
        .base_file_url(f"{url}/file/bot")
        .job_queue(None)
        .build()
    )


@asynccontextmanager
async def polling(app: Application) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """Run ``app`` with long polling (1 s polls, so stopping is quick)."""
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0.0, timeout=1)
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def png(width: int, height: int) -> bytes:
    """A PNG header that is enough for anyone reading its size (and byte equality)."""
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
        + b"\x00" * 64
    )
