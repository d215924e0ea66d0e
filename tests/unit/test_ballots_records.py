"""The hash-chained ballot event log and masked voter lists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civic.ballots import BallotAction
from civic.ballots_records import (
    ChainedEvent,
    canonical_event,
    chain_digest,
    genesis,
    mask_name,
    mask_room,
    verify_chain,
)
from civic.ballots_tally import Choice

AT = datetime(2027, 3, 17, 2, 0, tzinfo=UTC)


def chained(ballot_id: int, events: list[dict[str, Any]]) -> list[ChainedEvent]:
    previous = genesis(ballot_id)
    out = []
    for event in events:
        previous = chain_digest(previous, event)
        out.append(ChainedEvent(event, previous))
    return out


def vote(seq: int, days: int, kind: BallotAction, subject: str, choice: Choice) -> dict[str, Any]:
    return {
        "seq": seq,
        "kind": kind,
        "at": AT + timedelta(days=days),
        "subject": subject,
        "choice": choice,
    }


EVENTS: list[dict[str, Any]] = [
    {"seq": 1, "kind": BallotAction.ANNOUNCE, "at": AT, "snapshot": {"units": 30}},
    vote(2, 1, BallotAction.VOTE, "zhang", Choice.YES),
    vote(3, 2, BallotAction.ENTER_PAPER, "li", Choice.NO),
    vote(4, 3, BallotAction.CHANGE_VOTE, "zhang", Choice.ABSTAIN),
    {"seq": 5, "kind": BallotAction.CLOSE, "at": AT + timedelta(days=5)},
]


def test_an_untouched_chain_verifies() -> None:
    assert verify_chain(7, chained(7, EVENTS)) is None
    assert verify_chain(7, []) is None


def test_an_altered_vote_is_found_at_its_own_place() -> None:
    chain = chained(7, EVENTS)
    altered = dict(chain[2].event, choice=Choice.YES)
    chain[2] = ChainedEvent(altered, chain[2].digest)
    assert verify_chain(7, chain) == 2


def test_removing_inserting_or_reordering_events_breaks_the_chain() -> None:
    chain = chained(7, EVENTS)
    assert verify_chain(7, chain[:1] + chain[2:]) == 1
    assert verify_chain(7, [chain[1], chain[0], *chain[2:]]) == 0
    forged = ChainedEvent({"seq": 9, "kind": "vote"}, chain[1].digest)
    assert verify_chain(7, [*chain[:2], forged, *chain[2:]]) == 2


def test_a_chain_cannot_be_moved_to_another_ballot() -> None:
    assert verify_chain(8, chained(7, EVENTS)) == 0


def test_rewriting_an_event_with_a_recomputed_digest_still_breaks_the_next_one() -> None:
    chain = chained(7, EVENTS)
    altered = dict(chain[1].event, choice=Choice.NO)
    chain[1] = ChainedEvent(altered, chain_digest(chain[0].digest, altered))
    assert verify_chain(7, chain) == 2


def test_the_canonical_form_ignores_key_order_and_the_time_zone_a_moment_was_read_in() -> None:
    shanghai = timezone(timedelta(hours=8))
    one = {"b": 1, "a": AT, "kind": BallotAction.VOTE}
    other = {"kind": "vote", "a": AT.astimezone(shanghai), "b": 1}
    assert canonical_event(one) == canonical_event(other)
    assert canonical_event({"name": "张三"}) == '{"name":"张三"}'.encode()
    assert canonical_event({"s": frozenset({"b", "a"})}) == b'{"s":["a","b"]}'


@pytest.mark.parametrize(
    "event",
    [{"area": 89.5}, {"at": datetime(2027, 3, 17)}],
)
def test_floats_and_naive_datetimes_are_refused(event: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"float|aware"):
        canonical_event(event)


@given(
    st.lists(
        st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=8), max_size=4),
        min_size=1,
        max_size=8,
    ),
    st.data(),
)
def test_any_single_change_to_any_event_is_detected(
    events: list[dict[str, Any]], data: st.DataObject
) -> None:
    chain = chained(1, events)
    index = data.draw(st.integers(0, len(events) - 1))
    changed = dict(events[index], __tampered__=True)
    chain[index] = ChainedEvent(changed, chain[index].digest)
    assert verify_chain(1, chain) == index


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张三丰", "张**"), ("李四", "李**"), ("欧阳", "欧**"), (" Wang Fang ", "W**"), ("", "**")],
)
def test_names_keep_their_first_character(name: str, masked: str) -> None:
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("building", "label", "masked"),
    [
        ("3栋", "2单元301室", "3栋2单元**室"),
        ("3栋", "301", "3栋**"),
        (None, "A-1203", "A-**"),
        ("5号楼", "地下商铺", "5号楼**"),
    ],
)
def test_rooms_hide_the_last_number_only(building: str | None, label: str, masked: str) -> None:
    assert mask_room(building, label) == masked
