"""Guards end to end: forged and stale buttons refused, one flooding user slowed alone."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.callbacks import CallbackCodec
from tests.e2e.conftest import SIGNING_KEY
from tgemu.client import EmulatorClient, EmulatorUser

pytestmark = pytest.mark.e2e

INVALID = "This button is not valid, so nothing was done."
OUT_OF_DATE = "This button is out of date."
SLOW_DOWN = "You are sending messages faster than I can take them."


async def a_message_from_the_bot(emulator: EmulatorClient) -> tuple[EmulatorUser, int]:
    user = await emulator.create_user(first_name="Ann", language_code="en")
    await user.send_text("/help")
    return user, (await user.next_message(timeout=10)).message_id


async def nothing_more(user: EmulatorUser, seconds: float = 1.0) -> bool:
    try:
        await user.next_message(timeout=seconds)
    except TimeoutError:
        return True
    return False


async def test_a_forged_button_is_refused_with_a_message(emulator: EmulatorClient) -> None:
    user, message_id = await a_message_from_the_bot(emulator)
    valid = CallbackCodec(SIGNING_KEY.encode()).encode("help")
    forged = valid[:-1] + ("A" if valid[-1] != "A" else "B")  # one character of the signature

    for data in (forged, "help", "1help|1~AAAAAAAAAAA"):
        press = await user.press(message_id, callback_data=data, forge=True, chat_id=user.id)
        answer = await press.answer(timeout=10)
        assert answer.text == INVALID
        assert answer.show_alert is True
    assert await nothing_more(user)


async def test_a_valid_button_whose_flow_is_over_is_answered_as_out_of_date(
    emulator: EmulatorClient,
) -> None:
    user, message_id = await a_message_from_the_bot(emulator)
    data = CallbackCodec(SIGNING_KEY.encode()).encode("finished_flow", 42)

    press = await user.press(message_id, callback_data=data, forge=True, chat_id=user.id)
    answer = await press.answer(timeout=10)

    assert answer.text is not None
    assert answer.text.startswith(OUT_OF_DATE)
    assert await nothing_more(user)


async def test_a_flooding_user_is_slowed_down_without_delaying_another(
    emulator: EmulatorClient,
) -> None:
    flooder = await emulator.create_user(first_name="Flood", language_code="en")
    calm = await emulator.create_user(first_name="Calm", language_code="en")

    flood = asyncio.gather(*(flooder.send_text(f"/f{n}") for n in range(100)))
    await asyncio.sleep(0.2)  # the flood is under way
    started = time.monotonic()
    await calm.send_text("/help")
    calm_reply = await calm.next_message(timeout=10)
    calm_latency = time.monotonic() - started
    await flood

    replies = []
    while True:
        try:
            replies.append((await flooder.next_message(timeout=2)).text or "")
        except TimeoutError:
            break

    warnings = [r for r in replies if r.startswith(SLOW_DOWN)]
    answered = [r for r in replies if not r.startswith(SLOW_DOWN)]
    assert "xieshang" in (calm_reply.text or "")
    assert calm_latency < 2.0, f"the calm user waited {calm_latency:.1f} s"
    assert len(warnings) == 1
    assert 20 <= len(answered) <= 21, "20 per 10 s, perhaps one more as the window slides"
