"""Verification end to end: household codes, building-code rotation, refusals (spec 01).

Tests act only as users through the emulator and its control API: the codes are
read from the sheet the bot sends, the new QR code from the PNG it sends, and
what the bot stored is seen through ``/me``.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.test_residents import printed_code, say, tap
from tests.qr_decode import read_qr
from tgemu.client import EmulatorClient, EmulatorUser, ReceivedMessage

pytestmark = pytest.mark.e2e

WAIT = 15.0
CODE = re.compile(r"\b[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}\b")
CLOCK_CATCH_UP = 3.0
"""The bot reads the emulator's clock every 2 s (:mod:`bot.clock`)."""


async def join(user: EmulatorUser, building: str) -> None:
    """Register ``user`` in English in ``building`` by its typed code (so: unverified)."""
    flow = await say(user, f"/start {building}")
    flow = await tap(user, flow, "English")
    flow = await tap(user, flow, "Skip (no unit)")
    flow = await tap(user, flow, "I agree")
    await tap(user, flow, "Confirm")


async def sheet_codes(
    emulator: EmulatorClient, admin: EmulatorUser, command: str
) -> tuple[ReceivedMessage, list[str]]:
    """Send ``/codes ...`` and read the codes off the printable sheet the bot sends."""
    sent = await say(admin, command)
    assert sent.document is not None, sent
    sheet = (await emulator.download(sent.document["file_id"])).decode("utf-8")
    return sent, list(dict.fromkeys(CODE.findall(sheet)))  # each slip shows its code twice


async def test_a_household_code_verifies_once_and_wrong_used_or_expired_codes_say_why(
    emulator: EmulatorClient, county_admin: EmulatorUser
) -> None:
    sent, codes = await sheet_codes(emulator, county_admin, "/codes HD-03-1 3")
    assert len(codes) == 3
    assert sent.document is not None
    assert sent.document["file_name"].endswith(".html")
    assert "3" in (sent.caption or "")

    ann = await emulator.create_user(first_name="Ann", language_code="en")
    await join(ann, "HD-03-1")
    verified = await say(ann, f"/code {codes[0].lower()}")
    assert "you are now verified" in (verified.text or "")
    assert "Verification: verified" in ((await say(ann, "/me")).text or "")

    bob = await emulator.create_user(first_name="Bob", language_code="en")
    await join(bob, "HD-03-1")
    used = await say(bob, f"/code {codes[0]}")
    assert "already been used" in (used.text or "")
    malformed = await say(bob, "/code 12345")
    assert "not a household code" in (malformed.text or "")
    asked = await say(bob, "/code")
    assert "type the household code" in (asked.text or "")
    typed = await say(bob, "ZZZZ-ZZZZ")
    assert "No household code matches" in (typed.text or "")
    assert "type the code again" in (typed.text or "")

    before = (await emulator.clock())["offset_seconds"]
    await emulator.set_clock(advance_seconds=31 * 86400)
    try:
        await asyncio.sleep(CLOCK_CATCH_UP)
        expired = await say(bob, codes[1])  # still in the /code flow: text is the code
        assert "has expired" in (expired.text or "")
    finally:
        await emulator.set_clock(offset_seconds=before)
        await asyncio.sleep(CLOCK_CATCH_UP)
    assert "Verification: unverified" in ((await say(bob, "/me")).text or "")


async def test_a_newcomer_opening_a_slips_link_joins_verified(
    emulator: EmulatorClient, county_admin: EmulatorUser
) -> None:
    _, [code, second] = await sheet_codes(emulator, county_admin, "/codes HD-03-2 1 302 303")
    cai = await emulator.create_user(first_name="Cai", language_code="en")

    flow = await say(cai, f"/start hc_{code.replace('-', '')}")
    assert "household code has chosen your address" in (flow.text or "")
    flow = await tap(cai, flow, "English")
    assert "Step 4: unit" in (flow.text or "")  # community, compound and building are chosen
    assert "302" in (flow.text or "")  # and the unit the code names
    flow = await tap(cai, flow, 'Keep "302"')
    flow = await tap(cai, flow, "I agree")
    assert "Riverside Estate" in (flow.text or "")
    await tap(cai, flow, "Confirm")

    profile = (await say(cai, "/me")).text or ""
    assert "Verification: verified" in profile
    assert "Building: Building 2" in profile
    assert "302" in profile

    # a second slip's link, whose code someone else uses before the newcomer confirms
    dee = await emulator.create_user(first_name="Dee", language_code="en")
    flow = await say(dee, f"/start hc_{second.replace('-', '')}")
    flow = await tap(dee, flow, "English")
    flow = await tap(dee, flow, 'Keep "303"')
    flow = await tap(dee, flow, "I agree")
    assert "you are now verified" in ((await say(cai, f"/code {second}")).text or "")
    done = await tap(dee, flow, "Confirm")
    assert "not verified: your household code was used by someone else" in (done.text or "")
    assert "/code" in (done.text or "")


async def test_a_rotated_building_code_stops_locating_and_the_new_png_does(
    emulator: EmulatorClient, county_admin: EmulatorUser, tmp_path: Path
) -> None:
    old = printed_code("HD-03-3")
    rotated = await say(county_admin, "/rotate HD-03-3")
    assert rotated.document is not None, rotated
    png = tmp_path / "new.png"
    png.write_bytes(await emulator.download(rotated.document["file_id"]))
    link = read_qr(png)
    assert link in (rotated.caption or "")
    new = parse_qs(urlsplit(link).query)["start"][0]
    assert new != old

    dan = await emulator.create_user(first_name="Dan", language_code="en")
    flow = await say(dan, f"/start {old}")
    assert "replaced by a newer one" in (flow.text or "")
    assert "Riverside Estate Building 3" in (flow.text or "")
    flow = await tap(dan, flow, "English")
    flow = await tap(dan, flow, "Skip (no unit)")
    flow = await tap(dan, flow, "I agree")
    await tap(dan, flow, "Confirm")
    assert "Verification: unverified" in ((await say(dan, "/me")).text or "")

    eve = await emulator.create_user(first_name="Eve", language_code="en")
    flow = await say(eve, f"/start {new}")
    flow = await tap(eve, flow, "English")
    flow = await tap(eve, flow, "Skip (no unit)")
    flow = await tap(eve, flow, "I agree")
    await tap(eve, flow, "Confirm")
    assert "Verification: located" in ((await say(eve, "/me")).text or "")


async def test_residents_and_other_communities_staff_are_refused(
    emulator: EmulatorClient, county_admin: EmulatorUser
) -> None:
    fay = await emulator.create_user(first_name="Fay", language_code="en")
    await join(fay, "HD-03-1")
    for command in ("/codes HD-03-1 2", "/rotate HD-03-1", f"/verify {fay.id}"):
        refused = await say(fay, command)
        assert "this is for community staff" in (refused.text or ""), command

    clerk = await emulator.create_user(first_name="Gu", language_code="en")
    await join(clerk, "CB-01-1")
    await say(county_admin, f"/grant {clerk.id} staff CB clerk")
    told = await clerk.next_message(timeout=WAIT)
    assert "clerk of Chengbei Community" in (told.text or "")
    for command in ("/codes HD-03-1 2", "/rotate HD-03-1"):
        refused = await say(clerk, command)
        assert "and you are staff of Chengbei" in (refused.text or ""), (command, refused.text)
    # /verify tells another community's staff nothing about who is registered where:
    # a resident elsewhere gets the answer of an id nobody has.
    elsewhere = await say(clerk, f"/verify {fay.id}")
    nobody = await say(clerk, "/verify 987654321")
    assert "is not a resident of your community" in (elsewhere.text or "")
    assert "Hedong" not in (elsewhere.text or "")
    assert (elsewhere.text or "").replace(str(fay.id), "#") == (nobody.text or "").replace(
        "987654321", "#"
    )

    # digits Python reads as digits but int() refuses, and ids too long to be anyone's
    for command in ("/verify ²", "/verify 12345678901234567890"):
        assert "Send /verify USER_ID" in ((await say(clerk, command)).text or "")
    assert "does not work as a count" in ((await say(clerk, "/codes CB-01-1 ²")).text or "")

    verified = await say(county_admin, f"/verify {fay.id}")
    assert str(fay.id) in (verified.text or "")
    notice = await fay.next_message(timeout=WAIT)
    assert "staff have verified you" in (notice.text or "")
