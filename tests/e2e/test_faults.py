"""Quality bar R2: with 5xx errors and slow answers from Telegram, nothing queued is lost."""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.conftest import BotProcess
from tests.e2e.test_outbox import (
    SENDER_WINDOW,
    notices_received,
    queue_notice,
    residents,
    wait_until,
)
from tgemu.client import EmulatorClient

pytestmark = pytest.mark.e2e


async def test_notices_arrive_through_server_errors_and_delays(
    emulator: EmulatorClient, bot: BotProcess
) -> None:
    users = await residents(emulator, 100)
    await asyncio.sleep(1)
    before = (await emulator.stats())["sends_per_chat"]
    await emulator.set_faults(error_rate=0.1, delay_rate=0.3, delay_max_ms=2000)
    try:
        queue_notice(bot, "The road in front of building 3 is closed on Sunday.")

        async def all_delivered() -> bool:
            return all((await notices_received(emulator, users, before)).values())

        await wait_until(all_delivered, 90)
        stats = await emulator.stats()
    finally:
        await emulator.clear_faults()

    got = await notices_received(emulator, users, before)
    assert stats["injected_errors"] > 0
    assert sum(n - 1 for n in got.values()) <= SENDER_WINDOW
    # The bot kept receiving through the faults (its getUpdates failed too):
    probe = await emulator.create_user(first_name="After", language_code="en")
    await probe.send_text("/help")
    assert "xieshang" in ((await probe.next_message(timeout=20)).text or "")
