"""Report deadlines end to end: the desk hears of a new report; a missed deadline is
escalated to the community's secretary exactly once, even when it passed while the
bot was stopped.

Everything is observed through what the bot says. The emulator clock is shared by
the session: the test that moves it puts it back. Other tests leave open reports
in Hedong, whose deadlines pass too when the clock jumps, so messages are matched
by this test's tracking number.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import load_config_file
from bot.config.reports import deadline_policy_from_config, working_calendar_from_config
from civic.reports_deadlines import deadlines_at_submission
from tests.e2e.conftest import TICK_SECONDS, BotProcess
from tests.e2e.test_register_claims import saying
from tests.e2e.test_reports_filing import text_of
from tests.e2e.test_reports_handling import file_noise_report, find_card
from tests.e2e.test_residents import WAIT, say, tap
from tests.e2e.test_roles import registered_resident
from tests.helpers import SHIPPED_CONFIG
from tgemu.client import EmulatorClient, EmulatorUser, ReceivedMessage

pytestmark = pytest.mark.e2e

CONFIG = load_config_file(SHIPPED_CONFIG)
TIMEZONE = "Asia/Shanghai"  # config.toml [county] timezone, Hedong's
TICK = float(TICK_SECONDS)
"""The e2e ``[scheduler] tick_seconds``: a due job runs at most this late."""


async def messages_saying(user: EmulatorUser, *parts: str, seconds: float) -> list[str]:
    """Every new message to ``user`` holding all ``parts``, until none comes for ``seconds``."""
    found: list[str] = []
    while True:
        try:
            message = await user.wait_for(saying(*parts), timeout=seconds)
        except TimeoutError:
            return found
        found.append(text_of(message))


async def staff_member(emulator: EmulatorClient, name: str) -> EmulatorUser:
    """Someone about to get a role, who has talked to the bot (a bot cannot write first)
    and chose English (messages follow the language a person chose, not their client's)."""
    return await registered_resident(emulator, name)


async def answers(emulator: EmulatorClient) -> ReceivedMessage:
    """The bot answers again (it is polling after a restart); asked by a newcomer, so no
    one's messages are read past."""
    probe = await emulator.create_user(first_name="Probe", language_code="en")
    return await say(probe, "/help")


async def test_the_grid_worker_of_the_grid_hears_of_a_new_report_and_opens_its_card(
    emulator: EmulatorClient, county_admin: EmulatorUser
) -> None:
    worker = await staff_member(emulator, "Desk")
    granted = await say(county_admin, f"/grant {worker.id} grid_worker HD-G1")
    assert str(worker.id) in text_of(granted)
    elsewhere = await staff_member(emulator, "Elsewhere")
    await say(county_admin, f"/grant {elsewhere.id} grid_worker HD-G2")
    hana = await registered_resident(emulator, "Hana")

    number = await file_noise_report(hana)

    notice = await worker.wait_for(saying(number, "New report"), timeout=WAIT)
    assert "Noise" in text_of(notice)
    assert "Accept by" in text_of(notice)
    assert str(hana.id) not in text_of(notice)  # who reported it: the card's rules decide
    card = await tap(worker, notice, "Open the card")
    assert number in text_of(card)
    assert "Accept" in card.button_texts
    assert await messages_saying(elsewhere, number, seconds=1.5) == []  # another grid's desk


async def test_a_deadline_passed_while_the_bot_was_stopped_is_escalated_once_after_restart(
    emulator: EmulatorClient, county_admin: EmulatorUser, bot: BotProcess
) -> None:
    secretary = await staff_member(emulator, "Shuji")
    made = await say(county_admin, f"/grant {secretary.id} staff HD secretary")
    assert str(secretary.id) in text_of(made)
    worker = await staff_member(emulator, "Late")
    await say(county_admin, f"/grant {worker.id} grid_worker HD-G1")
    hana = await registered_resident(emulator, "Hana")
    before = (await emulator.clock())["offset_seconds"]
    try:
        filed_at = datetime.fromtimestamp((await emulator.clock())["now"], UTC)
        number = await file_noise_report(hana)
        await worker.wait_for(saying(number, "New report"), timeout=WAIT)
        deadlines = deadlines_at_submission(
            filed_at,
            "noise",
            deadline_policy_from_config(CONFIG),
            working_calendar_from_config(CONFIG),
            TIMEZONE,
        )
        past_accept_by = deadlines.accept_by + timedelta(minutes=5)
        assert past_accept_by < deadlines.resolve_by  # only the accept deadline is missed

        bot.terminate()
        await emulator.set_clock(
            offset_seconds=before + (past_accept_by - filed_at).total_seconds()
        )
        bot.start()
        await answers(emulator)

        first = await secretary.wait_for(saying(number, "Overdue"), timeout=TICK + WAIT)
        assert "not accepted" in text_of(first)
        assert "Open the card" in first.button_texts
        # A few more ticks, then another restart: still that one escalation.
        assert await messages_saying(secretary, number, seconds=TICK + 5) == []
        bot.terminate()
        bot.start()
        await answers(emulator)
        assert await messages_saying(secretary, number, seconds=5) == []
        # The reminder (09:00 on the due day) fell due while the bot was down: skipped.
        assert await messages_saying(worker, number, "must be accepted today", seconds=1) == []

        card = await tap(secretary, first, "Open the card")
        assert "Reassign" in card.button_texts  # the secretary can act on it
    finally:
        await emulator.set_clock(offset_seconds=before)
        if bot.process is None or bot.process.poll() is not None:
            bot.start()  # the next tests need it running
        await say(county_admin, f"/revoke {secretary.id} staff HD")  # test_roles wants none
        await asyncio.sleep(3.0)  # the bot reads the emulator's clock every 2 s


async def test_staff_reassigning_to_a_desk_nobody_holds_are_told_and_a_held_desk_hears_it_passed(
    emulator: EmulatorClient, county_admin: EmulatorUser
) -> None:
    clerk = await staff_member(emulator, "Dispatch")
    made = await say(county_admin, f"/grant {clerk.id} staff HD clerk")
    assert str(clerk.id) in text_of(made)
    worker = await staff_member(emulator, "Taker")
    await say(county_admin, f"/grant {worker.id} grid_worker HD-G1")
    hana = await registered_resident(emulator, "Hana")
    try:
        number = await file_noise_report(hana)
        await worker.wait_for(saying(number, "New report"), timeout=WAIT)
        card = await find_card(clerk, number)

        targets = await tap(clerk, card, "Reassign")
        press = await clerk.press(targets, text="County Civil Affairs Bureau")  # no liaison
        answer = await press.answer(timeout=WAIT)
        assert answer.show_alert
        assert "Nobody at County Civil Affairs Bureau uses the bot yet" in (answer.text or "")
        card = await clerk.wait_for_edit(targets, timeout=WAIT)
        assert "Reassign" in card.button_texts

        targets = await tap(clerk, card, "Reassign")
        press = await clerk.press(targets, text="the grid worker of 河东社区第一网格")
        answer = await press.answer(timeout=WAIT)
        assert not answer.show_alert  # someone holds that desk: nothing to warn of
        passed = await worker.wait_for(saying(number, "passed to you"), timeout=WAIT)
        assert "resolve by" in text_of(passed)
        assert "New report" not in text_of(passed)
    finally:
        await say(county_admin, f"/revoke {clerk.id} staff HD")
