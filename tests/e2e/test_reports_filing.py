"""Filing reports end to end: ``/report`` with photos and a pin, ``/myreports``, bad input,
a redelivered submit.

Tests act only as users through the emulator: what the bot stored is observed
through what it says (the tracking number, ``/myreports``), never by reading its
database. Other tests may file reports in the same compounds, so a "me too"
offer on the way is answered "file my own" (:func:`choose_category`).
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.test_residents import WAIT, say, tap
from tests.e2e.test_roles import registered_resident
from tgemu.client import EmulatorClient, EmulatorUser, ReceivedMessage

pytestmark = pytest.mark.e2e

PHOTO = b"\xff\xd8\xff\xe0 a photo of rubbish \xff\xd9"
NUMBER = re.compile(r"HD-\d{4}-\d{4}")


def text_of(message: ReceivedMessage) -> str:
    return message.text or message.caption or ""


async def choose_category(user: EmulatorUser, flow: ReceivedMessage, label: str) -> ReceivedMessage:
    """Press a category (turning the page if needed); past any "me too" offer."""
    if label not in flow.button_texts:
        flow = await tap(user, flow, "›")
    flow = await tap(user, flow, label)
    if "It's different: file my own" in flow.button_texts:
        flow = await tap(user, flow, "It's different: file my own")
    return flow


def number_in(message: ReceivedMessage) -> str:
    found = NUMBER.search(text_of(message))
    assert found is not None, text_of(message)
    return found.group(0)


async def test_a_resident_files_a_report_with_two_photos_and_a_pin_and_sees_it_listed(
    emulator: EmulatorClient,
) -> None:
    rita = await registered_resident(emulator, "Rita")

    flow = await say(rita, "/report")
    assert "Report a problem" in text_of(flow)
    assert "Garbage dumping" in flow.button_texts
    assert "Other" not in flow.button_texts  # ten categories: two pages
    page_two = await tap(rita, flow, "›")
    assert "Other" in page_two.button_texts
    flow = await tap(rita, page_two, "‹")
    flow = await choose_category(rita, flow, "Noise")
    assert "Describe the problem" in text_of(flow)

    photo_now = await rita.send_photo(PHOTO)
    assert photo_now.update_id is not None
    early = await rita.next_message(timeout=WAIT)
    assert "photos come after the description" in text_of(early)
    # a captioned photo at the description step: the caption describes, the photo is kept
    await rita.send_photo(PHOTO, caption="A karaoke bar at the gate plays until 2 a.m.")
    first = await rita.next_message(timeout=WAIT)
    assert "caption as the description and kept the photo" in text_of(first)
    assert "Send photos of the problem, up to 10" in text_of(first)
    assert "Photos kept: 1 of 10" in text_of(first)
    # a caption at the photos step joins the description
    await rita.send_photo(PHOTO + b"2", caption="every night")
    second = await rita.next_message(timeout=WAIT)
    assert "caption was added to your description" in text_of(second)
    assert "Photos kept: 2 of 10" in text_of(second)
    location = await tap(rita, second, "Done")
    assert "Send a location pin" in text_of(location)
    await rita.send_location(27.7185, 109.1885)
    anonymous = await rita.next_message(timeout=WAIT)
    assert "Should your name be hidden" in text_of(anonymous)
    preview = await tap(rita, anonymous, "Show my name")
    for shown in ("Category: Noise", "2 a.m.\nevery night", "Photos: 2", "Location: pin sent"):
        assert shown in text_of(preview), shown

    submitted = await tap(rita, preview, "Submit report")
    assert "Your report was filed" in text_of(submitted)
    assert "your grid worker (河东社区第一网格)" in text_of(submitted)
    number = number_in(submitted)
    assert submitted.buttons == []

    listing = await say(rita, "/myreports")
    assert "Your reports" in text_of(listing)
    assert f"{number} · Noise · waiting to be accepted" in text_of(listing)


async def test_an_over_long_description_is_refused_and_kept_and_a_redelivered_submit_files_once(
    emulator: EmulatorClient,
) -> None:
    sam = await registered_resident(emulator, "Sam")
    flow = await say(sam, "/report")
    flow = await choose_category(sam, flow, "Damaged facilities")
    too_long = await say(sam, "dark " * 401)
    assert "at most 2000 characters; yours has 2004" in text_of(too_long)
    assert "Everything else you entered is kept" in text_of(too_long)
    assert "Describe the problem" in text_of(too_long)
    cancelled = await say(sam, "/cancel")
    assert "/report" in text_of(cancelled)
    resumed = await say(sam, "/report")
    assert "nothing you entered was lost" in text_of(resumed)
    assert "Describe the problem" in text_of(resumed)

    photos = await say(sam, "The stairwell light on floor 3 is broken")
    location = await tap(sam, photos, "Skip (no photo)")
    anonymous = await tap(sam, location, "At Hedong Garden Building 1")
    preview = await tap(sam, anonymous, "Hide my name")
    assert "Name: hidden" in text_of(preview)

    press = await sam.press(preview, text="Submit report")
    await press.answer(timeout=WAIT)
    submitted = await sam.wait_for_edit(preview, timeout=WAIT)
    assert "County Housing and Urban-Rural Development Bureau" in text_of(submitted)
    number = number_in(submitted)
    assert press.update_id is not None
    await emulator.redeliver(press.update_id)
    again = await sam.press(submitted, callback_data=press.data, forge=True)
    stale = await again.answer(timeout=WAIT)  # the finished flow's button: out of date
    assert stale.text

    listing = await say(sam, "/myreports")
    assert NUMBER.findall(text_of(listing)) == [number]
