"""``/mydata`` returns what is stored about the person; ``/deleteme`` erases it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.test_residents import say, tap
from tgemu.client import EmulatorClient

pytestmark = pytest.mark.e2e


def texts_sent(export: dict[str, Any]) -> list[str]:
    return [u["payload"].get("message", {}).get("text") for u in export["updates_sent"]]


async def test_mydata_exports_the_profile_and_deleteme_erases_it(emulator: EmulatorClient) -> None:
    ann = await emulator.create_user(first_name="Ann", language_code="en")
    flow = await say(ann, "/start HD-01-2")
    flow = await tap(ann, flow, "English")
    flow = await tap(ann, flow, "Skip (no unit)")
    flow = await tap(ann, flow, "I agree")
    await tap(ann, flow, "Confirm")

    export = await say(ann, "/mydata")
    assert export.document is not None
    data = json.loads(await emulator.download(export.document["file_id"]))
    assert data["telegram_user_id"] == ann.id
    assert data["resident"]["building_code"] == "HD-01-2"
    assert "/mydata" in texts_sent(data)

    kept = await tap(ann, await say(ann, "/deleteme"), "Keep my data")
    assert kept.text == "Nothing was erased."
    assert "Building 2" in ((await say(ann, "/me")).text or "")

    erased = await tap(ann, await say(ann, "/deleteme"), "Erase my data")
    assert (erased.text or "").startswith("Your data has been erased.")
    assert "not registered" in ((await say(ann, "/me")).text or "")
    after = json.loads(await emulator.download((await say(ann, "/mydata")).document["file_id"]))
    assert after["resident"] is None
    assert "/start HD-01-2" not in texts_sent(after), "what was sent before is erased"
