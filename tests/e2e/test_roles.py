"""Roles end to end: /grant, /revoke, /tag, /staff, /audit, and the menus they change.

Tests act only as users through the emulator and read the command menus the bot
set through the emulator's control API (``setMyCommands`` results).
"""

from __future__ import annotations

import pytest

from tests.e2e.test_residents import WAIT, nothing_more, say, tap
from tgemu.client import EmulatorClient, EmulatorUser

pytestmark = pytest.mark.e2e


NOT_STAFF = (
    "Sorry, this is for community staff. If you are staff, ask an admin to grant you the role."
)


async def registered_resident(emulator: EmulatorClient, name: str) -> EmulatorUser:
    """A resident of Hedong Garden (HD), registered in English."""
    person = await emulator.create_user(first_name=name, language_code="en")
    flow = await say(person, "/start hd-01-1")
    flow = await tap(person, flow, "English")
    flow = await tap(person, flow, "Skip (no unit)")
    flow = await tap(person, flow, "I agree")
    done = await tap(person, flow, "Confirm")
    assert "You are registered" in (done.text or "")
    return person


async def chat_menu(emulator: EmulatorClient, user_id: int) -> list[str] | None:
    """The commands of the menu the bot set for this person's chat, or ``None``."""
    for entry in await emulator.commands(scope_type="chat"):
        if int(entry["scope"].get("chat_id", 0)) == user_id:
            return [c["command"] for c in entry["commands"]]
    return None


async def menu_becomes(
    emulator: EmulatorClient, user_id: int, wanted: bool, command: str = "staff"
) -> list[str] | None:
    """Poll the menu (set before the admin's answer, but read here without a race)."""
    import asyncio

    menu = None
    for _ in range(50):
        menu = await chat_menu(emulator, user_id)
        if (menu is not None and command in menu) is wanted:
            return menu
        await asyncio.sleep(0.1)
    return menu


async def test_the_county_admin_makes_a_resident_secretary_and_revokes_it(
    emulator: EmulatorClient, county_admin: EmulatorUser
) -> None:
    lin = await registered_resident(emulator, "Lin")

    answer = await say(county_admin, f"/grant {lin.id} staff HD secretary")
    assert "已完成" in (answer.text or "")
    assert str(lin.id) in (answer.text or "")
    told = await lin.next_message(timeout=WAIT)
    assert "You are now secretary of Hedong Community (HD)" in (told.text or "")
    menu = await menu_becomes(emulator, lin.id, True)
    assert menu is not None
    assert {"claims", "staff", "audit", "me"} <= set(menu)
    assert "grant" not in menu
    help_text = (await say(lin, "/help")).text or ""
    assert "As community staff:" in help_text
    assert "/staff" in help_text
    assert "/grant" not in help_text

    again = await say(county_admin, f"/grant {lin.id} 书记 HD")
    assert "无需更改" in (again.text or "")  # already: nothing twice
    assert await nothing_more(lin, 1.0)

    listing = await say(lin, "/staff")
    assert str(lin.id) in (listing.text or "")
    assert "secretary" in (listing.text or "")

    gone = await say(county_admin, f"/revoke {lin.id} staff HD")
    assert "不再是" in (gone.text or "")
    assert "尚无书记" in (gone.text or "")  # she was the secretary: nobody takes her work
    told = await lin.next_message(timeout=WAIT)
    assert "You are no longer secretary of Hedong Community (HD)" in (told.text or "")
    assert await menu_becomes(emulator, lin.id, False) is None  # back to the default menu
    refused = await say(lin, "/staff")
    assert "only for community staff" in (refused.text or "") or "for community staff" in (
        refused.text or ""
    )

    log = (await say(county_admin, "/audit HD")).text or ""
    lines = [line for line in log.splitlines() if str(lin.id) in line]
    assert "撤销角色" in lines[0] or "转交未办结工作" in lines[0]  # newest first
    assert any("授予角色" in line and str(county_admin.id) in line for line in lines)
    assert any("撤销角色" in line and str(county_admin.id) in line for line in lines)


async def test_a_resident_is_refused_staff_commands_and_nothing_changes(
    emulator: EmulatorClient, county_admin: EmulatorUser
) -> None:
    mei = await registered_resident(emulator, "Mei")
    for command in (f"/grant {mei.id} staff HD secretary", "/staff", "/audit", "/grant"):
        refused = await say(mei, command)
        assert refused.text == NOT_STAFF, command
    assert await chat_menu(emulator, mei.id) is None
    listing = (await say(county_admin, "/staff HD")).text or ""
    assert str(mei.id) not in listing


async def test_staff_of_one_community_are_refused_in_another_and_cannot_grant(
    emulator: EmulatorClient, county_admin: EmulatorUser
) -> None:
    zhou = await registered_resident(emulator, "Zhou")
    other = await registered_resident(emulator, "Other")
    await say(county_admin, f"/grant {zhou.id} staff HD secretary")
    await zhou.next_message(timeout=WAIT)  # told

    for command in (f"/tag {other.id} expert CB", "/staff CB", "/audit CB"):
        refused = await say(zhou, command)
        assert refused.text == (
            "Sorry, this belongs to Chengbei Community, and you are staff of Hedong Community: "
            "ask the staff of Chengbei Community."
        ), command
    refused = await say(zhou, f"/grant {other.id} staff HD clerk")
    assert "Roles are granted by admins" in (refused.text or "")

    tagged = await say(zhou, f"/tag {other.id} expert")  # in her own community, HD
    assert "is now expert in Hedong Community" in (tagged.text or "")
    told = await other.next_message(timeout=WAIT)
    assert "You are now expert in Hedong Community" in (told.text or "")
    listing = (await say(zhou, "/staff")).text or ""
    assert f"{other.id} — expert" in listing


async def test_commands_without_arguments_answer_their_usage(
    emulator: EmulatorClient, county_admin: EmulatorUser
) -> None:
    usage = await say(county_admin, "/grant")
    assert "/grant 123456789 staff HD secretary" in (usage.text or "")
    owner = await say(county_admin, "/grant 42 owner HD-01/1/101")
    assert "/claims" in (owner.text or "")
    wrong = await say(county_admin, "/grant 42 staff HD-G1 clerk")
    assert "社区" in (wrong.text or "")
    bad = await say(county_admin, "/grant wang staff HD clerk")
    assert "wang" in (bad.text or "")
    missing = await say(county_admin, "/grant 42 staff HD")
    assert "/grant 42 staff HD clerk" in (missing.text or "")


async def test_a_grid_workers_menu_follows_their_language(
    emulator: EmulatorClient, county_admin: EmulatorUser
) -> None:
    qian = await registered_resident(emulator, "Qian")
    answer = await say(county_admin, f"/grant {qian.id} 网格员 HD-G1")
    assert "网格员" in (answer.text or "")
    await qian.next_message(timeout=WAIT)  # told
    assert await menu_becomes(emulator, qian.id, True, "verify") is not None

    question = await say(qian, "/lang")
    await tap(qian, question, "中文")

    async def descriptions() -> dict[str, str]:
        for entry in await emulator.commands(scope_type="chat"):
            if int(entry["scope"].get("chat_id", 0)) == qian.id:
                return {c["command"]: c["description"] for c in entry["commands"]}
        return {}

    import asyncio

    for _ in range(50):
        if (await descriptions()).get("me") == "我的资料":
            break
        await asyncio.sleep(0.1)
    assert (await descriptions()).get("me") == "我的资料"


async def test_a_clerk_who_erases_their_data_leaves_office_on_the_record_and_loses_the_menu(
    emulator: EmulatorClient, county_admin: EmulatorUser
) -> None:
    sun = await registered_resident(emulator, "Sun")
    await say(county_admin, f"/grant {sun.id} staff HD clerk")
    await sun.next_message(timeout=WAIT)  # told
    assert await menu_becomes(emulator, sun.id, True) is not None

    erased = await tap(sun, await say(sun, "/deleteme"), "Erase my data")
    assert "erased" in (erased.text or "").lower()

    assert await menu_becomes(emulator, sun.id, False) is None  # back to the default menu
    log = (await say(county_admin, "/audit HD")).text or ""
    resigned = [line for line in log.splitlines() if f" · {sun.id} · 撤销角色" in line]
    assert resigned, log
    assert "本人删除了自己的数据" in resigned[0]
