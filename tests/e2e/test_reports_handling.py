"""Handling reports end to end: a grid worker works a resident's report from ``/queue``.

The resident files with ``/report`` as anyone would; the county admin makes the
grid worker with ``/grant``; everything is observed through what the bot says
(cards, notices, alerts), never by reading its database. Other tests share the
bot and file reports in the same grid, so the worker's card is found by its
tracking number, paging with "More" when needed.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e.test_register_claims import saying
from tests.e2e.test_reports_filing import choose_category, number_in, text_of
from tests.e2e.test_residents import WAIT, say, tap
from tests.e2e.test_roles import registered_resident
from tgemu.client import EmulatorClient, EmulatorUser, ReceivedMessage

pytestmark = pytest.mark.e2e

PHOTO = b"\xff\xd8\xff\xe0 a photo of the gate \xff\xd9"


async def file_noise_report(resident: EmulatorUser) -> str:
    """File a report the way a resident does; return its tracking number."""
    flow = await say(resident, "/report")
    flow = await choose_category(resident, flow, "Noise")
    photos = await say(resident, "Drilling in the courtyard every night after 23:00")
    location = await tap(resident, photos, "Skip (no photo)")
    anonymous = await tap(resident, location, "At Hedong Garden Building 1")
    preview = await tap(resident, anonymous, "Show my name")
    submitted = await tap(resident, preview, "Submit report")
    assert "your grid worker" in text_of(submitted)
    return number_in(submitted)


async def find_card(worker: EmulatorUser, number: str) -> ReceivedMessage:
    """``/queue``, then "More" until the card of ``number`` shows."""
    await worker.send_text("/queue")
    for _ in range(20):
        found = await worker.wait_for(card_or_more(number), timeout=WAIT)
        if number in text_of(found):
            return found
        press = await worker.press(found, text="More")
        await press.answer(timeout=WAIT)
    raise AssertionError(f"{number} not in the queue")


def card_or_more(number: str) -> Callable[[ReceivedMessage], bool]:
    """The card of ``number``, or the "More" message under a page without it."""

    def matches(message: ReceivedMessage) -> bool:
        text = text_of(message)
        return message.event == "sent" and (number in text or "More reports are waiting" in text)

    return matches


async def test_a_grid_worker_accepts_asks_hears_the_answer_and_resolves(
    emulator: EmulatorClient, county_admin: EmulatorUser
) -> None:
    hana = await registered_resident(emulator, "Hana")
    number = await file_noise_report(hana)

    worker = await emulator.create_user(first_name="Grid", language_code="en")
    granted = await say(county_admin, f"/grant {worker.id} grid_worker HD-G1")
    assert str(worker.id) in text_of(granted)
    other = await emulator.create_user(first_name="Chengbei", language_code="en")
    await say(county_admin, f"/grant {other.id} staff CB clerk")

    card = await find_card(worker, number)
    assert "waiting to be accepted" in text_of(card)
    assert "Reassign" not in card.button_texts  # staff dispatch, grid workers do not
    accept_data = next(b["callback_data"] for b in card.buttons if b["text"] == "Accept")

    # Staff of another community cannot act on it, even with the card's own button.
    queue = await say(other, "/queue")
    forged = await other.press(queue, callback_data=accept_data, forge=True)
    refused = await forged.answer(timeout=WAIT)
    assert "belongs to Hedong Community" in (refused.text or "")

    card = await tap(worker, card, "Accept")
    assert "State: accepted" in text_of(card)
    accepted = await hana.wait_for(saying(number, "has been accepted"), timeout=WAIT)
    assert accepted.chat_id == hana.id

    # A second press of the old Accept (a stale card) loses cleanly.
    again = await worker.press(card, callback_data=accept_data, forge=True)
    stale = await again.answer(timeout=WAIT)
    assert "You have already accepted" in (stale.text or "")  # in words, not an id

    prompt = await tap(worker, card, "Ask")
    assert "Type your question" in text_of(prompt)
    shown = await say(worker, "Which entrance is it, the east or the west one?")
    assert number in text_of(shown)
    question = await hana.wait_for(saying(number, "east or the west"), timeout=WAIT)
    answer_prompt = await hana.press(question, text="Answer")
    await answer_prompt.answer(timeout=WAIT)
    await hana.wait_for(saying("Type your answer"), timeout=WAIT)
    await hana.send_photo(PHOTO, caption="The west gate, by building 1")
    added = await hana.wait_for(saying("Added to your report"), timeout=WAIT)
    assert added.chat_id == hana.id
    told = await worker.wait_for(saying(number, "west gate"), timeout=WAIT)
    assert told.photo

    prompt = await tap(worker, shown, "Progress")
    assert "progress note" in text_of(prompt)
    progress = await say(worker, "Spoke with the site manager; work stops at 22:00 from tonight")
    assert "State: in progress" in text_of(progress)
    assert "question: Which entrance" in text_of(progress)  # the thread, on the card
    await hana.wait_for(saying(number, "stops at 22:00"), timeout=WAIT)

    prompt = await tap(worker, progress, "Resolve")
    empty = await say(worker, "   ")
    assert "The note is empty" in text_of(empty)
    await worker.send_photo(PHOTO + b"2", caption="Quiet since Monday; checked on two nights")
    resolved = await worker.wait_for(saying(number, "State: resolved"), timeout=WAIT)
    assert resolved.buttons == []
    told = await hana.wait_for(saying(number, "has been resolved"), timeout=WAIT)
    assert told.photo
