"""The monthly report end to end: a township admin receives each community's XLSX once.

The county admin makes a resident township admin with ``/grant``; a resident
files reports; the emulator clock moves to 09:00 on the next month's first working day
and the admin receives, without asking, one workbook per community, whose
figures are the reports filed. Everything is observed through what the admin
receives and downloads, never by reading the bot's database.

The clock is shared by every test of the session, and other tests move it a
few weeks ahead, which may run the job of the current month (to whoever is a
township admin then). So this test files its reports in a month about three
months ahead, which no other test reaches: the months in between are caught up
(:mod:`civic.reports_monthly`), possibly to this admin too, so documents are
told apart by the month in their file name. The clock is set back afterwards.
"""

from __future__ import annotations

import asyncio
import io
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from bot.config import load_config_file, places_from_config
from bot.config.reports import working_calendar_from_config
from civic.reports_monthly import Month, due_at
from tests.e2e.test_reports_filing import choose_category, number_in, text_of
from tests.e2e.test_residents import say, tap
from tests.e2e.test_roles import registered_resident
from tests.helpers import SHIPPED_CONFIG
from tgemu.client import EmulatorClient, EmulatorUser, ReceivedMessage

pytestmark = pytest.mark.e2e

COUNTY_ZONE = "Asia/Shanghai"
CONFIG = load_config_file(SHIPPED_CONFIG)
COMMUNITIES = tuple(c.code for c in places_from_config(CONFIG).communities)
"""The communities of the shipped config.toml (the e2e bot's), all in the township YK."""
CALENDAR = working_calendar_from_config(CONFIG)
"""Its working calendar: the report is due on the month's first working day."""
CLOCK_FOLLOWS_SECONDS = 3.0
"""The bot reads the emulator's clock every 2 s (bot.clock.REFRESH_SECONDS)."""


async def file_report(resident: EmulatorUser, category: str, description: str) -> str:
    """File a report at Hedong Garden Building 1 without photos; return its number."""
    flow = await say(resident, "/report")
    flow = await choose_category(resident, flow, category)
    photos = await say(resident, description)
    location = await tap(resident, photos, "Skip (no photo)")
    anonymous = await tap(resident, location, "At Hedong Garden Building 1")
    preview = await tap(resident, anonymous, "Show my name")
    submitted = await tap(resident, preview, "Submit report")
    return number_in(submitted)


async def move_clock_to(emulator: EmulatorClient, moment: datetime) -> None:
    """Set the emulator's clock to ``moment`` and give the bot time to follow."""
    clock = await emulator.clock()
    offset = float(clock["offset_seconds"]) + moment.timestamp() - float(clock["now"])
    await emulator.set_clock(offset_seconds=offset)
    await asyncio.sleep(CLOCK_FOLLOWS_SECONDS)


async def documents_of_month(
    user: EmulatorUser, month: Month, count: int, seconds: float
) -> tuple[list[ReceivedMessage], list[str]]:
    """Wait for ``count`` documents of ``month``; also return every file name received."""
    wanted: list[ReceivedMessage] = []
    names: list[str] = []
    deadline = time.monotonic() + seconds
    while len(wanted) < count:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"{len(wanted)} of {count} documents of {month.label}: {names}")
        try:
            message = await user.next_message(timeout=left)
        except TimeoutError:
            continue
        if message.document is None:
            continue
        names.append(str(message.document["file_name"]))
        if f"-{month.label}.xlsx" in names[-1]:
            wanted.append(message)
    return wanted, names


async def test_a_township_admin_receives_each_communitys_monthly_xlsx_once(
    emulator: EmulatorClient, county_admin: EmulatorUser
) -> None:
    before = (await emulator.clock())["offset_seconds"]
    zone = ZoneInfo(COUNTY_ZONE)
    now = datetime.fromtimestamp((await emulator.clock())["now"], zone)
    month = Month.of(now + timedelta(days=95), COUNTY_ZONE)
    try:
        await move_clock_to(emulator, datetime(month.year, month.month, 10, 10, tzinfo=zone))
        tao = await registered_resident(emulator, "Tao")
        granted = await say(county_admin, f"/grant {tao.id} admin YK")
        assert str(tao.id) in text_of(granted)
        rita = await registered_resident(emulator, "Rita")
        noise = await file_report(rita, "Noise", "A generator hums all night by the gate")
        stairs = await file_report(rita, "Damaged facilities", "The stairwell light is broken")

        await move_clock_to(emulator, due_at(month, COUNTY_ZONE, CALENDAR) + timedelta(minutes=5))
        documents, names = await documents_of_month(tao, month, len(COMMUNITIES), seconds=90)
        try:  # anything queued with them arrives at once: no second copy follows
            extra = await tao.next_message(timeout=3.0)
            names.append(str(extra.document["file_name"]) if extra.document else "")
        except TimeoutError:
            pass
    finally:
        await emulator.set_clock(offset_seconds=before)
        await asyncio.sleep(CLOCK_FOLLOWS_SECONDS)  # the next test's reports are filed now

    by_name = {str(d.document["file_name"]): d for d in documents if d.document is not None}
    assert sorted(by_name) == sorted(f"reports-{c}-{month.label}.xlsx" for c in COMMUNITIES)
    assert len(names) == len(set(names)), f"a document came twice: {names}"

    hedong = by_name[f"reports-HD-{month.label}.xlsx"]
    assert (hedong.caption or "").startswith(
        f"Monthly report of Hedong Community, {month.label} (sent automatically). "
        "Reports filed: 2; resolved: 0;"
    )
    assert hedong.document is not None
    workbook = load_workbook(io.BytesIO(await emulator.download(hedong.document["file_id"])))
    summary = {row[0]: row[1] for row in workbook["Summary"].iter_rows(values_only=True) if row[0]}
    assert summary["Community"] == "Hedong Community"
    assert summary["Month"] == month.label
    assert summary["Reports filed"] == 2
    assert summary["Median time to resolve (hours)"] == "no data"
    assert summary["Noise"] == 1
    assert summary["Damaged facilities"] == 1
    listed = list(workbook["Reports"].iter_rows(values_only=True))
    assert listed[0][:2] == ("Number", "Category")
    assert sorted((row[0], row[1]) for row in listed[1:]) == sorted(
        [(noise, "Noise"), (stairs, "Damaged facilities")]
    )

    chengbei = by_name[f"reports-CB-{month.label}.xlsx"]
    assert "Reports filed: 0;" in (chengbei.caption or "")
