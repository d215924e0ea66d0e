"""Report deadline jobs: which are scheduled, their keys, whether one still applies, who is told."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.callbacks import CallbackCodec
from bot.config import load_config_file, places_from_config
from bot.i18n import Catalogs
from civic.places import CategoryType
from civic.reports import Report, Reporter, ReportState, TrackingNumber
from civic.reports_reminders import (
    ESCALATE_JOB,
    REMIND_JOB,
    Arrival,
    Deadline,
    JobVerdict,
    arrival_of,
    deadline_jobs,
    deadline_notice_key,
    decide_deadline_job,
    desk_recipients,
    escalation_recipients,
    job_key,
    read_payload,
)
from civic.reports_routing import Assignee, AssigneeKind
from civic.roles import Grant, Position, Role, Scope, ScopeKind
from handlers.reports_reminders import DeskOutboxNotices
from tests.helpers import SHIPPED_CONFIG

PLACES = places_from_config(load_config_file(SHIPPED_CONFIG))
CATALOGS = Catalogs.load(strict=True)
CODEC = CallbackCodec(b"k" * 32)
SHANGHAI = "Asia/Shanghai"
ZONE = ZoneInfo(SHANGHAI)

FILED = datetime(2026, 11, 25, 10, 30, tzinfo=ZONE)  # a Wednesday morning
ACCEPT_BY = datetime(2026, 11, 26, 18, 0, tzinfo=ZONE)  # 1 working day
RESOLVE_BY = datetime(2026, 12, 2, 18, 0, tzinfo=ZONE)  # 5 working days

GRID = Assignee(AssigneeKind.GRID_WORKER, "HD-G1")
COMMUNITY = Assignee(AssigneeKind.COMMUNITY, "HD")
TOWNSHIP = Assignee(AssigneeKind.TOWNSHIP, "YK")
DEPARTMENT = Assignee(AssigneeKind.DEPARTMENT, PLACES.departments[0].code)


def a_report(**changes: object) -> Report:
    report = Report(
        community_code="HD",
        compound_code="HD-02",
        category_code="garbage",
        category_type=CategoryType.COMPLAINT,
        description="Rubbish by the gate",
        reporter=Reporter(user_id=1),
        assignee=GRID,
        created_at=FILED,
        accept_by=ACCEPT_BY.astimezone(UTC),  # as read back from the database
        resolve_by=RESOLVE_BY.astimezone(UTC),
        id=42,
        number=TrackingNumber("HD", 2026, 7),
    )
    return replace(report, **changes)  # type: ignore[arg-type]


# -- which jobs ---------------------------------------------------------------------------


def test_a_filed_report_gets_a_reminder_and_an_escalation_for_each_deadline() -> None:
    jobs = deadline_jobs(a_report(), FILED, SHANGHAI)

    planned = {(j.kind, j.key): (j.due_at, j.stale_after) for j in jobs}
    accept_key = "42:accept:20261126T100000Z"
    resolve_key = "42:resolve:20261202T100000Z"
    assert planned == {
        (REMIND_JOB, accept_key): (datetime(2026, 11, 26, 9, 0, tzinfo=ZONE), ACCEPT_BY),
        (ESCALATE_JOB, accept_key): (ACCEPT_BY, None),
        (REMIND_JOB, resolve_key): (datetime(2026, 12, 2, 9, 0, tzinfo=ZONE), RESOLVE_BY),
        (ESCALATE_JOB, resolve_key): (RESOLVE_BY, None),
    }
    assert all(
        read_payload(j.payload) == (42, Deadline(j.key.split(":")[1]), j.stale_after or j.due_at)
        for j in jobs
    )


def test_an_accepted_report_owes_only_its_resolution() -> None:
    jobs = deadline_jobs(a_report(state=ReportState.ACCEPTED), FILED, SHANGHAI)

    assert {j.key for j in jobs} == {"42:resolve:20261202T100000Z"}


@pytest.mark.parametrize("state", [ReportState.RESOLVED, ReportState.CLOSED, ReportState.REJECTED])
def test_a_report_no_longer_open_gets_no_deadline_jobs(state: ReportState) -> None:
    assert deadline_jobs(a_report(state=state), FILED, SHANGHAI) == []


def test_no_reminder_when_the_due_day_has_begun_the_escalation_stays() -> None:
    same_day = datetime(2026, 11, 26, 9, 0, tzinfo=ZONE)  # the reminder's moment itself

    jobs = deadline_jobs(a_report(), same_day, SHANGHAI)

    accept = [j.kind for j in jobs if ":accept:" in j.key]
    assert accept == [ESCALATE_JOB]


def test_an_accept_deadline_capped_at_the_resolve_deadline_is_escalated_once() -> None:
    capped = a_report(accept_by=RESOLVE_BY, state=ReportState.SUBMITTED)

    jobs = deadline_jobs(capped, FILED, SHANGHAI)

    assert {j.key.split(":")[1] for j in jobs} == {"resolve"}
    assert [j.kind for j in jobs].count(ESCALATE_JOB) == 1


def test_a_report_reassigned_after_its_resolve_deadline_gets_accept_jobs_of_its_own() -> None:
    reassigned = datetime(2026, 12, 3, 10, 0, tzinfo=ZONE)  # the day after RESOLVE_BY
    fresh = datetime(2026, 12, 4, 18, 0, tzinfo=ZONE)
    late = a_report(accept_by=fresh.astimezone(UTC))

    jobs = deadline_jobs(late, reassigned, SHANGHAI)

    accept_key = "42:accept:20261204T100000Z"
    planned = {(j.kind, j.key): (j.due_at, j.stale_after) for j in jobs}
    assert planned[(REMIND_JOB, accept_key)] == (datetime(2026, 12, 4, 9, 0, tzinfo=ZONE), fresh)
    assert planned[(ESCALATE_JOB, accept_key)] == (fresh, None)
    # The resolve deadline's own jobs keep their key (done already: scheduling is a no-op).
    assert {k for _, k in planned if ":resolve:" in k} == {"42:resolve:20261202T100000Z"}


def test_a_reassignment_with_a_new_accept_deadline_makes_new_keys_the_resolve_key_stays() -> None:
    before = {j.key for j in deadline_jobs(a_report(), FILED, SHANGHAI)}
    later = a_report(accept_by=datetime(2026, 11, 27, 18, 0, tzinfo=ZONE))

    after = {j.key for j in deadline_jobs(later, FILED, SHANGHAI)}

    assert "42:accept:20261127T100000Z" in after - before
    assert "42:resolve:20261202T100000Z" in before & after


@given(
    instant=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
    ),
    offset_minutes=st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_a_key_names_the_instant_whatever_zone_it_is_read_in(
    instant: datetime, offset_minutes: int
) -> None:
    zone = timezone(timedelta(minutes=offset_minutes))
    same = instant.astimezone(zone)

    assert job_key(7, Deadline.ACCEPT, instant) == job_key(7, Deadline.ACCEPT, same)
    assert read_payload(
        {
            "report_id": 7,
            "deadline": "accept",
            "due": job_key(7, Deadline.ACCEPT, same).split(":")[2],
        }
    )[2] == instant.replace(microsecond=0)


def test_notice_keys_differ_per_kind_deadline_and_person() -> None:
    key = job_key(42, Deadline.ACCEPT, ACCEPT_BY)
    keys = {
        deadline_notice_key(kind, k, person)
        for kind in (REMIND_JOB, ESCALATE_JOB)
        for k in (key, job_key(42, Deadline.RESOLVE, ACCEPT_BY))
        for person in (1, 2)
    }
    assert len(keys) == 8


# -- does it still apply? -------------------------------------------------------------------

LATE = ACCEPT_BY + timedelta(minutes=1)
MORNING = datetime(2026, 11, 26, 9, 0, tzinfo=ZONE)


_S, _V, _A, _R = ReportState, JobVerdict, Deadline.ACCEPT, Deadline.RESOLVE
_EARLIER, _LATER = ACCEPT_BY - timedelta(days=1), RESOLVE_BY + timedelta(days=1)


@pytest.mark.parametrize(
    ("state", "kind", "deadline", "due", "now", "verdict"),
    [
        (_S.SUBMITTED, REMIND_JOB, _A, ACCEPT_BY, MORNING, _V.APPLIES),
        (_S.SUBMITTED, ESCALATE_JOB, _A, ACCEPT_BY, LATE, _V.APPLIES),
        (_S.SUBMITTED, REMIND_JOB, _A, ACCEPT_BY, LATE, _V.TOO_LATE),
        (_S.SUBMITTED, REMIND_JOB, _A, ACCEPT_BY, ACCEPT_BY, _V.TOO_LATE),
        (_S.ACCEPTED, ESCALATE_JOB, _A, ACCEPT_BY, LATE, _V.MOVED_ON),
        (_S.ACCEPTED, REMIND_JOB, _A, ACCEPT_BY, MORNING, _V.MOVED_ON),
        (_S.REJECTED, ESCALATE_JOB, _A, ACCEPT_BY, LATE, _V.MOVED_ON),
        (_S.REOPENED, ESCALATE_JOB, _A, ACCEPT_BY, LATE, _V.MOVED_ON),
        (_S.ACCEPTED, ESCALATE_JOB, _R, RESOLVE_BY, RESOLVE_BY, _V.APPLIES),
        (_S.IN_PROGRESS, REMIND_JOB, _R, RESOLVE_BY, MORNING, _V.APPLIES),
        (_S.REOPENED, ESCALATE_JOB, _R, RESOLVE_BY, RESOLVE_BY, _V.APPLIES),
        (_S.SUBMITTED, ESCALATE_JOB, _R, RESOLVE_BY, RESOLVE_BY, _V.APPLIES),
        (_S.RESOLVED, ESCALATE_JOB, _R, RESOLVE_BY, RESOLVE_BY, _V.MOVED_ON),
        (_S.RESOLVED, REMIND_JOB, _R, RESOLVE_BY, MORNING, _V.MOVED_ON),
        (_S.CLOSED, ESCALATE_JOB, _R, RESOLVE_BY, RESOLVE_BY, _V.MOVED_ON),
        (_S.SUBMITTED, ESCALATE_JOB, _A, _EARLIER, LATE, _V.DEADLINE_CHANGED),
        (_S.SUBMITTED, REMIND_JOB, _A, _EARLIER, MORNING, _V.DEADLINE_CHANGED),
        (_S.IN_PROGRESS, ESCALATE_JOB, _R, _LATER, _LATER, _V.DEADLINE_CHANGED),
    ],
)
def test_whether_a_deadline_job_still_applies(
    state: ReportState,
    kind: str,
    deadline: Deadline,
    due: datetime,
    now: datetime,
    verdict: JobVerdict,
) -> None:
    assert decide_deadline_job(a_report(state=state), kind, deadline, due, now) is verdict


def test_a_job_of_a_report_that_is_gone_does_nothing() -> None:
    assert decide_deadline_job(None, ESCALATE_JOB, Deadline.ACCEPT, ACCEPT_BY, LATE) is (
        JobVerdict.GONE
    )


def test_only_deadline_jobs_are_decided_here() -> None:
    with pytest.raises(ValueError, match="not a deadline job"):
        decide_deadline_job(a_report(), "reports.expire", Deadline.ACCEPT, ACCEPT_BY, LATE)


# -- who is told ----------------------------------------------------------------------------


def grant(
    user_id: int, role: Role, kind: ScopeKind, code: str, community: str | None, **kw: object
) -> Grant:
    return Grant(user_id, role, Scope(kind, code), community, **kw)  # type: ignore[arg-type]


HOLDERS = [
    grant(10, Role.GRID_WORKER, ScopeKind.GRID, "HD-G1", "HD"),
    grant(11, Role.GRID_WORKER, ScopeKind.GRID, "HD-G1", "HD"),
    grant(12, Role.GRID_WORKER, ScopeKind.GRID, "HD-G2", "HD"),
    grant(20, Role.STAFF, ScopeKind.COMMUNITY, "HD", "HD", position=Position.CLERK),
    grant(21, Role.STAFF, ScopeKind.COMMUNITY, "CB", "CB", position=Position.CLERK),
    grant(30, Role.LIAISON, ScopeKind.DEPARTMENT, DEPARTMENT.code, None),
    grant(31, Role.LIAISON, ScopeKind.DEPARTMENT, PLACES.departments[1].code, None),
]


@pytest.mark.parametrize(
    ("assignee", "told"),
    [(GRID, [10, 11]), (COMMUNITY, [20]), (TOWNSHIP, [20]), (DEPARTMENT, [30])],
)
def test_the_desk_is_everyone_holding_its_role_over_the_report(
    assignee: Assignee, told: list[int]
) -> None:
    assert desk_recipients(a_report(assignee=assignee), HOLDERS) == told


def test_the_desk_is_the_person_named_once_someone_took_it() -> None:
    named = a_report(assignee=replace(GRID, user_id=12))

    assert desk_recipients(named, HOLDERS) == [12]


def test_a_desk_nobody_holds_hears_nothing() -> None:
    assert (
        desk_recipients(a_report(assignee=Assignee(AssigneeKind.GRID_WORKER, "HD-G9")), HOLDERS)
        == []
    )


SECRETARY = grant(40, Role.STAFF, ScopeKind.COMMUNITY, "HD", "HD", position=Position.SECRETARY)
ADMINS = [
    grant(50, Role.ADMIN, ScopeKind.TOWNSHIP, "YK", None),
    grant(51, Role.ADMIN, ScopeKind.COUNTY, "*", None),
    grant(52, Role.ADMIN, ScopeKind.TOWNSHIP, "ELSEWHERE", None),
]


def test_an_escalation_goes_to_the_secretary() -> None:
    assert escalation_recipients([*HOLDERS, SECRETARY], ADMINS, "HD", PLACES) == [40]


def test_without_a_secretary_the_community_staff_are_told() -> None:
    assert escalation_recipients(HOLDERS, ADMINS, "HD", PLACES) == [20]


def test_without_staff_the_admins_covering_the_community_are_told() -> None:
    grid_only = [g for g in HOLDERS if g.role is Role.GRID_WORKER]

    assert escalation_recipients(grid_only, ADMINS, "HD", PLACES) == [50, 51]


def test_a_secretary_who_is_late_themselves_is_not_told_the_other_staff_are() -> None:
    assert escalation_recipients([*HOLDERS, SECRETARY], ADMINS, "HD", PLACES, late=40) == [20]


def test_the_only_staff_member_being_late_the_admins_covering_the_community_are_told() -> None:
    staff_only = [g for g in HOLDERS if g.user_id == 20]

    assert escalation_recipients(staff_only, ADMINS, "HD", PLACES, late=20) == [50, 51]


def test_a_late_admin_is_not_told_of_their_own_delay() -> None:
    assert escalation_recipients([], ADMINS, "HD", PLACES, late=50) == [51]


def test_a_secretary_of_another_community_is_not_told() -> None:
    other = replace(SECRETARY, scope=Scope(ScopeKind.COMMUNITY, "CB"), community_code="CB")

    assert escalation_recipients([*HOLDERS, other], ADMINS, "HD", PLACES) == [20]


# -- the messages ---------------------------------------------------------------------------

NOTICES = DeskOutboxNotices(CATALOGS, CODEC, PLACES)


@pytest.mark.parametrize("language", ["en", "zh-hans", None])
def test_each_message_has_the_number_the_deadline_in_the_community_zone_and_a_card_button(
    language: str | None,
) -> None:
    report = a_report()
    messages = [
        *(NOTICES.arrived(report, 10, language, arrival) for arrival in Arrival),
        *(NOTICES.reminder(report, d, 10, language) for d in Deadline),
        *(NOTICES.escalation(report, d, 10, language) for d in Deadline),
    ]

    for message in messages:
        text = str(message.payload["text"])
        assert message.chat_id == 10
        assert "HD-2026-0007" in text
        assert "{" not in text  # every placeholder filled
        [[button]] = message.payload["reply_markup"]["inline_keyboard"]
        assert len(button["callback_data"].encode()) <= 64
    accept_text = str(messages[0].payload["text"])
    shanghai = "6:00\u202fPM" if language == "en" else " 18:00 "  # not 10:00 UTC
    assert shanghai in accept_text
    assert "10:00" not in accept_text


@pytest.mark.parametrize(
    ("now", "reassigned", "arrival"),
    [
        (FILED, False, Arrival.FILED),
        (RESOLVE_BY - timedelta(minutes=1), True, Arrival.PASSED),
        (RESOLVE_BY, True, Arrival.PASSED_OVERDUE),
        (RESOLVE_BY + timedelta(days=1), True, Arrival.PASSED_OVERDUE),
    ],
)
def test_the_desk_hears_how_the_report_came_to_it(
    now: datetime, reassigned: bool, arrival: Arrival
) -> None:
    assert arrival_of(a_report(), now, reassigned=reassigned) is arrival


def test_a_reopened_report_released_to_the_desk_asks_to_resolve_it() -> None:
    """Its accept-by is long past: the desk hears it was reopened, not "accept by"."""
    reopened = a_report(state=ReportState.REOPENED)
    assert arrival_of(reopened, FILED, reassigned=True) is Arrival.REOPENED
    assert arrival_of(reopened, FILED, reassigned=False) is Arrival.FILED


def test_a_reassigned_report_is_passed_to_the_desk_not_new() -> None:
    report = a_report()

    english = str(NOTICES.arrived(report, 10, "en", Arrival.PASSED).payload["text"])
    chinese = str(NOTICES.arrived(report, 10, "zh-hans", Arrival.PASSED).payload["text"])

    assert "passed to you" in english
    assert "New report" not in english
    assert "转给您" in chinese
    assert "新反映" not in chinese
    assert "Wed, Dec 2, 2026, 6:00\u202fPM" in english  # the resolve deadline stays


def test_a_report_passed_on_after_its_resolve_deadline_says_since_when_it_is_overdue() -> None:
    late = a_report(accept_by=datetime(2026, 12, 4, 18, 0, tzinfo=ZONE).astimezone(UTC))

    english = str(NOTICES.arrived(late, 10, "en", Arrival.PASSED_OVERDUE).payload["text"])
    chinese = str(NOTICES.arrived(late, 10, "zh-hans", Arrival.PASSED_OVERDUE).payload["text"])

    assert "Overdue since Wed, Dec 2, 2026, 6:00\u202fPM; accept by Fri, Dec 4" in english
    assert "超期" in chinese
    assert "2026年12月2日" in chinese
    assert "2026年12月4日" in chinese


def test_messages_speak_the_recipients_language() -> None:
    report = a_report()

    english = str(NOTICES.escalation(report, Deadline.ACCEPT, 40, "en").payload["text"])
    chinese = str(NOTICES.escalation(report, Deadline.ACCEPT, 40, "zh-hans").payload["text"])

    assert "not accepted" in english
    assert "未受理" in chinese
