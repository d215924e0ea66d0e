"""After resolution, end to end: "Is it fixed?", the rating, reopening, the expiry, the
staff member answering for a resident without Telegram; issue 6's whole scenario from
filing to ``/stats`` and its XLSX.

Everything goes through the emulator as users would (the resident, the grid
worker, a staff member, the county admin who grants their roles) and through the
control API (the clock, downloads, redeliveries); nothing reads the bot's
database. Other tests file reports in the same community and month, so figures
are checked for this report (its row in the XLSX) and for agreement between the
text and the file, not for totals only this test makes.
"""

from __future__ import annotations

import asyncio
import io
import re

import openpyxl
import pytest

from tests.e2e.test_register_claims import saying
from tests.e2e.test_reports_filing import choose_category, number_in, text_of
from tests.e2e.test_reports_handling import find_card
from tests.e2e.test_residents import WAIT, say, tap
from tests.e2e.test_roles import registered_resident
from tgemu.client import EmulatorClient, EmulatorUser, ReceivedMessage

pytestmark = pytest.mark.e2e

PHOTO = b"\xff\xd8\xff\xe0 a photo of the blocked lane \xff\xd9"
YES = "✅ Yes, it is fixed"
NO = "❌ No, not fixed"
JOB_WAIT = 30.0
"""The bot reads the emulator's clock every 2 s; the e2e ticker looks for due jobs every 2 s."""
CLOCK_CATCH_UP = 3.0
"""The bot reads the emulator's clock every 2 s (:mod:`bot.clock`)."""
FLOOD_WINDOW = 10.0
"""``[flood]``: 20 updates per 10 s per person; more are refused politely."""


async def file_with_two_photos_and_a_pin(resident: EmulatorUser) -> str:
    """``/report`` (noise: the compound's grid worker's), two photos, a pin; the number."""
    flow = await say(resident, "/report")
    flow = await choose_category(resident, flow, "Noise")
    photos = await say(resident, "A generator by building 1 runs all night")
    assert "Send photos of the problem" in text_of(photos)
    await resident.send_photo(PHOTO)
    first = await resident.next_message(timeout=WAIT)
    assert "Photos kept: 1 of 10" in text_of(first)
    await resident.send_photo(PHOTO + b"2")
    second = await resident.next_message(timeout=WAIT)
    assert "Photos kept: 2 of 10" in text_of(second)
    pin = await tap(resident, second, "Done")
    assert "Send a location pin" in text_of(pin)
    await resident.send_location(27.7185, 109.1885)
    anonymous = await resident.next_message(timeout=WAIT)
    preview = await tap(resident, anonymous, "Show my name")
    assert "Photos: 2" in text_of(preview)
    assert "Location: pin sent" in text_of(preview)
    submitted = await tap(resident, preview, "Submit report")
    # Routed per the rules: noise in a compound goes to the compound's grid worker.
    assert "your grid worker (河东社区第一网格)" in text_of(submitted)
    return number_in(submitted)


async def grid_worker(emulator: EmulatorClient, county_admin: EmulatorUser) -> EmulatorUser:
    worker = await talking(emulator, "Grid")
    granted = await say(county_admin, f"/grant {worker.id} grid_worker HD-G1")
    assert str(worker.id) in text_of(granted)
    return worker


async def resolve(worker: EmulatorUser, card: ReceivedMessage, note: str) -> ReceivedMessage:
    """Resolve from ``card`` with a typed note; the new card."""
    prompt = await tap(worker, card, "Resolve")
    assert "was resolved" in text_of(prompt)
    resolved = await say(worker, note)
    assert "State: resolved" in text_of(resolved)
    return resolved


async def talking(emulator: EmulatorClient, name: str) -> EmulatorUser:
    """A new person who has written to the bot: the notice of the role granted next reaches
    them, rather than failing (Telegram refuses a first message from a bot) and racing
    their next update to mark the chat unreachable."""
    person = await emulator.create_user(first_name=name, language_code="en")
    await say(person, "/help")
    return person


def callback_of(message: ReceivedMessage, label: str) -> str:
    return next(b["callback_data"] for b in message.buttons if b["text"] == label)


async def test_filed_routed_handled_reopened_resolved_again_rated_and_counted(
    emulator: EmulatorClient, county_admin: EmulatorUser
) -> None:
    rosa = await registered_resident(emulator, "Rosa")
    number = await file_with_two_photos_and_a_pin(rosa)
    worker = await grid_worker(emulator, county_admin)
    await asyncio.sleep(FLOOD_WINDOW)  # registering and filing was a burst of Rosa's updates

    card = await find_card(worker, number)
    assert "Photos: 2" in text_of(card)
    card = await tap(worker, card, "Accept")
    await rosa.wait_for(saying(number, "has been accepted"), timeout=WAIT)

    await tap(worker, card, "Ask")
    shown = await say(worker, "Is it the grey generator or the green one?")
    question = await rosa.wait_for(saying(number, "grey generator"), timeout=WAIT)
    answer = await rosa.press(question, text="Answer")
    await answer.answer(timeout=WAIT)
    await rosa.wait_for(saying("Type your answer"), timeout=WAIT)
    await rosa.send_photo(PHOTO + b"3", caption="The grey one, by the gate")
    await rosa.wait_for(saying("Added to your report"), timeout=WAIT)
    told = await worker.wait_for(saying(number, "grey one"), timeout=WAIT)
    assert told.photo

    await tap(worker, shown, "Progress")
    progress = await say(worker, "The owner will move it on Friday")
    assert "State: in progress" in text_of(progress)
    await rosa.wait_for(saying(number, "move it on Friday"), timeout=WAIT)
    await resolve(worker, progress, "Moved to the car park")

    first = await rosa.wait_for(saying(number, "has been resolved", "Is it fixed?"), timeout=WAIT)
    assert first.button_texts == [YES, NO]
    old_yes = callback_of(first, YES)

    # "No": reopened, the worker is told, and what is still wrong reaches them.
    reopened = await tap(rosa, first, NO)
    assert f"Report {number} is reopened" in text_of(reopened)
    # The worker has no stored language: notices through the outbox are in Chinese.
    told = await worker.wait_for(saying(number, "没有解决", "已重新打开"), timeout=WAIT)
    await rosa.send_text("It is back by building 1 since last night")
    kept = await rosa.wait_for(saying("added to the report"), timeout=WAIT)
    assert kept.chat_id == rosa.id
    await worker.wait_for(saying(number, "仍未解决", "back by building 1"), timeout=WAIT)

    card = await tap(worker, told, "打开卡片")
    assert "State: reopened" in text_of(card)
    await resolve(worker, card, "Moved for good; the owner signed an undertaking")

    second = await rosa.wait_for(saying(number, "undertaking", "Is it fixed?"), timeout=WAIT)
    # The first resolution's Yes (kept by a client, or replayed) is out of date now.
    late = await rosa.press(first, callback_data=old_yes, forge=True)
    assert "out of date" in ((await late.answer(timeout=WAIT)).text or "")

    press = await rosa.press(second, text=YES)
    await press.answer(timeout=WAIT)
    rating = await rosa.wait_for_edit(second, timeout=WAIT)
    assert f"Report {number} is closed" in text_of(rating)
    assert rating.button_texts == ["1 ★", "2 ★", "3 ★", "4 ★", "5 ★"]
    assert press.update_id is not None
    await emulator.redeliver(press.update_id)  # the same Yes again changes nothing
    # A double tap (a second update): her own answer again, not "out of date", and the
    # rating buttons stay (the 4 ★ below is pressed on them).
    double = await rosa.press(second, callback_data=callback_of(second, YES), forge=True)
    assert "out of date" not in ((await double.answer(timeout=WAIT)).text or "")

    comment = await tap(rosa, rating, "4 ★")
    assert "You rated the service 4 of 5" in text_of(comment)
    again = await rosa.press(rating, callback_data=callback_of(rating, "2 ★"), forge=True)
    assert "already rated" in ((await again.answer(timeout=WAIT)).text or "")
    await rosa.send_text("Quick and polite, thank you")
    await rosa.wait_for(saying("comment is kept with the rating"), timeout=WAIT)

    # /stats of a staff member of the community, and its XLSX, count it.
    clerk = await talking(emulator, "Clerk")
    await say(county_admin, f"/grant {clerk.id} staff HD clerk")
    await clerk.send_text("/stats HD")
    summary = await clerk.wait_for(saying("Average rating"), timeout=WAIT)
    text = text_of(summary)
    average = re.search(r"Average rating: ([\d.]+) / 5", text)
    assert average is not None
    filed = re.search(r"Reports filed: (\d+)", text)
    assert filed is not None

    press = await clerk.press(summary, text="📊 Monthly XLSX")
    await press.answer(timeout=WAIT)
    sent = await clerk.wait_for(lambda m: m.document is not None, timeout=WAIT)
    data = await emulator.download(sent.document["file_id"])  # type: ignore[index]
    book = openpyxl.load_workbook(io.BytesIO(data))
    figures = {row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True) if row}
    # Other tests rate too: the text and the file agree; this report's own rating is 4.
    assert round(float(figures["Average rating (1–5)"]), 1) == float(average.group(1))
    reports = list(book["Reports"].iter_rows(values_only=True))
    header, rows = reports[0], reports[1:]
    mine = [dict(zip(header, row, strict=True)) for row in rows if row[0] == number]
    assert header[0] == "Number"
    assert len(mine) == 1
    assert mine[0]["State"] == "closed"
    assert mine[0]["Rating"] == 4
    assert mine[0]["Resolved"]  # the first resolution's time
    assert figures["Reports filed"] == len(rows) == int(filed.group(1))


async def test_an_unanswered_resolution_closes_after_the_period_and_a_late_yes_is_out_of_date(
    emulator: EmulatorClient, county_admin: EmulatorUser
) -> None:
    ivy = await registered_resident(emulator, "Ivy")
    flow = await say(ivy, "/report")
    flow = await choose_category(ivy, flow, "Noise")
    photos = await say(ivy, "Hammering at the bike shed at dawn")
    location = await tap(ivy, photos, "Skip (no photo)")
    anonymous = await tap(ivy, location, "At Hedong Garden Building 1")
    preview = await tap(ivy, anonymous, "Show my name")
    number = number_in(await tap(ivy, preview, "Submit report"))

    worker = await grid_worker(emulator, county_admin)
    card = await find_card(worker, number)
    card = await tap(worker, card, "Accept")
    await resolve(worker, card, "Spoke with the shed's owner")
    notice = await ivy.wait_for(saying(number, "Is it fixed?"), timeout=WAIT)

    # Had the notice not arrived, /myreports asks again.
    mine = await say(ivy, "/myreports")
    ask = f"Is it fixed? {number}"
    assert ask in mine.button_texts
    await (await ivy.press(mine, text=ask)).answer(timeout=WAIT)
    asked = await ivy.wait_for(saying(number, "has been resolved. Is it fixed?"), timeout=WAIT)
    assert asked.button_texts == [YES, NO]

    # Another resident pressing Ivy's "Yes" (a forwarded or forged button) is refused.
    jon = await registered_resident(emulator, "Jon")
    own = await say(jon, "/myreports")
    forged = await jon.press(own, callback_data=callback_of(notice, YES), forge=True)
    assert "not your report" in ((await forged.answer(timeout=WAIT)).text or "")

    before = (await emulator.clock())["offset_seconds"]
    try:
        await emulator.set_clock(advance_seconds=8 * 86400)  # confirm_fixed_days is 7
        closed = await ivy.wait_for(saying(number, "closed as resolved"), timeout=JOB_WAIT)
        assert closed.buttons == []
    finally:
        await emulator.set_clock(offset_seconds=before)
        await asyncio.sleep(CLOCK_CATCH_UP)  # the next test must not act eight days ahead

    late = await ivy.press(notice, text=YES)
    assert "out of date" in ((await late.answer(timeout=WAIT)).text or "")


async def test_staff_answer_is_it_fixed_for_a_resident_without_telegram(
    emulator: EmulatorClient, county_admin: EmulatorUser
) -> None:
    clerk = await talking(emulator, "Clerk")
    await say(county_admin, f"/grant {clerk.id} staff HD clerk")
    await clerk.send_text("/report")
    await clerk.wait_for(saying("The resident's name"), timeout=WAIT)
    await say(clerk, "Grandma Li")
    compound = await say(clerk, "13800000000")
    category = await tap(clerk, compound, "Hedong Garden")
    await choose_category(clerk, category, "Noise")
    photos = await say(clerk, "A dog barks all night in the courtyard, she says")
    location = await tap(clerk, photos, "Skip (no photo)")
    anonymous = await tap(clerk, location, "At Hedong Garden")
    assert "Should the resident's name be hidden?" in text_of(anonymous)
    preview = await tap(clerk, anonymous, "Show the resident's name")
    submitted = await tap(clerk, preview, "Submit report")
    number = number_in(submitted)

    worker = await grid_worker(emulator, county_admin)
    card = await find_card(worker, number)
    card = await tap(worker, card, "Accept")
    await resolve(worker, card, "Spoke with the dog's owner; it sleeps indoors now")

    # Nobody else is told of an on-behalf report: its filer is, to ask the resident.
    asked = await clerk.wait_for(saying(number, "Grandma Li", "13800000000"), timeout=WAIT)
    assert "dog's owner" in text_of(asked)
    assert asked.button_texts == ["✅ 已解决", "❌ 没有解决", "打开卡片"]  # no stored language
    rating = await tap(clerk, asked, "✅ 已解决")
    assert f"Report {number} is closed" in text_of(rating)
    comment = await tap(clerk, rating, "4 ★")  # 4, as the scenario: its average stays 4.0
    assert "You rated the service 4 of 5" in text_of(comment)
    skip = callback_of(comment, "Skip")
    done = await tap(clerk, comment, "Skip")
    assert "Thank you for your feedback" in text_of(done)
    assert done.buttons == []
    double = await clerk.press(comment, callback_data=skip, forge=True)  # a double tap
    assert not (await double.answer(timeout=WAIT)).text  # no "out of date" alert
