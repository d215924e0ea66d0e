"""The ballot lifecycle table, the notice and window checks, and the committee size."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civic.ballots import (
    FINAL_STATES,
    TRANSITIONS,
    VOTING_STATES,
    ActionVerdict,
    BallotAction,
    BallotActor,
    BallotSchedule,
    BallotState,
    Cast,
    CastVerdict,
    Channel,
    Disclosure,
    GroupProblem,
    SchedulePolicy,
    ScheduleProblem,
    check_preparatory_group,
    check_schedule,
    decide_action,
    decide_cast,
    disclosure,
    earliest_opening,
    proxy_within_limit,
    publication_moment,
    reminder_moments,
    term_end,
    term_reminder_day,
    valid_committee_size,
)
from civic.sessions_calendar import QuietHours

S = BallotState
A = BallotAction
STAFF = {BallotActor.STAFF}
ADMIN = {BallotActor.ADMIN}
VOTER = {BallotActor.VOTER}
SYSTEM = {BallotActor.SYSTEM}
SHANGHAI = ZoneInfo("Asia/Shanghai")
TZ = "Asia/Shanghai"


# -- the table -------------------------------------------------------------------------------


def test_every_state_has_a_row_and_only_published_and_cancelled_are_final() -> None:
    assert set(TRANSITIONS) == set(BallotState)
    assert {state for state, row in TRANSITIONS.items() if not row} == FINAL_STATES


def test_the_happy_path_of_the_spec() -> None:
    path = [
        (S.DRAFT, A.EDIT, STAFF, None),
        (S.DRAFT, A.ANNOUNCE, STAFF, S.ANNOUNCED),
        (S.ANNOUNCED, A.AMEND, STAFF, None),
        (S.ANNOUNCED, A.OPEN, SYSTEM, S.OPEN),
        (S.OPEN, A.VOTE, VOTER, None),
        (S.OPEN, A.CHANGE_VOTE, VOTER, None),
        (S.OPEN, A.ENTER_PAPER, STAFF, None),
        (S.OPEN, A.REMIND, SYSTEM, None),
        (S.OPEN, A.CLOSE, SYSTEM, S.CLOSED),
        (S.CLOSED, A.PUBLISH, SYSTEM, S.PUBLISHED),
    ]
    for state, action, actors, after in path:
        assert decide_action(state, action, actors) == (ActionVerdict.ALLOWED, after)


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (S.DRAFT, A.VOTE),
        (S.ANNOUNCED, A.VOTE),  # before the window opens
        (S.CLOSED, A.VOTE),  # after the close
        (S.PUBLISHED, A.VOTE),
        (S.CANCELLED, A.VOTE),
        (S.CLOSED, A.CHANGE_VOTE),
        (S.CLOSED, A.ENTER_PAPER),
        (S.ANNOUNCED, A.ENTER_PAPER),
        (S.ANNOUNCED, A.EDIT),  # the announced text never changes
        (S.OPEN, A.EDIT),
        (S.CLOSED, A.AMEND),  # the result is fixed
        (S.CLOSED, A.CANCEL),
        (S.PUBLISHED, A.CANCEL),
        (S.OPEN, A.ANNOUNCE),
        (S.PUBLISHED, A.CLOSE),  # closed once
        (S.CLOSED, A.CLOSE),
        (S.PUBLISHED, A.PUBLISH),  # published once
        (S.ANNOUNCED, A.REMIND),
    ],
)
def test_actions_outside_their_state_are_not_now_whoever_asks(
    state: BallotState, action: BallotAction
) -> None:
    assert decide_action(state, action, set(BallotActor)) == (ActionVerdict.NOT_NOW, None)


@pytest.mark.parametrize(
    ("state", "action", "actors"),
    [
        (S.OPEN, A.VOTE, STAFF),  # staff enter paper ballots, never vote in chat for someone
        (S.OPEN, A.VOTE, SYSTEM),
        (S.OPEN, A.ENTER_PAPER, VOTER),
        (S.OPEN, A.CLOSE, STAFF),  # no early close by a convener
        (S.OPEN, A.CLOSE, ADMIN),
        (S.ANNOUNCED, A.OPEN, STAFF),  # no early opening either: the notice runs its course
        (S.CLOSED, A.PUBLISH, STAFF),
        (S.DRAFT, A.ANNOUNCE, VOTER),
        (S.OPEN, A.AMEND, VOTER),
        (S.OPEN, A.CANCEL, STAFF),  # only an admin stops a vote in progress
        (S.ANNOUNCED, A.CANCEL, VOTER),
    ],
)
def test_actions_by_the_wrong_person_are_not_theirs(
    state: BallotState, action: BallotAction, actors: set[BallotActor]
) -> None:
    assert decide_action(state, action, actors) == (ActionVerdict.NOT_YOURS, None)


def test_cancelling_before_voting_is_the_offices_and_during_voting_an_admins() -> None:
    for state in (S.DRAFT, S.ANNOUNCED):
        assert decide_action(state, A.CANCEL, STAFF) == (ActionVerdict.ALLOWED, S.CANCELLED)
        assert decide_action(state, A.CANCEL, ADMIN) == (ActionVerdict.ALLOWED, S.CANCELLED)
    assert decide_action(S.OPEN, A.CANCEL, ADMIN) == (ActionVerdict.ALLOWED, S.CANCELLED)


def test_votes_are_accepted_only_while_open() -> None:
    voting = {
        state
        for state, row in TRANSITIONS.items()
        if A.VOTE in row or A.CHANGE_VOTE in row or A.ENTER_PAPER in row
    }
    assert voting == VOTING_STATES == {S.OPEN}


@given(st.lists(st.tuples(st.sampled_from(list(A)), st.sampled_from(list(BallotActor)))))
def test_random_walks_never_leave_the_lifecycle_or_skip_its_order(
    steps: list[tuple[BallotAction, BallotActor]],
) -> None:
    order = [S.DRAFT, S.ANNOUNCED, S.OPEN, S.CLOSED, S.PUBLISHED]
    state = S.DRAFT
    for action, actor in steps:
        verdict, after = decide_action(state, action, {actor})
        if verdict is not ActionVerdict.ALLOWED or after is None:
            continue
        if after is S.CANCELLED:
            assert state in {S.DRAFT, S.ANNOUNCED, S.OPEN}
        else:
            assert order.index(after) == order.index(state) + 1
        state = after
    if state in FINAL_STATES:
        assert all(
            decide_action(state, action, set(BallotActor))[0] is ActionVerdict.NOT_NOW
            for action in A
        )


# -- notice and window -----------------------------------------------------------------------


def local(day: int, hour: int = 10, month: int = 3) -> datetime:
    return datetime(2027, month, day, hour, 0, tzinfo=SHANGHAI)


def test_fifteen_days_notice_counts_from_the_next_day_and_opens_after_the_last() -> None:
    # Announced on 1 March (any time): notice runs 2–16 March; voting from 00:00 on 17 March.
    for hour in (0, 10, 23):
        assert earliest_opening(local(1, hour), 15, TZ) == datetime(2027, 3, 17, tzinfo=SHANGHAI)
    # 23:30 UTC on 28 February is already 1 March in Shanghai.
    late = datetime(2027, 2, 28, 23, 30, tzinfo=UTC)
    assert earliest_opening(late, 15, TZ) == datetime(2027, 3, 17, tzinfo=SHANGHAI)
    assert earliest_opening(local(1), 20, TZ) == datetime(2027, 3, 22, tzinfo=SHANGHAI)


def test_earliest_opening_needs_an_aware_moment() -> None:
    with pytest.raises(ValueError, match="aware"):
        earliest_opening(datetime(2027, 3, 1), 15, TZ)


POLICY = SchedulePolicy()


@pytest.mark.parametrize(
    ("opens", "closes", "problem"),
    [
        (datetime(2027, 3, 17, tzinfo=SHANGHAI), datetime(2027, 3, 22, tzinfo=SHANGHAI), None),
        (
            datetime(2027, 3, 16, 23, 59, tzinfo=SHANGHAI),
            datetime(2027, 3, 22, tzinfo=SHANGHAI),
            ScheduleProblem.NOTICE_TOO_SHORT,
        ),
        (
            datetime(2027, 3, 17, tzinfo=SHANGHAI),
            datetime(2027, 3, 21, 23, 59, tzinfo=SHANGHAI),
            ScheduleProblem.WINDOW_TOO_SHORT,
        ),
        (datetime(2027, 3, 17, tzinfo=SHANGHAI), datetime(2027, 5, 16, tzinfo=SHANGHAI), None),
        (
            datetime(2027, 3, 17, tzinfo=SHANGHAI),
            datetime(2027, 5, 16, 0, 1, tzinfo=SHANGHAI),
            ScheduleProblem.WINDOW_TOO_LONG,
        ),
        (
            datetime(2027, 3, 10, tzinfo=SHANGHAI),
            datetime(2027, 3, 2, tzinfo=SHANGHAI),
            ScheduleProblem.NOTICE_TOO_SHORT,  # the notice first: moving the opening moves both
        ),
    ],
)
def test_a_schedule_is_checked_for_notice_then_window(
    opens: datetime, closes: datetime, problem: ScheduleProblem | None
) -> None:
    announced = local(1)
    schedule = BallotSchedule(announced, opens, closes)
    assert check_schedule(schedule, POLICY, TZ, now=announced) is problem


def test_a_schedule_opening_in_the_past_or_with_a_naive_moment_is_refused() -> None:
    schedule = BallotSchedule(local(1), local(17), local(25))
    assert check_schedule(schedule, POLICY, TZ, now=local(18)) is ScheduleProblem.OPENS_IN_THE_PAST
    naive = BallotSchedule(local(1), datetime(2027, 3, 17), local(25))
    assert check_schedule(naive, POLICY, TZ, now=local(1)) is ScheduleProblem.NAIVE_TIME


def test_a_longer_configured_notice_and_window_are_honoured() -> None:
    policy = SchedulePolicy(notice_days=20, min_window_days=7, max_window_days=30)
    announced = local(1)
    assert (
        check_schedule(BallotSchedule(announced, local(21), local(28)), policy, TZ, announced)
        is ScheduleProblem.NOTICE_TOO_SHORT
    )
    assert (
        check_schedule(BallotSchedule(announced, local(22), local(29)), policy, TZ, announced)
        is None
    )
    assert (
        check_schedule(BallotSchedule(announced, local(22), local(28)), policy, TZ, announced)
        is ScheduleProblem.WINDOW_TOO_SHORT
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"notice_days": 14},
        {"min_window_days": 0},
        {"min_window_days": 10, "max_window_days": 9},
    ],
)
def test_a_notice_below_the_laws_15_days_or_a_broken_window_range_is_refused(
    kwargs: dict[str, int],
) -> None:
    with pytest.raises(ValueError, match=r"notice|window"):
        SchedulePolicy(**kwargs)


@given(
    announced=st.datetimes(
        min_value=datetime(2026, 1, 1),
        max_value=datetime(2030, 12, 31),
        timezones=st.just(UTC),
    ),
    notice=st.integers(15, 60),
    offset_minutes=st.integers(-3 * 24 * 60, 3 * 24 * 60),
)
def test_voting_never_opens_before_the_full_notice_has_run(
    announced: datetime, notice: int, offset_minutes: int
) -> None:
    policy = SchedulePolicy(notice_days=notice)
    earliest = earliest_opening(announced, notice, TZ)
    opens = earliest + timedelta(minutes=offset_minutes)
    schedule = BallotSchedule(announced, opens, opens + timedelta(days=10))
    problem = check_schedule(schedule, policy, TZ, now=announced)
    assert (problem is ScheduleProblem.NOTICE_TOO_SHORT) is (opens < earliest)
    # the whole of notice days after the announcement's local day lies before the opening
    local_day = announced.astimezone(SHANGHAI).date()
    if problem is None:
        assert (opens.astimezone(SHANGHAI).date() - local_day).days >= notice + 1


# -- the committee size ----------------------------------------------------------------------


@pytest.mark.parametrize(("seats", "valid"), [(n, n in {5, 7, 9, 11}) for n in range(0, 14)])
def test_a_committee_has_five_to_eleven_members_an_odd_number(seats: int, valid: bool) -> None:
    assert valid_committee_size(seats) is valid


# -- reminders and publication ---------------------------------------------------------------

QUIET = QuietHours(time(22, 0), time(7, 0))


def test_reminders_go_at_their_offsets_before_the_close() -> None:
    schedule = BallotSchedule(local(1), local(17, 0), local(27, 18))
    moments = reminder_moments(
        schedule, [timedelta(days=7), timedelta(days=2), timedelta(days=1)], QUIET, TZ
    )
    assert moments == (local(20, 18), local(25, 18), local(26, 18))


def test_a_reminder_in_quiet_hours_waits_for_their_end_and_one_past_the_window_is_dropped() -> None:
    schedule = BallotSchedule(local(1), local(17, 0), local(27, 23))
    moments = reminder_moments(
        schedule,
        [timedelta(days=1), timedelta(hours=12), timedelta(hours=2), timedelta(days=30)],
        QUIET,
        TZ,
    )
    # 26th 23:00 → 27th 07:00; 27th 11:00 stays; 27th 21:00 stays; 30 days is before the opening
    assert moments == (local(27, 7), local(27, 11), local(27, 21))
    late = BallotSchedule(local(1), local(17, 0), local(28, 6))
    # 1 hour before a 06:00 close is in quiet hours, which end after the close: no reminder
    assert reminder_moments(late, [timedelta(hours=1)], QUIET, TZ) == ()


def test_two_offsets_landing_on_one_moment_remind_once() -> None:
    schedule = BallotSchedule(local(1), local(17, 0), local(27, 8))
    # 08:00 − 2h = 06:00 and − 3h = 05:00: both quiet, both moved to 07:00
    assert reminder_moments(schedule, [timedelta(hours=2), timedelta(hours=3)], QUIET, TZ) == (
        local(27, 7),
    )
    with pytest.raises(ValueError, match="before the close"):
        reminder_moments(schedule, [timedelta(0)], QUIET, TZ)


def test_results_are_published_at_the_close_or_when_quiet_hours_end() -> None:
    assert publication_moment(local(27, 18), QUIET, TZ) == local(27, 18)
    assert publication_moment(local(27, 23), QUIET, TZ) == local(28, 7)
    assert publication_moment(local(28, 0), QUIET, TZ) == local(28, 7)


# -- committee formation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "years", "end", "reminder"),
    [
        (date(2027, 5, 10), 5, date(2032, 5, 9), date(2032, 2, 9)),
        (date(2027, 1, 1), 3, date(2029, 12, 31), date(2029, 9, 30)),
        (date(2028, 2, 29), 1, date(2029, 2, 28), date(2028, 11, 28)),
        (date(2027, 3, 1), 1, date(2028, 2, 29), date(2027, 11, 29)),
        (date(2027, 6, 1), 2, date(2029, 5, 31), date(2029, 2, 28)),  # no 31 February
    ],
)
def test_a_committee_term_ends_the_day_before_its_anniversary_reminded_3_months_ahead(
    start: date, years: int, end: date, reminder: date
) -> None:
    assert term_end(start, years) == end
    assert term_reminder_day(end) == reminder


@pytest.mark.parametrize("years", [0, 6])
def test_a_term_is_one_to_five_years(years: int) -> None:
    with pytest.raises(ValueError, match="term"):
        term_end(date(2027, 1, 1), years)


@pytest.mark.parametrize(
    ("members", "owners", "problem"),
    [
        (5, 3, None),
        (5, 2, GroupProblem.TOO_FEW_OWNERS),
        (7, 4, None),
        (7, 7, None),
        (6, 6, GroupProblem.EVEN),
        (1, 1, None),
    ],
)
def test_a_preparatory_group_is_odd_and_at_least_half_owners(
    members: int, owners: int, problem: GroupProblem | None
) -> None:
    assert check_preparatory_group(members, owners) is problem


def test_a_proxy_holds_at_most_the_configured_units() -> None:
    assert proxy_within_limit(3, 3)
    assert not proxy_within_limit(4, 3)
    with pytest.raises(ValueError, match="at least one"):
        proxy_within_limit(1, 0)


# -- one owner, one choice -------------------------------------------------------------------

CHAT_YES = Cast(Channel.CHAT, 42, "yes")


@pytest.mark.parametrize(
    ("previous", "new", "allow", "verdict"),
    [
        (None, CHAT_YES, True, CastVerdict.NEW),
        (None, Cast(Channel.PAPER, 7, "no"), False, CastVerdict.NEW),
        (CHAT_YES, Cast(Channel.CHAT, 42, "no"), True, CastVerdict.CHANGE),
        (CHAT_YES, Cast(Channel.CHAT, 42, "no"), False, CastVerdict.CHANGE_NOT_ALLOWED),
        (CHAT_YES, CHAT_YES, False, CastVerdict.SAME),
        (CHAT_YES, Cast(Channel.PAPER, 7, "yes"), True, CastVerdict.ALREADY_VOTED),
        (Cast(Channel.PAPER, 7, "no"), CHAT_YES, True, CastVerdict.ALREADY_VOTED),
        (CHAT_YES, Cast(Channel.PROXY, 43, "no"), True, CastVerdict.ALREADY_VOTED),
        (
            Cast(Channel.PROXY, 43, "no"),
            Cast(Channel.CHAT, 42, "yes"),
            True,
            CastVerdict.ALREADY_VOTED,
        ),
        (Cast(Channel.PROXY, 43, "no"), Cast(Channel.PROXY, 43, "yes"), True, CastVerdict.CHANGE),
        (
            CHAT_YES,
            Cast(Channel.CHAT, 44, "no"),
            True,
            CastVerdict.ALREADY_VOTED,
        ),  # another co-owner
        (
            Cast(Channel.PAPER, 7, "no"),
            Cast(Channel.PAPER, 7, "yes"),
            True,
            CastVerdict.ALREADY_VOTED,
        ),
        (
            Cast(Channel.PAPER, 7, "no"),
            Cast(Channel.PAPER, 8, "no"),
            True,
            CastVerdict.ALREADY_VOTED,
        ),
        (Cast(Channel.PAPER, 7, "no"), Cast(Channel.PAPER, 7, "no"), True, CastVerdict.SAME),
    ],
)
def test_one_subject_keeps_one_choice_from_its_first_channel_and_person(
    previous: Cast | None, new: Cast, allow: bool, verdict: CastVerdict
) -> None:
    assert decide_cast(previous, new, allow_change=allow) is verdict


@given(
    st.lists(
        st.tuples(
            st.sampled_from(list(Channel)), st.integers(1, 3), st.sampled_from(["y", "n", "a"])
        ),
        min_size=1,
        max_size=12,
    ),
    st.booleans(),
)
def test_whatever_arrives_the_record_keeps_one_channel_and_one_person(
    attempts: list[tuple[Channel, int, str]], allow: bool
) -> None:
    record: Cast | None = None
    for channel, voter, choice in attempts:
        new = Cast(channel, voter, choice)
        if decide_cast(record, new, allow_change=allow) in {CastVerdict.NEW, CastVerdict.CHANGE}:
            record = new
    first = Cast(*attempts[0])
    assert record is not None
    assert (record.channel, record.voter_id) == (first.channel, first.voter_id)
    if not allow or first.channel is Channel.PAPER:
        assert record == first


@pytest.mark.parametrize("state", list(BallotState))
@pytest.mark.parametrize("show_turnout", [True, False])
def test_choices_are_never_disclosed_before_the_close(
    state: BallotState, show_turnout: bool
) -> None:
    seen = disclosure(state, show_turnout)
    if state in {S.CLOSED, S.PUBLISHED}:
        assert seen is Disclosure.RESULT
    elif state is S.OPEN and show_turnout:
        assert seen is Disclosure.TURNOUT
    else:
        assert seen is Disclosure.NOTHING
