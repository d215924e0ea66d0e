"""Residents end to end: onboarding by chat and deep link, /me, /lang, /cancel, crashes.

Tests act only as users through the emulator; what the bot stored is observed
through what it says (``/me``), never by reading its database.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.callbacks import LOCATION_PURPOSE, derived_key
from civic.residents import location_code
from tests.e2e.conftest import SIGNING_KEY, BotProcess
from tests.helpers import ROOT
from tests.qr_decode import read_qr
from tgemu.client import EmulatorClient, EmulatorUser, ReceivedMessage

pytestmark = pytest.mark.e2e

WAIT = 15.0


async def tap(user: EmulatorUser, message: ReceivedMessage, label: str) -> ReceivedMessage:
    """Press the button ``label`` of ``message``; return the message as the bot edited it."""
    press = await user.press(message, text=label)
    await press.answer(timeout=WAIT)
    return await user.wait_for_edit(message, timeout=WAIT)


async def say(user: EmulatorUser, text: str) -> ReceivedMessage:
    """Send ``text``; return the bot's next new message."""
    await user.send_text(text)
    return await user.next_message(timeout=WAIT)


async def nothing_more(user: EmulatorUser, seconds: float = 1.5) -> bool:
    try:
        message = await user.next_message(timeout=seconds)
    except TimeoutError:
        return True
    print("unexpected:", message)
    return False


async def test_onboarding_in_chinese_step_by_step_without_a_link(
    emulator: EmulatorClient,
) -> None:
    wang = await emulator.create_user(first_name="王芳", language_code="zh-hans")

    flow = await say(wang, "/start")
    assert "请选择您使用的语言" in (flow.text or "")
    assert flow.button_texts[:2] == ["中文", "English"]
    flow = await tap(wang, flow, "中文")
    assert "请选择您居住的社区" in (flow.text or "")
    assert "河东社区" in flow.button_texts
    flow = await tap(wang, flow, "河东社区")
    assert "请选择您居住的小区" in (flow.text or "")
    flow = await tap(wang, flow, "河东花园")
    assert "4号楼" in flow.button_texts
    flow = await tap(wang, flow, "2号楼")
    assert "单元和门牌" in (flow.text or "")

    consent = await say(wang, "3单元502")  # typed text: the flow moves below it
    assert "隐私说明" in (consent.text or "")
    old = await wang.wait_for_edit(flow, timeout=WAIT)
    assert old.buttons == []  # the message the flow left has no buttons any more
    summary = await tap(wang, consent, "同意")
    for shown in ("河东社区", "河东花园", "2号楼", "3单元502", "未认证"):
        assert shown in (summary.text or ""), shown
    done = await tap(wang, summary, "确认")
    assert "登记完成" in (done.text or "")
    assert done.buttons == []

    profile = await say(wang, "/me")
    assert "我的资料" in (profile.text or "")
    assert "3单元502" in (profile.text or "")
    assert "未认证" in (profile.text or "")
    assert profile.button_texts == ["更改语言", "更改住址"]


def printed_code(building: str) -> str:
    """What staff's QR code inside ``building`` carries: its code and a signed proof."""
    return location_code(building, derived_key(SIGNING_KEY, LOCATION_PURPOSE))


async def test_a_typed_building_code_preselects_the_building_but_does_not_locate(
    emulator: EmulatorClient,
) -> None:
    ann = await emulator.create_user(first_name="Ann", language_code="en")

    flow = await say(ann, "/start hd-01-1")  # guessable from the naming scheme
    assert "Hedong Garden Building 1" in (flow.text or "")
    flow = await tap(ann, flow, "English")
    flow = await tap(ann, flow, "Skip (no unit)")
    flow = await tap(ann, flow, "I agree")
    assert "located" not in (flow.text or "")
    await tap(ann, flow, "Confirm")
    assert "Verification: unverified" in ((await say(ann, "/me")).text or "")


async def test_onboarding_in_english_through_a_building_link_locates_the_resident(
    emulator: EmulatorClient,
) -> None:
    ann = await emulator.create_user(first_name="Ann", language_code="en")

    flow = await say(ann, f"/start {printed_code('HD-01-1')}")
    assert "Hedong Garden Building 1" in (flow.text or "")  # what the QR code chose
    flow = await tap(ann, flow, "English")
    assert "Step 4: unit" in (flow.text or "")  # community, compound and building are chosen
    flow = await tap(ann, flow, "Skip (no unit)")
    assert "Privacy notice" in (flow.text or "")
    flow = await tap(ann, flow, "I agree")
    assert "located" in (flow.text or "")
    flow = await tap(ann, flow, "Confirm")
    assert "You are registered" in (flow.text or "")

    profile = await say(ann, "/me")
    assert "Compound: Hedong Garden" in (profile.text or "")
    assert "Building: Building 1" in (profile.text or "")
    assert "Verification: located" in (profile.text or "")


async def test_a_compound_link_in_chinese_asks_only_for_the_building_on(
    emulator: EmulatorClient,
) -> None:
    li = await emulator.create_user(first_name="李", language_code="zh")

    flow = await say(li, "/start CB-02")
    assert "农机厂家属院" in (flow.text or "")
    flow = await tap(li, flow, "中文")
    assert "第 3 步" in (flow.text or "")
    assert flow.button_texts[:2] == ["1号楼", "2号楼"]


async def test_an_unknown_code_says_so_and_onboarding_goes_on_by_hand(
    emulator: EmulatorClient,
) -> None:
    ann = await emulator.create_user(first_name="Ann", language_code="en")

    flow = await say(ann, "/start XX-99")
    assert 'No community, compound or building has the code "XX-99"' in (flow.text or "")
    flow = await tap(ann, flow, "English")
    assert "Which community do you live in?" in (flow.text or "")

    malformed = await say(ann, "/start <b>x</b>")
    assert "<b>x</b>" in (malformed.text or "")  # quoted literally, never as formatting
    assert "Welcome back" in (malformed.text or "")
    assert "Which community do you live in?" in (malformed.text or "")


async def test_text_where_a_button_is_expected_is_answered_and_nothing_is_lost(
    emulator: EmulatorClient,
) -> None:
    ann = await emulator.create_user(first_name="Ann", language_code="en")
    flow = await say(ann, "/start")
    flow = await tap(ann, flow, "English")
    flow = await tap(ann, flow, "Hedong Community")

    again = await say(ann, "Hedong Garden please")

    assert "Please answer with the buttons below" in (again.text or "")
    assert "Which compound do you live in?" in (again.text or "")
    assert "Hedong Garden" in again.button_texts
    # The message the flow left lost its buttons; a client that kept them gets "out of date".
    data = flow.button("Hedong Garden")["callback_data"]
    press = await ann.press(flow.message_id, callback_data=data, chat_id=ann.id, forge=True)
    answer = await press.answer(timeout=WAIT)
    assert answer.text is not None
    assert answer.text.startswith("This button is out of date")
    moved = await tap(ann, again, "Hedong Garden")
    assert "Step 3: building" in (moved.text or "")


async def test_an_over_long_unit_is_refused_with_the_limit_and_can_be_sent_again(
    emulator: EmulatorClient,
) -> None:
    ann = await emulator.create_user(first_name="Ann", language_code="en")
    flow = await say(ann, "/start HD-02-1")
    flow = await tap(ann, flow, "English")

    refused = await say(ann, "Block 3, staircase B, flat 502 on the left")

    assert "at most 20 characters; yours has 42" in (refused.text or "")
    assert "Step 4: unit" in (refused.text or "")
    consent = await say(ann, "3-B-502")
    assert "Privacy notice" in (consent.text or "")
    summary = await tap(ann, consent, "I agree")
    assert "Unit: 3-B-502" in (summary.text or "")
    assert "Building: Building 1" in (summary.text or "")


async def test_cancel_keeps_the_draft_and_start_resumes_it(emulator: EmulatorClient) -> None:
    ann = await emulator.create_user(first_name="Ann", language_code="en")
    flow = await say(ann, "/start")
    flow = await tap(ann, flow, "English")
    flow = await tap(ann, flow, "Chengbei Community")

    cancelled = await say(ann, "/cancel")
    assert "Cancelled" in (cancelled.text or "")
    assert "/start" in (cancelled.text or "")
    assert (await say(ann, "hello")).text == (
        "Hello! Send /start to join your community, or /help to learn more."
    )
    resumed = await say(ann, "/start")
    assert "Welcome back" in (resumed.text or "")
    assert "Chengbei Community" in (resumed.text or "")
    assert "Beiyuan Estate" in resumed.button_texts

    cancelled = await tap(ann, resumed, "Cancel")
    assert "Cancelled" in (cancelled.text or "")
    assert cancelled.buttons == []
    assert "There is nothing to cancel" in ((await say(ann, "/cancel")).text or "")


async def test_after_a_sigkill_mid_onboarding_the_flow_goes_on_at_the_same_step(
    emulator: EmulatorClient, bot: BotProcess
) -> None:
    ann = await emulator.create_user(first_name="Ann", language_code="en")
    flow = await say(ann, "/start")
    flow = await tap(ann, flow, "English")
    flow = await tap(ann, flow, "Hedong Community")
    assert "Which compound do you live in?" in (flow.text or "")

    bot.kill()
    bot.start()

    moved = await tap(ann, flow, "Riverside Estate")  # the same message's buttons still act
    assert "Step 3: building" in (moved.text or "")
    assert "Riverside Estate" in (moved.text or "")
    bot.kill()
    bot.start()
    resumed = await say(ann, "/start")
    assert "Welcome back" in (resumed.text or "")
    assert "Step 3: building" in (resumed.text or "")
    assert "Riverside Estate" in (resumed.text or "")


async def test_updates_delivered_again_register_one_resident_and_say_nothing_twice(
    emulator: EmulatorClient,
) -> None:
    ann = await emulator.create_user(first_name="Ann", language_code="en")
    started = await ann.send_text("/start HD-01-3")
    flow = await ann.next_message(timeout=WAIT)
    flow = await tap(ann, flow, "English")
    flow = await tap(ann, flow, "Skip (no unit)")
    flow = await tap(ann, flow, "I agree")
    confirm = await ann.press(flow, text="Confirm")
    await confirm.answer(timeout=WAIT)
    flow = await ann.wait_for_edit(flow, timeout=WAIT)
    assert "You are registered" in (flow.text or "")

    assert started.update_id is not None
    assert confirm.update_id is not None
    await emulator.redeliver(started.update_id)
    await emulator.redeliver(confirm.update_id)

    assert await nothing_more(ann)
    profile = await say(ann, "/me")
    assert "Building: Building 3" in (profile.text or "")
    again = await say(ann, "/start")
    assert "You are already registered" in (again.text or "")


async def test_lang_switches_the_language_of_every_later_reply(emulator: EmulatorClient) -> None:
    wang = await emulator.create_user(first_name="王芳", language_code="zh-hans")
    assert "您尚未登记" in ((await say(wang, "/help")).text or "")

    question = await say(wang, "/lang")
    answer = await tap(wang, question, "English")
    assert answer.text == "OK, I will write to you in English from now on."
    assert "You are not registered yet" in ((await say(wang, "/help")).text or "")
    flow = await say(wang, "/start")  # the language is chosen already: on to the community
    assert "Which community do you live in?" in (flow.text or "")

    question = await say(wang, "/lang")
    answer = await tap(wang, question, "中文")
    assert answer.text == "好的，以后我会用中文和您交流。"
    assert "您尚未登记" in ((await say(wang, "/help")).text or "")


async def test_a_resident_changes_language_and_address_from_me(emulator: EmulatorClient) -> None:
    ann = await emulator.create_user(first_name="Ann", language_code="en")
    flow = await say(ann, f"/start {printed_code('HD-01-2')}")
    flow = await tap(ann, flow, "English")
    flow = await tap(ann, flow, "Skip (no unit)")
    flow = await tap(ann, flow, "I agree")
    await tap(ann, flow, "Confirm")
    assert "/me — My profile" in ((await say(ann, "/help")).text or "")

    profile = await say(ann, "/me")
    question = await tap(ann, profile, "Change language")
    profile = await tap(ann, question, "中文")
    assert "以后我会用中文" in (profile.text or "")
    assert "已定位" in (profile.text or "")

    flow = await tap(ann, profile, "更改住址")
    assert "请选择您居住的社区" in (flow.text or "")
    flow = await tap(ann, flow, "城北社区")
    flow = await tap(ann, flow, "北苑小区")
    flow = await tap(ann, flow, "跳过（不填楼栋）")
    flow = await tap(ann, flow, "跳过（不填单元）")
    assert "认证级别将从“已定位（通过楼栋二维码登记）”变为“未认证（自行登记）”" in (flow.text or "")
    done = await tap(ann, flow, "确认")
    assert "住址已更新" in (done.text or "")
    profile = await say(ann, "/me")
    assert "北苑小区" in (profile.text or "")
    assert "未认证" in (profile.text or "")


async def test_the_command_menu_is_set_in_chinese_and_in_english(
    emulator: EmulatorClient,
) -> None:
    defaults = await emulator.commands(scope_type="default")
    menus = {m["language_code"]: m["commands"] for m in defaults}

    chinese, english = menus[""], menus["en"]
    residents = [
        *("start", "me", "claim", "report", "myreports", "code", "mydata", "deleteme"),
        *("lang", "cancel", "help"),
    ]
    assert [c["command"] for c in chinese] == residents  # a resident's menu (handlers/menus.py)
    assert [c["command"] for c in english] == residents
    assert chinese[1]["description"] == "我的资料"
    assert english[1]["description"] == "My profile"


async def test_a_printed_qr_code_starts_onboarding_at_its_building(
    emulator: EmulatorClient, bot: BotProcess, tmp_path: Path
) -> None:
    png = tmp_path / "notice-board.png"
    qr = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bot", "qr", "JSBL-02-5", "--out", str(png)),
        *("--bot", "xieshang_bot"),
        cwd=ROOT,
        env=bot.env,
        stdout=asyncio.subprocess.DEVNULL,
    )
    assert await asyncio.wait_for(qr.wait(), 60) == 0
    link = read_qr(png)
    assert link == f"https://t.me/xieshang_bot?start={printed_code('JSBL-02-5')}"
    scanned = parse_qs(urlsplit(link).query)["start"][0]  # what Telegram hands the bot

    li = await emulator.create_user(first_name="李", language_code="zh")
    flow = await say(li, f"/start {scanned}")
    assert "锦绣华庭 5号楼" in (flow.text or "")
    flow = await tap(li, flow, "中文")
    flow = await tap(li, flow, "跳过（不填单元）")
    flow = await tap(li, flow, "同意")
    assert "已定位" in (flow.text or "")


async def test_a_long_list_turns_pages_and_back_goes_one_step_back(
    emulator: EmulatorClient,
) -> None:
    ann = await emulator.create_user(first_name="Ann", language_code="en")
    flow = await say(ann, "/start")
    flow = await tap(ann, flow, "English")
    assert "1/2" in flow.button_texts
    assert "Xinjian Street Community" not in flow.button_texts

    flow = await tap(ann, flow, "›")
    assert "2/2" in flow.button_texts
    flow = await tap(ann, flow, "Xinjian Street Community")
    assert "Which compound do you live in?" in (flow.text or "")
    flow = await tap(ann, flow, "Back")
    assert "Which community do you live in?" in (flow.text or "")
    assert "✓ Xinjian Street Community" in flow.button_texts  # the page of the choice
