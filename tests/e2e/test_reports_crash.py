"""Filing survives crashes: a SIGKILL keeps the draft, and a submit handled twice files once.

Spec 02 and issue 6: "a draft survives /cancel, restarts and crashes, and can be
resumed"; "a crash in the middle of filing keeps the draft; the submit update
delivered twice files one report". test_reports_filing.py covers ``/cancel``
and a redelivered submit without a crash; here the bot is SIGKILLed (as a
crash, no clean-up), at the preview and right after the submit press; updates
handled just before the kill whose "done" was not yet committed may be handled
again after it (at-least-once, see test_crash.py), which may repeat a reply but
must not change the draft or file twice. What the bot stored is observed
through what it says: the resumed preview, the tracking number,
``/myreports``, and the number the next report gets (a second filing would
have used up a number of the sequence).
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import BotProcess
from tests.e2e.test_reports_filing import NUMBER, choose_category, number_in, text_of
from tests.e2e.test_residents import WAIT, say, tap
from tests.e2e.test_roles import registered_resident
from tgemu.client import EmulatorClient, EmulatorUser, ReceivedMessage

pytestmark = pytest.mark.e2e

PHOTO = b"\xff\xd8\xff\xe0 a car across the fire lane \xff\xd9"
RESTART_WAIT = 30.0
"""The first answer after a restart waits for the bot process to start."""


def sequence_of(number: str) -> tuple[str, int]:
    """``HD-2026-0042`` → ``("HD-2026", 42)``."""
    prefix, _, sequence = number.rpartition("-")
    return prefix, int(sequence)


async def preview_with_two_photos_and_a_pin(resident: EmulatorUser) -> ReceivedMessage:
    """Go through /report up to the preview: category, description, two photos, a pin."""
    flow = await say(resident, "/report")
    flow = await choose_category(resident, flow, "Blocked fire lane")
    await say(resident, "A van blocks the fire lane behind building 1 every night")
    await resident.send_photo(PHOTO)
    await resident.next_message(timeout=WAIT)
    await resident.send_photo(PHOTO + b"2")
    second = await resident.next_message(timeout=WAIT)
    assert "Photos kept: 2 of 10" in text_of(second)
    location = await tap(resident, second, "Done")
    assert "Send a location pin" in text_of(location)
    await resident.send_location(27.7185, 109.1885)
    anonymous = await resident.next_message(timeout=WAIT)
    preview = await tap(resident, anonymous, "Show my name")
    assert_whole_draft(preview)
    return preview


def assert_whole_draft(preview: ReceivedMessage) -> None:
    for shown in (
        "Category: Blocked fire lane",
        "A van blocks the fire lane behind building 1 every night",
        "Photos: 2",
        "Location: pin sent",
    ):
        assert shown in text_of(preview), shown


async def file_another(resident: EmulatorUser) -> tuple[str, str]:
    """File a plain report (no photos, the building); return /report's first text and the number."""
    flow = await say(resident, "/report")
    opened = text_of(flow)
    flow = await choose_category(resident, flow, "Other")
    photos = await say(resident, "The notice board at the gate has fallen down")
    location = await tap(resident, photos, "Skip (no photo)")
    anonymous = await tap(resident, location, "At Hedong Garden Building 1")
    preview = await tap(resident, anonymous, "Show my name")
    return opened, number_in(await tap(resident, preview, "Submit report"))


async def test_a_sigkill_at_the_preview_keeps_the_draft_and_a_submit_delivered_twice_files_once(
    emulator: EmulatorClient, bot: BotProcess
) -> None:
    una = await registered_resident(emulator, "Una")
    await preview_with_two_photos_and_a_pin(una)

    bot.kill()
    bot.start()

    await una.send_text("/report")
    # The last updates before the kill may be handled again after it (their "done" was
    # not committed yet) and answered again; they come first: one user's updates are in order.
    resumed = await una.wait_for(
        lambda m: m.event == "sent" and "nothing you entered was lost" in text_of(m),
        timeout=RESTART_WAIT,
    )
    assert_whole_draft(resumed)
    press = await una.press(resumed, text="Submit report")
    await press.answer(timeout=WAIT)
    submitted = await una.wait_for_edit(resumed, timeout=WAIT)
    number = number_in(submitted)
    assert press.update_id is not None

    await emulator.redeliver(press.update_id)
    listing = await say(una, "/myreports")  # after the redelivered press: one user, in order
    assert NUMBER.findall(text_of(listing)) == [number]
    assert f"{number} · Blocked fire lane" in text_of(listing)

    prefix, sequence = sequence_of(number)
    opened, following = await file_another(una)
    assert "nothing you entered was lost" not in opened  # the draft became the report
    assert sequence_of(following) == (prefix, sequence + 1)


async def test_a_sigkill_right_after_the_submit_press_files_one_report(
    emulator: EmulatorClient, bot: BotProcess
) -> None:
    vic = await registered_resident(emulator, "Vic")
    preview = await preview_with_two_photos_and_a_pin(vic)

    press = await vic.press(preview, text="Submit report")
    bot.kill()  # the press is received, perhaps handled, perhaps not
    bot.start()
    assert press.update_id is not None
    await emulator.redeliver(press.update_id)  # and Telegram delivers it once more

    await vic.send_text("/myreports")
    listing = await vic.wait_for(
        lambda m: m.event == "sent" and "Your reports" in text_of(m), timeout=RESTART_WAIT
    )
    numbers = NUMBER.findall(text_of(listing))
    assert len(numbers) == 1, text_of(listing)
    assert f"{numbers[0]} · Blocked fire lane" in text_of(listing)
    prefix, sequence = sequence_of(numbers[0])
    opened, following = await file_another(vic)
    assert "nothing you entered was lost" not in opened  # the draft became the report
    assert sequence_of(following) == (prefix, sequence + 1)
