"""The audit log in chat: every action and detail by name, and a page that always fits.

Twenty entries with long rejection reasons used to pass Telegram's 4096 characters,
so ``/audit`` failed every time; and actions other than ``roles.*`` showed raw.
"""

from __future__ import annotations

import ast
import importlib
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import load_config_file, places_from_config
from bot.html import utf16_length
from bot.i18n import Catalogs
from civic import audit, household_codes, register_claims
from civic.audit import AuditEntry
from civic.roles_admin import (
    AUDIT_PAGE,
    ERASED_OWN_DATA,
    AuditPage,
    Problem,
    RoleOutcome,
    parse_audit_args,
)
from handlers.roles_views import ACTION_NAME, DETAIL_NAME, MESSAGE_LIMIT, RolesPainter
from tests.helpers import SHIPPED_CONFIG

PLACES = places_from_config(load_config_file(SHIPPED_CONFIG))
CATALOGS = Catalogs.load(strict=True)
CIVIC = Path(__file__).resolve().parents[2] / "civic"
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def painter(locale: str = "en") -> RolesPainter:
    return RolesPainter(CATALOGS.for_locale(locale), PLACES)  # type: ignore[arg-type]


def written_actions() -> set[str]:
    """The ``action=`` of every ``AuditEntry(...)`` in :mod:`civic`, resolved to strings.

    Read from the source, so an action added tomorrow without a name fails here.
    """
    found: set[str] = set()
    for path in sorted(CIVIC.glob("*.py")):
        module = importlib.import_module(f"civic.{path.stem}")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "AuditEntry"
            ):
                continue
            for keyword in node.keywords:
                if keyword.arg == "action":
                    found |= resolve(keyword.value, module)
    return found


def resolve(node: ast.expr, module: object) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return resolve(node.body, module) | resolve(node.orelse, module)
    if isinstance(node, ast.Name):
        return {str(getattr(module, node.id))}
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return {str(getattr(getattr(module, node.value.id), node.attr))}
    raise AssertionError(f"cannot read the action {ast.dump(node)}")


def test_every_action_written_to_the_audit_log_has_a_name() -> None:
    actions = written_actions()
    assert {
        audit.ROLES_GRANT,
        register_claims.CLAIM_APPROVED,
        register_claims.CLAIM_REJECTED,
        household_codes.AUDIT_CODES_ISSUED,
        household_codes.AUDIT_VERIFIED,
        household_codes.AUDIT_CODE_ROTATED,
    } <= actions
    assert actions - set(ACTION_NAME) == set()


SAMPLES = [
    AuditEntry(
        NOW,
        9,
        audit.ROLES_REVOKE,
        "HD",
        None,
        {
            "role": "staff",
            "scope_kind": "community",
            "scope": "HD",
            "position": "clerk",
            "cause": ERASED_OWN_DATA,
        },
    ),
    AuditEntry(NOW, 9, audit.ROLES_HANDOVER, "HD", 5, {"secretary": None, "counts": {}}),
    AuditEntry(NOW, 9, audit.ROLES_TAG, "HD", 5, {"tag": "expert"}),
    AuditEntry(
        NOW,
        9,
        register_claims.CLAIM_REJECTED,
        "HD",
        5,
        {
            "claim_id": 3,
            "unit": "HD-01/HD-01-1/101",
            "area_m2": "88.50",
            "reason_code": "illegible",
            "reason": "blurred",
        },
    ),
    AuditEntry(
        NOW,
        9,
        household_codes.AUDIT_CODES_ISSUED,
        "HD",
        None,
        {
            "count": 4,
            "compound": "HD-01",
            "building": "HD-01-1",
            "units": 4,
            "expires_at": (NOW + timedelta(days=30)).isoformat(),
        },
    ),
    AuditEntry(
        NOW, 9, household_codes.AUDIT_CODE_ROTATED, "HD", None, {"building": "B", "version": 2}
    ),
    AuditEntry(NOW, 9, household_codes.AUDIT_VERIFIED, "HD", 5, {"from": "located"}),
]


def test_every_detail_is_shown_by_name_and_codes_in_words() -> None:
    """In Chinese no field name or code of today's entries shows raw."""
    for entry in SAMPLES:
        assert set(entry.details) <= set(DETAIL_NAME), entry.action
        line = painter("zh_CN").audit_line(entry)
        for key in entry.details:
            assert f"{key}:" not in line, (key, line)
            assert f"{key}=" not in line, (key, line)
        for code in ("erased_own_data", "illegible", "located", "expert", "community"):
            assert code not in line, (code, line)
    english = painter().audit_line(SAMPLES[0])
    assert "because: they erased their own data" in english
    assert "scope: Hedong Community (HD)" in english
    assert "community" not in english.replace("Community", "")


def test_times_in_details_are_in_the_communitys_time_zone() -> None:
    urumqi = replace(
        PLACES,
        communities=tuple(replace(c, timezone="Asia/Urumqi") for c in PLACES.communities),
    )
    expires = datetime(2026, 12, 25, 2, 0, tzinfo=UTC)  # 10:00 in Beijing, 08:00 in Urumqi
    entry = replace(SAMPLES[4], details={"expires_at": expires.isoformat()})
    shanghai_line = painter().audit_line(entry)
    urumqi_line = RolesPainter(CATALOGS.for_locale("en"), urumqi).audit_line(entry)  # type: ignore[arg-type]
    assert "10:00" in shanghai_line
    assert "8:00" in urumqi_line
    assert "+00:00" not in shanghai_line


def long_page(count: int = AUDIT_PAGE, *, more: bool = True) -> AuditPage:
    reason = "我" * 200  # the longest a typed reason may be
    entries = tuple(
        AuditEntry(
            NOW,
            9,
            register_claims.CLAIM_REJECTED,
            "HD",
            1000 + n,
            {
                "claim_id": n,
                "unit": "HD-01/HD-01-1/101",
                "area_m2": "88.50",
                "reason": f"<{reason}&",
            },
            id=500 - n,
        )
        for n in range(count)
    )
    return AuditPage(RoleOutcome.DONE, communities=frozenset({"HD"}), entries=entries, more=more)


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_an_audit_page_fits_in_one_message_and_says_how_to_read_the_rest(locale: str) -> None:
    page = long_page()
    text = painter(locale).audit_page(page, "HD")
    assert utf16_length(text) <= MESSAGE_LIMIT
    shown = text.count("\n") - 1  # the title, the lines, the note
    assert 0 < shown <= len(page.entries)
    last_shown = page.entries[shown - 1].id
    assert text.rstrip().endswith(f"/audit HD {last_shown}")
    assert "<我" not in text  # what staff typed stays escaped
    assert "&lt;我" in text


def test_a_page_that_fits_whole_only_points_to_older_entries() -> None:
    page = long_page(3, more=True)
    text = painter().audit_page(page, None)
    assert text.rstrip().endswith(f"Older entries: /audit {page.entries[-1].id}")
    assert "did not fit" not in text
    complete = painter().audit_page(long_page(3, more=False), None)
    assert "/audit" not in complete


def test_twenty_long_entries_leave_some_out_and_say_how_many() -> None:
    page = long_page()
    text = painter().audit_page(page, "HD")
    left_out = re.search(r"(\d+) more entries did not fit", text)
    assert left_out is not None
    shown = text.count("\n") - 1
    assert int(left_out.group(1)) == len(page.entries) - shown


def test_audit_arguments_are_a_community_and_an_entry_id_in_any_order() -> None:
    assert parse_audit_args([], PLACES) == (None, None)
    assert parse_audit_args(["hd"], PLACES) == ("HD", None)
    assert parse_audit_args(["HD", "1234"], PLACES) == ("HD", 1234)
    assert parse_audit_args(["1234"], PLACES) == (None, 1234)
    assert parse_audit_args(["1234", "HD"], PLACES) == ("HD", 1234)
    assert parse_audit_args(["HD", "CB"], PLACES) is None
    assert parse_audit_args(["1", "2"], PLACES) is None
    assert parse_audit_args(["HD", "2", "3"], PLACES) is None
    unknown = parse_audit_args(["XX"], PLACES)
    assert isinstance(unknown, Problem)
    assert unknown.outcome is RoleOutcome.UNKNOWN_COMMUNITY


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_a_long_staff_list_fits_in_one_message_and_says_what_is_left_out(locale: str) -> None:
    from civic.roles import Tag
    from civic.roles_admin import StaffList

    tags = tuple((10_000_000_000 + n, tag) for n in range(400) for tag in Tag)
    listing = StaffList(RoleOutcome.DONE, community_code="HD", tags=tags)
    text = painter(locale).staff_list(listing)
    assert utf16_length(text) <= MESSAGE_LIMIT
    total = len(tags) + 4  # title, roles' heading (nobody), owners, tags' heading
    shown = text.count("\n")  # every line but the last, the note
    note = re.search(r"(\d+)", text.splitlines()[-1])
    assert note is not None
    assert int(note.group(1)) == total - shown
