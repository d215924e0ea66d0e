"""/stats end to end: the county admin reads a month without reports and downloads its CSV.

Reports filed by chat are tested in test_reports_filing.py and may land in HD
this month in the same bot process, so these tests read a past month, which no
test files reports in.
"""

from __future__ import annotations

import codecs

import pytest

from tests.e2e.test_residents import WAIT, nothing_more, say
from tgemu.client import EmulatorClient, EmulatorUser

pytestmark = pytest.mark.e2e


async def test_the_county_admin_reads_an_empty_month_and_downloads_its_csv(
    emulator: EmulatorClient, county_admin: EmulatorUser
) -> None:
    summary = await say(county_admin, "/stats HD 2025-06")

    text = summary.text or ""
    assert "2025-06" in text
    assert "该月没有收到问题反映" in text  # no reports: said, and no zeroes
    assert "0%" not in text
    assert summary.button_texts == ["📄 CSV", "📊 月报 XLSX"]
    assert await nothing_more(county_admin, 1.0)  # no chart of nothing

    press = await county_admin.press(summary, text="📄 CSV")
    await press.answer(timeout=WAIT)
    sent = await county_admin.next_message(timeout=WAIT)
    assert sent.document is not None
    assert sent.document["file_name"] == "reports-HD-2025-06.csv"
    data = await emulator.download(sent.document["file_id"])
    assert data.startswith(codecs.BOM_UTF8)
    assert data.decode("utf-8-sig").splitlines() == [
        "编号,类别,小区,状态,提交时间,受理时间,办结时间,是否按时,评分"
    ]


async def test_bad_stats_input_is_answered_clearly(
    emulator: EmulatorClient, county_admin: EmulatorUser
) -> None:
    month = await say(county_admin, "/stats HD 2026-13")
    assert "“2026-13”不是有效的月份" in (month.text or "")
    community = await say(county_admin, "/stats XX")
    assert "没有代码为“XX”的社区" in (community.text or "")
    which = await say(county_admin, "/stats")
    assert "请注明要查看哪个社区" in (which.text or "")

    stranger = await emulator.create_user(first_name="Stranger", language_code="en")
    refused = await say(stranger, "/stats HD")
    assert "this is for community staff" in (refused.text or "")
