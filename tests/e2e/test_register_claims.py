"""Owner claims end to end: a resident claims a unit, staff approve or reject it in chat.

Tests act only as users through the emulator: staff are made by the county
admin's ``/grant``, as a county would; what the bot stored is observed through
what it says (``/me``, the claimant's notices), never by reading its database.
Chats of the shared county admin may hold other tests' messages, so replies are
picked by what they say.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e.test_residents import WAIT, say, tap
from tests.e2e.test_roles import registered_resident
from tgemu.client import EmulatorClient, EmulatorUser, ReceivedMessage

pytestmark = pytest.mark.e2e

DEED = b"\xff\xd8\xff\xe0 a photo of a deed \xff\xd9"
DEED_PDF = b"%PDF-1.4 a scanned deed %%EOF"


def saying(*parts: str) -> Callable[[ReceivedMessage], bool]:
    """A new message whose text or caption holds every one of ``parts``."""

    def matches(message: ReceivedMessage) -> bool:
        text = message.text or message.caption or ""
        return message.event == "sent" and all(part in text for part in parts)

    return matches


async def ask(user: EmulatorUser, text: str, *parts: str) -> ReceivedMessage:
    """Send ``text``; return the bot's new message saying ``parts``."""
    await user.send_text(text)
    return await user.wait_for(saying(*parts), timeout=WAIT)


async def resident_with_unit(
    emulator: EmulatorClient, name: str, start: str, unit: str
) -> EmulatorUser:
    """A resident registered in English through a building link, with a unit."""
    person = await emulator.create_user(first_name=name, language_code="en")
    flow = await say(person, f"/start {start}")
    flow = await tap(person, flow, "English")
    consent = await say(person, unit)
    flow = await tap(person, consent, "I agree")
    done = await tap(person, flow, "Confirm")
    assert "You are registered" in (done.text or "")
    return person


async def claim_unit(
    resident: EmulatorUser, unit: str, area: str, name: str, *, photo: bool, pdf: bool = False
) -> ReceivedMessage:
    """Go through /claim with the profile's unit; return the submitted screen.

    With ``pdf`` the deed is sent as a file: first one that cannot be a deed
    (refused, saying which files are taken), then a PDF.
    """
    flow = await say(resident, "/claim")
    assert "Owner claim" in (flow.text or "")
    flow = await tap(resident, flow, f"Use {unit}")
    assert "exclusive area" in (flow.text or "")
    flow = await say(resident, area)
    assert "owner's name exactly as on the deed" in (flow.text or "")
    flow = await say(resident, name)
    assert "photo of the deed" in (flow.text or "")
    if pdf:
        await resident.send_document(b"notes", file_name="deed.txt", mime_type="text/plain")
        refused = await resident.next_message(timeout=WAIT)
        assert "I can't use this file as the deed" in (refused.text or "")
        assert "PDF" in (refused.text or "")
        await resident.send_document(DEED_PDF, file_name="deed.pdf", mime_type="application/pdf")
        summary = await resident.next_message(timeout=WAIT)
        assert "Deed: attached as a file" in (summary.text or "")
    elif photo:
        await resident.send_photo(DEED)
        summary = await resident.next_message(timeout=WAIT)
    else:
        summary = await tap(resident, flow, "Skip (no photo)")
    assert "Please check your owner claim" in (summary.text or "")
    return await tap(resident, summary, "Submit claim")


async def test_an_admin_approves_a_claim_with_a_deed_photo_and_the_resident_becomes_owner(
    emulator: EmulatorClient, county_admin: EmulatorUser
) -> None:
    ann = await resident_with_unit(emulator, "Ann", "JFL-01-1", "2-301")

    flow = await say(ann, "/claim")
    flow = await tap(ann, flow, "Use 2-301")
    text_for_button = await say(ann, "hello")  # a photo step is not reached yet: still area
    assert "exclusive area" in (text_for_button.text or "")
    assert "is not an area" in (text_for_button.text or "")
    flow = await say(ann, "89,5㎡")
    too_long = await say(ann, "Ann Catherine Elizabeth Montgomery-Smith")
    assert "at most 30 characters; yours has 40" in (too_long.text or "")
    assert "Everything else you entered is kept" in (too_long.text or "")
    flow = await say(ann, "Ann Montgomery")
    photo_text = await say(ann, "here it is")  # text where a photo is expected
    assert "Please send a photo of the deed, or press Skip" in (photo_text.text or "")
    await ann.send_photo(DEED)
    summary = await ann.next_message(timeout=WAIT)
    for shown in ("No. 56 Jiefang Road Building 1 2-301", "89.50 m²", "Ann Montgomery", "attached"):
        assert shown in (summary.text or ""), shown
    sent = await tap(ann, summary, "Submit claim")
    assert "Your claim was sent to the staff of Jiefang Road Community" in (sent.text or "")
    assert sent.button_texts == ["Withdraw claim"]
    refused = await say(ann, "/claims")
    assert "this is for community staff" in (refused.text or "")

    await ask(county_admin, "/claims JFL", "解放路社区有", "待审核")
    # The card, not the new-claim notice every county admin also gets (it names her too).
    card = await county_admin.wait_for(
        lambda m: saying("Ann Montgomery")(m) and "通过" in m.button_texts, timeout=WAIT
    )
    assert card.button_texts == ["通过", "不通过", "查看房产证照片"]
    press = await county_admin.press(card, text="查看房产证照片")
    await press.answer(timeout=WAIT)
    deed = await county_admin.wait_for(
        lambda m: saying("房产证照片")(m) and m.photo is not None, timeout=WAIT
    )
    assert deed.photo
    approved = await tap(county_admin, card, "通过")
    assert "已通过" in (approved.text or "")
    assert approved.buttons == []

    told = await ann.wait_for(saying("approved"), timeout=WAIT)
    assert "you are now registered as owner of No. 56 Jiefang Road Building 1 2-301" in (
        told.text or ""
    )
    assert "89.50 m²" in (told.text or "")
    profile = await say(ann, "/me")
    assert "Owner of: No. 56 Jiefang Road Building 1 2-301" in (profile.text or "")
    assert "Verification: verified" in (profile.text or "")


async def test_staff_made_by_grant_reject_a_claim_with_a_reason_and_others_are_refused(
    emulator: EmulatorClient, county_admin: EmulatorUser
) -> None:
    clerk = await registered_resident(emulator, "Clerk Hu")
    await ask(county_admin, f"/grant {clerk.id} staff HD clerk", str(clerk.id))
    await clerk.wait_for(saying("Hedong Community"), timeout=WAIT)
    outsider = await registered_resident(emulator, "Clerk Bei")
    await ask(county_admin, f"/grant {outsider.id} staff CB clerk", str(outsider.id))
    await outsider.wait_for(saying("Chengbei Community"), timeout=WAIT)
    bo = await resident_with_unit(emulator, "Bo", "HD-02-1", "5-602")
    await bo.send_document(DEED_PDF, file_name="deed.pdf", mime_type="application/pdf")
    unasked = await bo.next_message(timeout=WAIT)  # no claim started: the file is not used
    assert "I can't use this file here" in (unasked.text or "")

    sent = await claim_unit(bo, "5-602", "72.25", "Bo Li", photo=False, pdf=True)
    assert "Your claim was sent to the staff of Hedong Community" in (sent.text or "")
    again = await claim_unit(bo, "5-602", "72.25", "Bo Li", photo=False)
    assert "already waiting for staff; it was not sent twice" in (again.text or "")

    notice = await clerk.wait_for(saying("New owner claim in Hedong Community", "5-602"), WAIT)
    card = await tap(clerk, notice, "Review")
    assert "Bo Li" in (card.text or "")
    assert card.button_texts == ["Approve", "Reject", "Show deed file"]
    press = await clerk.press(card, text="Show deed file")
    await press.answer(timeout=WAIT)
    deed = await clerk.wait_for(saying("Deed file of claim"), timeout=WAIT)
    assert deed.document is not None
    assert deed.document.get("file_name") == "deed.pdf"
    approve_data = card.button("Approve")["callback_data"]

    other = await say(outsider, "/claims HD")
    assert "this belongs to Hedong Community" in (other.text or "")
    for stranger in (outsider, bo):
        press = await stranger.press(
            card.message_id, callback_data=approve_data, chat_id=stranger.id, forge=True
        )
        answer = await press.answer(timeout=WAIT)
        assert answer.text is not None
        assert "another community" in answer.text or "for community staff" in answer.text

    reasons = await tap(clerk, card, "Reject")
    assert "Why is the claim rejected?" in (reasons.text or "")
    assert "The deed does not match the claim" in reasons.button_texts
    decided = await say(clerk, "The deed names another owner; bring the original please")
    assert "Rejected; the claimant was told the reason" in (decided.text or "")
    assert "another owner" in (decided.text or "")

    told = await bo.wait_for(saying("was rejected"), timeout=WAIT)
    assert "Reason: The deed names another owner; bring the original please" in (told.text or "")
    assert "You can claim again with /claim" in (told.text or "")
    late = await clerk.press(
        card.message_id, callback_data=approve_data, chat_id=clerk.id, forge=True
    )
    late_answer = await late.answer(timeout=WAIT)
    assert "You already decided this claim" in (late_answer.text or "")
    profile = await say(bo, "/me")
    assert "Owner of" not in (profile.text or "")

    listing = await ask(clerk, "/claims", "Hedong Community")
    assert "No owner claims are waiting" in (listing.text or "") or "5-602" not in (
        listing.text or ""
    )
