"""The topic lifecycle table, co-sign rules, merging, held words and text checks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civic.residents import VerificationLevel
from civic.topics import (
    CLOSED_STATES,
    COSIGN_STATES,
    TRANSITIONS,
    ActionVerdict,
    ActorRole,
    CosignOutcome,
    HideReason,
    MergeProblem,
    Outcome,
    RejectReason,
    Signer,
    TextProblem,
    Topic,
    TopicAction,
    TopicCategory,
    TopicState,
    change_recipients,
    check_description,
    check_merge,
    check_title,
    cosign_counts,
    count_cosigns,
    decide_action,
    decide_cosign,
    decide_uncosign,
    held_words_in,
    initial_state,
    merged_cosigners,
    normalise_for_matching,
    outcome_action,
    reaches_threshold,
)

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
S = TopicState
A = TopicAction
L = VerificationLevel
STAFF = {ActorRole.STAFF}
RESIDENT = {ActorRole.RESIDENT}
PROPOSER = {ActorRole.PROPOSER, ActorRole.RESIDENT}
SYSTEM = {ActorRole.SYSTEM}
PROPOSER_ID = 1


def topic(state: TopicState = S.OPEN, topic_id: int = 10, community: str = "HD") -> Topic:
    return Topic(
        community_code=community,
        proposer_id=PROPOSER_ID,
        title="小区东门加装路灯",
        description="东门到3号楼一段晚上没有灯。",
        category=TopicCategory.PUBLIC_AFFAIRS,
        created_at=NOW,
        state=state,
        merged_into=99 if state is S.MERGED else None,
        reject_reason=RejectReason.OUT_OF_SCOPE if state is S.REJECTED else None,
        hide_reason=HideReason.ABUSIVE if state is S.HIDDEN else None,
        id=topic_id,
    )


# -- the table ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "action", "roles", "verdict", "to"),
    [
        # the way through: proposed, co-signed, queued, on an agenda, decided
        (S.OPEN, A.COSIGN, RESIDENT, ActionVerdict.ALLOWED, None),
        (S.OPEN, A.UNCOSIGN, RESIDENT, ActionVerdict.ALLOWED, None),
        (S.OPEN, A.QUEUE, SYSTEM, ActionVerdict.ALLOWED, S.QUEUED),
        (S.OPEN, A.QUEUE, STAFF, ActionVerdict.NOT_YOURS, None),
        (S.OPEN, A.ACCEPT, STAFF, ActionVerdict.ALLOWED, S.QUEUED),
        (S.OPEN, A.ACCEPT, PROPOSER, ActionVerdict.NOT_YOURS, None),
        (S.QUEUED, A.SCHEDULE, STAFF, ActionVerdict.ALLOWED, S.SCHEDULED),
        (S.QUEUED, A.QUEUE, SYSTEM, ActionVerdict.NOT_NOW, None),
        (S.SCHEDULED, A.ADOPT, STAFF, ActionVerdict.ALLOWED, S.ADOPTED),
        (S.SCHEDULED, A.DECLINE, STAFF, ActionVerdict.ALLOWED, S.DECLINED),
        (S.SCHEDULED, A.REFER, STAFF, ActionVerdict.ALLOWED, S.REFERRED),
        (S.SCHEDULED, A.DEFER, STAFF, ActionVerdict.ALLOWED, S.QUEUED),
        (S.SCHEDULED, A.UNSCHEDULE, STAFF, ActionVerdict.ALLOWED, S.QUEUED),
        (S.SCHEDULED, A.ADOPT, RESIDENT, ActionVerdict.NOT_YOURS, None),
        (S.SCHEDULED, A.COSIGN, RESIDENT, ActionVerdict.ALLOWED, None),
        # technical: the assessment before any agenda
        (S.OPEN, A.MARK_TECHNICAL, STAFF, ActionVerdict.ALLOWED, S.TECHNICAL),
        (S.QUEUED, A.MARK_TECHNICAL, STAFF, ActionVerdict.ALLOWED, S.TECHNICAL),
        (S.TECHNICAL, A.SCHEDULE, STAFF, ActionVerdict.NOT_NOW, None),
        (S.TECHNICAL, A.QUEUE, SYSTEM, ActionVerdict.NOT_NOW, None),
        (S.TECHNICAL, A.ASSESS, STAFF, ActionVerdict.ALLOWED, S.QUEUED),
        (S.TECHNICAL, A.ASSESS, PROPOSER, ActionVerdict.NOT_YOURS, None),
        (S.OPEN, A.SCHEDULE, STAFF, ActionVerdict.NOT_NOW, None),
        # moderation
        (S.HELD, A.RELEASE, STAFF, ActionVerdict.ALLOWED, S.OPEN),
        (S.HELD, A.COSIGN, RESIDENT, ActionVerdict.NOT_NOW, None),
        (S.HELD, A.HIDE, STAFF, ActionVerdict.ALLOWED, S.HIDDEN),
        (S.SCHEDULED, A.HIDE, STAFF, ActionVerdict.ALLOWED, S.HIDDEN),
        (S.OPEN, A.HIDE, RESIDENT, ActionVerdict.NOT_YOURS, None),
        # merge, reject, withdraw
        (S.OPEN, A.MERGE, STAFF, ActionVerdict.ALLOWED, S.MERGED),
        (S.TECHNICAL, A.MERGE, STAFF, ActionVerdict.ALLOWED, S.MERGED),
        (S.SCHEDULED, A.MERGE, STAFF, ActionVerdict.NOT_NOW, None),
        (S.QUEUED, A.REJECT, STAFF, ActionVerdict.ALLOWED, S.REJECTED),
        (S.SCHEDULED, A.REJECT, STAFF, ActionVerdict.NOT_NOW, None),
        (S.OPEN, A.WITHDRAW, PROPOSER, ActionVerdict.ALLOWED, S.WITHDRAWN),
        (S.HELD, A.WITHDRAW, PROPOSER, ActionVerdict.ALLOWED, S.WITHDRAWN),
        (S.OPEN, A.WITHDRAW, STAFF, ActionVerdict.NOT_YOURS, None),
        (S.QUEUED, A.WITHDRAW, PROPOSER, ActionVerdict.NOT_NOW, None),
        # closed: nothing, and "not now" before "not yours"
        (S.ADOPTED, A.COSIGN, RESIDENT, ActionVerdict.NOT_NOW, None),
        (S.MERGED, A.COSIGN, STAFF, ActionVerdict.NOT_NOW, None),
        (S.REJECTED, A.ACCEPT, RESIDENT, ActionVerdict.NOT_NOW, None),
    ],
)
def test_decide_action(
    state: TopicState,
    action: TopicAction,
    roles: set[ActorRole],
    verdict: ActionVerdict,
    to: TopicState | None,
) -> None:
    assert decide_action(state, action, roles) == (verdict, to)


def test_the_table_covers_every_state_and_closed_states_allow_nothing() -> None:
    assert set(TRANSITIONS) == set(TopicState)
    assert all(TRANSITIONS[state] == {} for state in CLOSED_STATES)
    assert COSIGN_STATES.isdisjoint(CLOSED_STATES)
    for state in COSIGN_STATES:
        assert A.COSIGN in TRANSITIONS[state]
        assert A.UNCOSIGN in TRANSITIONS[state]


def test_only_an_assessment_or_the_queue_leads_out_of_technical_onto_an_agenda() -> None:
    # Whatever path reaches "scheduled", a technical topic passed through "assess".
    into_scheduled = {state for state, rules in TRANSITIONS.items() if A.SCHEDULE in rules}
    assert into_scheduled == {S.QUEUED}
    assert {r.to for r in TRANSITIONS[S.TECHNICAL].values()} <= {S.QUEUED, None} | CLOSED_STATES


@given(st.lists(st.tuples(st.sampled_from(A), st.sampled_from(ActorRole)), max_size=40))
def test_random_walks_stay_in_the_table_and_technical_topics_are_assessed_first(
    steps: list[tuple[TopicAction, ActorRole]],
) -> None:
    state = S.HELD
    technical_unassessed = False
    for action, role in steps:
        verdict, to = decide_action(state, action, {role})
        if verdict is not ActionVerdict.ALLOWED:
            assert to is None
            continue
        rule = TRANSITIONS[state][action]
        assert role in rule.by
        if to is None:
            continue
        if to is S.TECHNICAL:
            technical_unassessed = True
        if action is A.ASSESS:
            technical_unassessed = False
        if to is S.SCHEDULED:
            assert not technical_unassessed
        state = to
        if state in CLOSED_STATES:
            assert all(
                decide_action(state, a, {r})[0] is ActionVerdict.NOT_NOW
                for a in A
                for r in ActorRole
            )


@pytest.mark.parametrize(
    ("outcome", "action", "to"),
    [
        (Outcome.ADOPTED, A.ADOPT, S.ADOPTED),
        (Outcome.REJECTED, A.DECLINE, S.DECLINED),
        (Outcome.DEFERRED, A.DEFER, S.QUEUED),
        (Outcome.REFERRED, A.REFER, S.REFERRED),
    ],
)
def test_each_session_outcome_has_its_action(
    outcome: Outcome, action: TopicAction, to: TopicState
) -> None:
    assert outcome_action(outcome) is action
    assert decide_action(S.SCHEDULED, action, STAFF) == (ActionVerdict.ALLOWED, to)


# -- the topic value ------------------------------------------------------------------------


def test_a_topic_refuses_fields_that_contradict_its_state() -> None:
    base = topic()
    with pytest.raises(ValueError, match="merged"):
        Topic(**{**base.__dict__, "state": S.MERGED})
    with pytest.raises(ValueError, match="merged"):
        Topic(**{**base.__dict__, "merged_into": 3})
    with pytest.raises(ValueError, match="reason"):
        Topic(**{**base.__dict__, "state": S.REJECTED})
    with pytest.raises(ValueError, match="reason"):
        Topic(**{**base.__dict__, "state": S.HIDDEN})
    with pytest.raises(ValueError, match="itself"):
        Topic(**{**base.__dict__, "state": S.MERGED, "merged_into": base.id})
    with pytest.raises(ValueError, match="aware"):
        Topic(**{**base.__dict__, "created_at": datetime(2026, 11, 25)})
    assert topic(S.SCHEDULED).is_public
    assert not topic(S.HELD).is_public


# -- co-signs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signer", "counts"),
    [
        (Signer(2, "HD", L.LOCATED), True),
        (Signer(2, "HD", L.VERIFIED), True),
        (Signer(2, "HD", L.UNVERIFIED), False),
        (Signer(2, "CB", L.VERIFIED), False),  # another community
        (Signer(2, None, L.VERIFIED), False),  # not registered
        (Signer(PROPOSER_ID, "HD", L.VERIFIED), False),  # the proposer
    ],
)
def test_cosign_counts(signer: Signer, counts: bool) -> None:
    assert cosign_counts(signer, "HD", PROPOSER_ID) is counts


def test_counted_level_comes_from_config() -> None:
    stranger = Signer(2, "HD", L.UNVERIFIED)
    located = Signer(3, "HD", L.LOCATED)
    assert cosign_counts(stranger, "HD", PROPOSER_ID, L.UNVERIFIED)
    assert not cosign_counts(located, "HD", PROPOSER_ID, L.VERIFIED)


@pytest.mark.parametrize(
    ("state", "signer", "already", "outcome"),
    [
        (S.OPEN, Signer(2, "HD", L.LOCATED), False, CosignOutcome.COUNTED),
        (S.OPEN, Signer(2, "HD", L.UNVERIFIED), False, CosignOutcome.NOT_COUNTED),
        (S.OPEN, Signer(2, "CB", L.VERIFIED), False, CosignOutcome.NOT_COUNTED),
        (S.OPEN, Signer(2, "HD", L.LOCATED), True, CosignOutcome.ALREADY),
        (S.OPEN, Signer(PROPOSER_ID, "HD", L.LOCATED), False, CosignOutcome.OWN_TOPIC),
        (S.QUEUED, Signer(2, "HD", L.LOCATED), False, CosignOutcome.COUNTED),
        (S.ADOPTED, Signer(2, "HD", L.LOCATED), False, CosignOutcome.CLOSED),
        (S.ADOPTED, Signer(2, "HD", L.LOCATED), True, CosignOutcome.CLOSED),
        (S.HELD, Signer(2, "HD", L.LOCATED), False, CosignOutcome.CLOSED),
        (S.MERGED, Signer(PROPOSER_ID, "HD", L.LOCATED), False, CosignOutcome.CLOSED),
    ],
)
def test_decide_cosign(
    state: TopicState, signer: Signer, already: bool, outcome: CosignOutcome
) -> None:
    assert decide_cosign(state, signer, "HD", PROPOSER_ID, already) is outcome


@pytest.mark.parametrize(
    ("state", "cosigned", "outcome"),
    [
        (S.OPEN, True, CosignOutcome.WITHDRAWN),
        (S.OPEN, False, CosignOutcome.NOT_COSIGNED),
        (S.SCHEDULED, True, CosignOutcome.WITHDRAWN),
        (S.REJECTED, True, CosignOutcome.CLOSED),
    ],
)
def test_decide_uncosign(state: TopicState, cosigned: bool, outcome: CosignOutcome) -> None:
    assert decide_uncosign(state, cosigned) is outcome


signers = st.builds(
    Signer,
    user_id=st.integers(1, 12),
    community_code=st.sampled_from(["HD", "CB", None]),
    level=st.sampled_from(L),
)


@given(st.lists(signers, max_size=30))
def test_count_cosigns_counts_each_located_neighbour_once_and_never_the_proposer(
    people: list[Signer],
) -> None:
    counted = count_cosigns(people, "HD", PROPOSER_ID)
    expected = {
        s.user_id
        for s in people
        if s.user_id != PROPOSER_ID and s.community_code == "HD" and s.level is not L.UNVERIFIED
    }
    assert counted == len(expected)
    assert count_cosigns(people + people, "HD", PROPOSER_ID) == counted


@pytest.mark.parametrize(
    ("state", "counted", "threshold", "queue"),
    [
        (S.OPEN, 9, 10, False),
        (S.OPEN, 10, 10, True),
        (S.OPEN, 11, 10, True),
        (S.TECHNICAL, 50, 10, False),  # the assessment comes first
        (S.HELD, 50, 10, False),
        (S.QUEUED, 50, 10, False),  # queued already
        (S.OPEN, 3, 3, True),
    ],
)
def test_reaches_threshold(state: TopicState, counted: int, threshold: int, queue: bool) -> None:
    assert reaches_threshold(state, counted, threshold) is queue


@given(st.integers(0, 100), st.integers(1, 100))
def test_threshold_boundary(counted: int, threshold: int) -> None:
    assert reaches_threshold(S.OPEN, counted, threshold) is (counted >= threshold)


def test_a_threshold_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="threshold"):
        reaches_threshold(S.OPEN, 0, 0)


# -- merging --------------------------------------------------------------------------------


def test_merged_cosigners_carry_over_without_double_counts() -> None:
    # Duplicate 20 by proposer 5 with co-signers 6, 7 and the kept topic's
    # proposer 1; the kept topic has co-signers 7 and 8.
    assert merged_cosigners(5, [6, 7, 1], PROPOSER_ID, [7, 8]) == [7, 8, 5, 6]


@given(
    st.integers(1, 9),
    st.lists(st.integers(1, 9)),
    st.integers(1, 9),
    st.lists(st.integers(1, 9)),
)
def test_merged_cosigners_are_the_union_without_the_kept_proposer(
    source_proposer: int, source: list[int], target_proposer: int, target: list[int]
) -> None:
    merged = merged_cosigners(source_proposer, source, target_proposer, target)
    assert len(merged) == len(set(merged))
    assert set(merged) == ({source_proposer, *source, *target} - {target_proposer})


@pytest.mark.parametrize(
    ("source", "target", "problem"),
    [
        (topic(S.OPEN, 20), topic(S.OPEN, 10), None),
        (topic(S.TECHNICAL, 20), topic(S.SCHEDULED, 10), None),
        (topic(S.OPEN, 10), topic(S.OPEN, 10), MergeProblem.SAME_TOPIC),
        (topic(S.OPEN, 20), topic(S.OPEN, 10, "CB"), MergeProblem.OTHER_COMMUNITY),
        (topic(S.SCHEDULED, 20), topic(S.OPEN, 10), MergeProblem.NOT_NOW),
        (topic(S.OPEN, 20), topic(S.MERGED, 10), MergeProblem.TARGET_CLOSED),
        (topic(S.OPEN, 20), topic(S.HELD, 10), MergeProblem.TARGET_CLOSED),
        (topic(S.OPEN, 20), topic(S.ADOPTED, 10), MergeProblem.TARGET_CLOSED),
    ],
)
def test_check_merge(source: Topic, target: Topic, problem: MergeProblem | None) -> None:
    assert check_merge(source, target) is problem


def test_change_recipients_are_proposer_and_cosigners_once_without_the_actor() -> None:
    assert change_recipients(1, [2, 3, 2, 1], actor_id=None) == [1, 2, 3]
    assert change_recipients(1, [2, 3], actor_id=2) == [1, 3]
    assert change_recipients(1, [], actor_id=1) == []


# -- moderation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words", "found"),
    [
        ("物业就是一群骗子", ["骗子"], ["骗子"]),
        ("物业就是一群骗 子", ["骗子"], ["骗子"]),  # a space slipped inside
        ("物业就是一群骗\u200b子", ["骗子"], ["骗子"]),  # a zero-width space
        ("ＳＢ物业", ["sb"], ["sb"]),  # full-width letters
        ("s.b 物业", ["SB"], ["SB"]),  # case and a separator
        ("加微信ｗｘ１２３", ["WX123"], ["WX123"]),
        ("东门路灯坏了", ["骗子", "sb"], []),
        ("anything", ["", "  "], []),  # an empty word matches nothing
        ("骗子骗子", ["骗子", "骗子"], ["骗子"]),
    ],
)
def test_held_words_in(text: str, words: list[str], found: list[str]) -> None:
    assert held_words_in(text, words) == found


def test_normalise_for_matching_folds_width_and_case() -> None:
    assert normalise_for_matching("ＡＢＣ　ｄｅ１２") == "abcde12"
    assert normalise_for_matching("ｶﾀｶﾅ") == "カタカナ"


# ASCII and CJK: NFKC may compose a word's first character with the text before
# it in other scripts, and some letters change under upper() and casefold()
# differently (Turkish dotless i), which the filter does not promise to see through.
plain = st.one_of(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
)


@given(st.text(plain, max_size=40), st.text(plain, min_size=1, max_size=5))
def test_a_held_word_inside_any_text_is_found_whatever_its_width_and_case(
    text: str, word: str
) -> None:
    if not normalise_for_matching(word):
        return
    assert held_words_in(text + word.upper() + text, [word]) == [word]
    wide = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in word)
    assert held_words_in(text + wide, [word]) == [word]


def test_initial_state_holds_text_with_a_held_word() -> None:
    assert initial_state("东门路灯", "晚上没有灯", ["骗子"]) is S.OPEN
    assert initial_state("东门路灯", "物业是骗子", ["骗子"]) is S.HELD
    assert initial_state("东门路灯", "物业是骗子", []) is S.OPEN


# -- texts -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("小区东门加装路灯", None),
        ("  小区东门加装路灯  ", None),
        ("", TextProblem.EMPTY),
        ("   ", TextProblem.EMPTY),
        ("路灯", TextProblem.TOO_SHORT),
        ("路灯坏了", None),
        ("第一行\n第二行", TextProblem.MULTILINE),
        ("灯" * 60, None),
        ("灯" * 61, TextProblem.TOO_LONG),
    ],
)
def test_check_title(text: str, problem: TextProblem | None) -> None:
    assert check_title(text) is problem


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("东门到3号楼一段晚上没有灯。\n老人出门不方便。", None),
        (" \n ", TextProblem.EMPTY),
        ("字" * 2000, None),
        ("字" * 2001, TextProblem.TOO_LONG),
    ],
)
def test_check_description(text: str, problem: TextProblem | None) -> None:
    assert check_description(text) is problem
