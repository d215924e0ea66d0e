"""The Art. 278 tally: who is one person, the thresholds at their exact boundaries, the election."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civic.ballots import Art278Item
from civic.ballots_tally import (
    DEVELOPER_KEY,
    PARTICIPATION,
    Choice,
    CountingNote,
    Decision,
    ElectionBallotProblem,
    ElectionOutcome,
    ElectionVote,
    Measure,
    OwnerVote,
    RegisterUnit,
    Share,
    Stage,
    Sums,
    VotingSubject,
    approval_share,
    check_election_ballot,
    owner_sums,
    register_totals,
    tally_decision,
    tally_election,
    tally_petition,
    voting_subjects,
)

Item = Art278Item
SPECIAL = {Item.RAISE_REPAIR_FUNDS, Item.REBUILD, Item.CHANGE_COMMON_USE}


def unit(key: str, area: int, *owners: str, developer: bool = False) -> RegisterUnit:
    return RegisterUnit(key, area, frozenset(owners), developer_stock=developer)


def votes(*rows: tuple[str, int, Choice]) -> list[OwnerVote]:
    return [OwnerVote(key, area, choice) for key, area, choice in rows]


def same_each(count: int, area: int, choice: Choice, prefix: str) -> list[OwnerVote]:
    return [OwnerVote(f"{prefix}{n}", area, choice) for n in range(count)]


# -- the items' thresholds ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "numeral", "share", "strict"),
    [
        (Item.RULES_OF_PROCEDURE, "一", Fraction(1, 2), True),
        (Item.MANAGEMENT_COVENANT, "二", Fraction(1, 2), True),
        (Item.OWNERS_COMMITTEE, "三", Fraction(1, 2), True),
        (Item.PROPERTY_MANAGER, "四", Fraction(1, 2), True),
        (Item.USE_REPAIR_FUNDS, "五", Fraction(1, 2), True),
        (Item.RAISE_REPAIR_FUNDS, "六", Fraction(3, 4), False),
        (Item.REBUILD, "七", Fraction(3, 4), False),
        (Item.CHANGE_COMMON_USE, "八", Fraction(3, 4), False),
        (Item.OTHER_MAJOR_MATTER, "九", Fraction(1, 2), True),
    ],
)
def test_each_item_of_art_278_carries_its_approval_rule(
    item: Art278Item, numeral: str, share: Fraction, strict: bool
) -> None:
    assert item.numeral == numeral
    assert approval_share(item) == Share(share, strict=strict)
    assert Art278Item.from_code(item.code) is item


def test_an_unknown_item_code_is_no_item() -> None:
    assert Art278Item.from_code("rebuild ") is None
    assert Art278Item.from_code("REBUILD") is None


# -- the share comparison against Fraction arithmetic ----------------------------------------


@given(
    figure=st.integers(0, 10**12),
    base=st.integers(1, 10**12),
    numerator=st.integers(1, 9),
    denominator=st.integers(1, 9),
    strict=st.booleans(),
)
def test_cross_multiplication_agrees_with_exact_fractions(
    figure: int, base: int, numerator: int, denominator: int, strict: bool
) -> None:
    share = Share(Fraction(numerator, denominator), strict=strict)
    exact = Fraction(figure, base)
    expected = exact > share.fraction if strict else exact >= share.fraction
    assert share.met(figure, base) is expected


@given(k=st.integers(1, 10**9))
def test_two_thirds_is_met_exactly_at_two_thirds_and_not_one_below(k: int) -> None:
    assert PARTICIPATION.met(2 * k, 3 * k)
    assert not PARTICIPATION.met(2 * k - 1, 3 * k)


@given(k=st.integers(1, 10**9))
def test_more_than_half_is_not_met_at_exactly_half(k: int) -> None:
    half = approval_share(Item.PROPERTY_MANAGER)
    assert not half.met(k, 2 * k)
    assert half.met(k + 1, 2 * k)


@given(k=st.integers(1, 10**9))
def test_three_quarters_is_met_exactly_at_three_quarters(k: int) -> None:
    quarters = approval_share(Item.REBUILD)
    assert quarters.met(3 * k, 4 * k)
    assert not quarters.met(3 * k - 1, 4 * k)


# -- who is one person (Judicial interpretation Art. 9) --------------------------------------


def test_the_developers_unsold_and_undelivered_units_are_one_person() -> None:
    subjects = voting_subjects(
        [
            unit("1-101", 9000, developer=True),
            unit("1-102", 9000, developer=True),
            unit("1-103", 9000, "buyer", developer=True),  # sold, not delivered
            unit("1-104", 9000, "buyer"),
        ]
    )
    by_key = {subject.key: subject for subject in subjects}
    assert set(by_key) == {DEVELOPER_KEY, "buyer"}
    assert by_key[DEVELOPER_KEY].unit_keys == {"1-101", "1-102", "1-103"}
    assert by_key[DEVELOPER_KEY].area_centi == 27000
    assert by_key[DEVELOPER_KEY].can_vote
    assert by_key["buyer"].unit_keys == {"1-104"}
    assert register_totals(subjects) == Sums(36000, 2)


def test_buyers_of_one_undelivered_unit_are_not_joined_through_it() -> None:
    subjects = voting_subjects(
        [
            unit("1-101", 9000, "xu", "yang", developer=True),
            unit("1-102", 9000, "xu"),
            unit("1-103", 9000, "yang"),
        ]
    )
    assert [s.key for s in subjects] == [DEVELOPER_KEY, "xu", "yang"]
    assert register_totals(subjects) == Sums(27000, 3)


def test_one_owner_of_several_units_is_one_person_with_their_summed_area() -> None:
    subjects = voting_subjects(
        [unit("1-101", 8950, "zhang"), unit("2-301", 12025, "zhang"), unit("3-201", 6000, "li")]
    )
    assert register_totals(subjects) == Sums(26975, 2)
    assert subjects[1] == VotingSubject(
        "zhang", frozenset({"1-101", "2-301"}), frozenset({"zhang"}), 20975
    )


def test_co_owners_count_once_and_an_owner_in_two_groups_joins_them() -> None:
    subjects = voting_subjects(
        [
            unit("1-101", 9000, "wang", "zhao"),  # co-owned
            unit("1-102", 7000, "zhao"),  # zhao's one choice covers both units
            unit("1-103", 5000, "qian", "sun"),
            unit("1-104", 4000),  # no owner recorded yet
        ]
    )
    assert [(s.key, sorted(s.unit_keys), s.area_centi) for s in subjects] == [
        ("qian", ["1-103"], 5000),
        ("unit:1-104", ["1-104"], 4000),
        ("wang", ["1-101", "1-102"], 16000),
    ]
    assert not subjects[1].can_vote
    assert register_totals(subjects) == Sums(25000, 3)


def test_a_unit_listed_twice_or_without_area_is_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        voting_subjects([unit("1-101", 9000, "a"), unit("1-101", 9000, "b")])
    with pytest.raises(ValueError, match="area"):
        unit("1-101", 0, "a")
    with pytest.raises(ValueError, match="reserved"):
        unit("1-101", 100, DEVELOPER_KEY)
    with pytest.raises(ValueError, match="reserved"):
        unit("1-101", 100, "unit:1-102")


def test_choices_only_from_eligible_subjects() -> None:
    subjects = voting_subjects([unit("1", 100, "a"), unit("2", 100)])
    assert owner_sums(subjects, {"a": Choice.YES}) == (OwnerVote("a", 100, Choice.YES),)
    with pytest.raises(ValueError, match="outside"):
        owner_sums(subjects, {"stranger": Choice.YES})
    with pytest.raises(ValueError, match="outside"):
        owner_sums(subjects, {"unit:2": Choice.YES})


_OWNERS = st.sampled_from([f"o{n}" for n in range(12)])
_UNITS = st.lists(
    st.tuples(
        st.integers(1, 30_000),
        st.frozensets(_OWNERS, max_size=3),
        st.booleans() | st.just(False),
    ),
    min_size=1,
    max_size=25,
)


def _register(rows: Sequence[tuple[int, frozenset[str], bool]]) -> list[RegisterUnit]:
    return [
        RegisterUnit(f"u{n}", area, owners, developer_stock=developer and n % 3 == 0)
        for n, (area, owners, developer) in enumerate(rows)
    ]


@given(_UNITS)
def test_every_unit_lies_in_exactly_one_subject_and_no_person_in_two(
    rows: list[tuple[int, frozenset[str], bool]],
) -> None:
    units = _register(rows)
    subjects = voting_subjects(units)
    unit_keys = [key for subject in subjects for key in subject.unit_keys]
    assert sorted(unit_keys) == sorted(u.unit_key for u in units)
    owners = [key for subject in subjects for key in subject.owner_keys]
    assert len(owners) == len(set(owners))
    assert register_totals(subjects).area_centi == sum(u.area_centi for u in units)
    assert sum(subject.developer for subject in subjects) == int(
        any(u.developer_stock for u in units)
    )


# -- a brute-force reference on random registers ---------------------------------------------


def _reference_people(units: Sequence[RegisterUnit]) -> list[set[str]]:
    """Units grouped into persons by a naive fixpoint: join any two groups sharing an owner."""
    developer = {u.unit_key for u in units if u.developer_stock}
    groups: list[tuple[set[str], set[str]]] = [
        ({u.unit_key}, set(u.owner_keys)) for u in units if not u.developer_stock
    ]
    merged = True
    while merged:
        merged = False
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                if groups[i][1] & groups[j][1]:
                    groups[i][0].update(groups[j][0])
                    groups[i][1].update(groups[j][1])
                    del groups[j]
                    merged = True
                    break
            if merged:
                break
    return [units_ for units_, _ in groups] + ([developer] if developer else [])


def _reference_decision(
    item: Art278Item, units: Sequence[RegisterUnit], choice_of_unit: Mapping[str, Choice]
) -> Decision:
    """The law read literally with Fractions, from the units up."""
    area = {u.unit_key: u.area_centi for u in units}
    people = _reference_people(units)
    total_area = sum(area.values())
    voted = [p for p in people if next(iter(p)) in choice_of_unit]
    part_area = sum(area[k] for p in voted for k in p)
    if Fraction(part_area, total_area) < Fraction(2, 3) or Fraction(
        len(voted), len(people)
    ) < Fraction(2, 3):
        return Decision.PARTICIPATION_NOT_MET
    yes = [p for p in voted if choice_of_unit[next(iter(p))] is Choice.YES]
    yes_area = sum(area[k] for p in yes for k in p)
    if item in SPECIAL:
        ok = Fraction(yes_area, part_area) >= Fraction(3, 4) and Fraction(
            len(yes), len(voted)
        ) >= Fraction(3, 4)
    else:
        ok = Fraction(yes_area, part_area) > Fraction(1, 2) and Fraction(
            len(yes), len(voted)
        ) > Fraction(1, 2)
    return Decision.ADOPTED if ok else Decision.NOT_ADOPTED


@given(
    rows=_UNITS,
    item=st.sampled_from(list(Art278Item)),
    choices=st.lists(st.sampled_from([None, *Choice]), min_size=25, max_size=25),
)
def test_the_tally_equals_a_brute_force_reference_on_random_registers(
    rows: list[tuple[int, frozenset[str], bool]],
    item: Art278Item,
    choices: list[Choice | None],
) -> None:
    units = _register(rows)
    subjects = voting_subjects(units)
    chosen = {
        subject.key: choices[n]
        for n, subject in enumerate(subjects)
        if subject.can_vote and choices[n] is not None
    }
    choice_of_unit = {
        key: choice
        for subject in subjects
        if (choice := chosen.get(subject.key)) is not None
        for key in subject.unit_keys
    }
    result = tally_decision(item, owner_sums(subjects, chosen), register_totals(subjects))
    assert result.decision is _reference_decision(item, units, choice_of_unit)
    assert result.participating == result.approving + result.rejecting + result.abstaining


# -- decisions: worked examples ---------------------------------------------------------------

# A compound of 100 units of 100.00 m² each: 10 000 000 centi-m², 100 persons.
TOTALS = Sums(100 * 10_000, 100)


def test_worked_example_a_majority_item_adopted() -> None:
    rows = (
        same_each(40, 10_000, Choice.YES, "y")
        + same_each(20, 10_000, Choice.NO, "n")
        + same_each(10, 10_000, Choice.ABSTAIN, "a")
    )
    result = tally_decision(Item.PROPERTY_MANAGER, rows, TOTALS)
    assert result.decision is Decision.ADOPTED
    assert result.participating == Sums(700_000, 70)
    assert result.approving == Sums(400_000, 40)
    assert result.rejecting == Sums(200_000, 20)
    assert result.abstaining == Sums(100_000, 10)
    assert [(c.stage, c.measure, c.figure, c.base, c.met) for c in result.checks] == [
        (Stage.PARTICIPATION, Measure.AREA, 700_000, 1_000_000, True),
        (Stage.PARTICIPATION, Measure.HEADCOUNT, 70, 100, True),
        (Stage.APPROVAL, Measure.AREA, 400_000, 700_000, True),
        (Stage.APPROVAL, Measure.HEADCOUNT, 40, 70, True),
    ]
    assert result.checks[2].basis_points == 5714
    assert result.notes == (
        CountingNote.ABSTENTIONS_PARTICIPATE,
        CountingNote.NON_VOTERS_NOT_COUNTED,
    )


def test_abstentions_count_in_the_base_and_can_defeat_a_majority_of_those_for_and_against() -> None:
    rows = (
        same_each(34, 10_000, Choice.YES, "y")
        + same_each(30, 10_000, Choice.NO, "n")
        + same_each(6, 10_000, Choice.ABSTAIN, "a")
    )
    result = tally_decision(Item.MANAGEMENT_COVENANT, rows, TOTALS)
    # 34 of 70 participants: more yes than no, but not more than half of those who took part.
    assert result.decision is Decision.NOT_ADOPTED
    assert not result.approval_met


def test_the_same_votes_decide_a_majority_item_but_not_a_three_quarters_item() -> None:
    rows = same_each(50, 10_000, Choice.YES, "y") + same_each(20, 10_000, Choice.NO, "n")
    assert tally_decision(Item.USE_REPAIR_FUNDS, rows, TOTALS).decision is Decision.ADOPTED
    assert tally_decision(Item.RAISE_REPAIR_FUNDS, rows, TOTALS).decision is Decision.NOT_ADOPTED


def test_non_voters_are_never_counted_on_the_majority_side() -> None:
    # 67 took part, 34 said yes: 34 of all 100 is no majority of anything, and 34 of 67 is.
    rows = same_each(34, 10_000, Choice.YES, "y") + same_each(33, 10_000, Choice.NO, "n")
    result = tally_decision(Item.OTHER_MAJOR_MATTER, rows, TOTALS)
    assert result.decision is Decision.ADOPTED
    assert result.approving == Sums(340_000, 34)
    # with 33 yes and 34 no, the 33 absent owners do not rescue the yes side
    flipped = same_each(33, 10_000, Choice.YES, "y") + same_each(34, 10_000, Choice.NO, "n")
    assert tally_decision(Item.OTHER_MAJOR_MATTER, flipped, TOTALS).decision is Decision.NOT_ADOPTED


def test_participation_below_two_thirds_decides_nothing_even_if_all_said_yes() -> None:
    result = tally_decision(Item.REBUILD, same_each(66, 10_000, Choice.YES, "y"), TOTALS)
    assert result.decision is Decision.PARTICIPATION_NOT_MET
    assert result.approval_met
    assert not result.participation_met


# -- each threshold alone failing, at its exact boundary ------------------------------------


@given(k=st.integers(1, 40), item=st.sampled_from(list(Art278Item)))
def test_participation_exactly_two_thirds_of_area_and_headcount_is_enough(
    k: int, item: Art278Item
) -> None:
    # 3k persons of 1.00 m²; 2k of them vote yes.
    totals = Sums(3 * k * 100, 3 * k)
    rows = same_each(2 * k, 100, Choice.YES, "y")
    assert tally_decision(item, rows, totals).decision is Decision.ADOPTED


@given(k=st.integers(2, 40))
def test_participation_of_area_one_hundredth_below_two_thirds_fails_alone(k: int) -> None:
    # headcount exactly 2/3; area 2/3 minus 0.01 m² (one participant is 0.01 m² smaller).
    totals = Sums(3 * k * 100, 3 * k)
    rows = [*same_each(2 * k - 1, 100, Choice.YES, "y"), OwnerVote("small", 99, Choice.YES)]
    result = tally_decision(Item.RULES_OF_PROCEDURE, rows, totals)
    assert result.decision is Decision.PARTICIPATION_NOT_MET
    assert [c.met for c in result.checks[:2]] == [False, True]


@given(k=st.integers(1, 40))
def test_participation_of_headcount_one_below_two_thirds_fails_alone(k: int) -> None:
    # 2k - 1 voters hold all the area they need: headcount alone fails.
    totals = Sums(3 * k * 100, 3 * k)
    rows = [*same_each(2 * k - 2, 100, Choice.YES, "y"), OwnerVote("big", 200, Choice.YES)]
    result = tally_decision(Item.RULES_OF_PROCEDURE, rows, totals)
    assert result.decision is Decision.PARTICIPATION_NOT_MET
    assert [c.met for c in result.checks[:2]] == [True, False]


@given(k=st.integers(1, 40), item=st.sampled_from(sorted(SPECIAL, key=lambda i: i.value)))
def test_three_quarters_exactly_is_adopted_and_each_measure_alone_can_fail(
    k: int, item: Art278Item
) -> None:
    totals = Sums(4 * k * 100, 4 * k)
    yes = same_each(3 * k, 100, Choice.YES, "y")
    exact = yes + same_each(k, 100, Choice.NO, "n")
    assert tally_decision(item, exact, totals).decision is Decision.ADOPTED
    # area 0.01 m² below 3/4: one yes voter a hundredth smaller, one no voter a hundredth larger
    area_short = [*yes[1:], OwnerVote("ys", 99, Choice.YES), *same_each(k - 1, 100, Choice.NO, "n")]
    area_short += [OwnerVote("nb", 101, Choice.NO)]
    result = tally_decision(item, area_short, totals)
    assert result.decision is Decision.NOT_ADOPTED
    assert [c.met for c in result.checks[2:]] == [False, True]
    # headcount one below 3/4 while the area is there: a yes voter's area moves to a no voter
    # 3k - 1 yes persons of 4k holding 300k + 3 of 400k + 4: area at 3/4 or over, heads under
    heads_short = [*yes[2:], OwnerVote("yb", 203, Choice.YES), *same_each(k, 100, Choice.NO, "n")]
    heads_short += [OwnerVote("nz", 1, Choice.NO)]
    totals_heads = Sums(4 * k * 100 + 4, 4 * k)
    result = tally_decision(item, heads_short, totals_heads)
    assert [c.met for c in result.checks] == [True, True, True, False]
    assert result.decision is Decision.NOT_ADOPTED


@given(
    k=st.integers(1, 40), item=st.sampled_from(sorted(set(Item) - SPECIAL, key=lambda i: i.value))
)
def test_exactly_half_is_not_a_majority_by_area_or_by_headcount(k: int, item: Art278Item) -> None:
    totals = Sums(2 * k * 100, 2 * k)
    half = same_each(k, 100, Choice.YES, "y") + same_each(k, 100, Choice.ABSTAIN, "a")
    result = tally_decision(item, half, totals)
    assert result.decision is Decision.NOT_ADOPTED
    assert [c.met for c in result.checks] == [True, True, False, False]
    # heads over half (k + 1 of 2k + 1), area exactly half (100k of 200k)
    rows = same_each(k - 1, 100, Choice.YES, "y")
    rows += [OwnerVote("ya", 50, Choice.YES), OwnerVote("yb", 50, Choice.YES)]
    rows += same_each(k, 100, Choice.NO, "n")
    result = tally_decision(item, rows, Sums(2 * k * 100, 2 * k + 1))
    assert [c.met for c in result.checks[2:]] == [False, True]
    # area over half, heads exactly half
    rows = same_each(k, 101, Choice.YES, "y") + same_each(k, 99, Choice.NO, "n")
    result = tally_decision(item, rows, totals)
    assert [c.met for c in result.checks[2:]] == [True, False]
    assert result.decision is Decision.NOT_ADOPTED


def test_inconsistent_sums_are_refused_as_a_double_count() -> None:
    with pytest.raises(ValueError, match="twice"):
        tally_decision(Item.REBUILD, votes(("a", 100, Choice.YES), ("a", 100, Choice.NO)), TOTALS)
    with pytest.raises(ValueError, match="register holds"):
        tally_decision(Item.REBUILD, same_each(3, 100, Choice.YES, "y"), Sums(10_000, 2))
    with pytest.raises(ValueError, match="empty register"):
        tally_decision(Item.REBUILD, [], Sums(0, 0))
    with pytest.raises(ValueError, match="area"):
        tally_decision(Item.REBUILD, votes(("a", 0, Choice.YES)), TOTALS)


def test_a_compound_tallied_from_its_register_counts_each_unit_once() -> None:
    units = [
        unit("1-101", 9000, developer=True),
        unit("1-102", 9000, developer=True),
        unit("1-201", 8000, "zhang"),
        unit("1-202", 8000, "zhang"),
        unit("2-101", 10_000, "li", "liu"),
        unit("2-102", 6000, "chen"),
    ]
    subjects = voting_subjects(units)
    totals = register_totals(subjects)
    assert totals == Sums(50_000, 4)  # developer, zhang, li+liu, chen
    rows = owner_sums(subjects, {DEVELOPER_KEY: Choice.NO, "zhang": Choice.YES, "li": Choice.YES})
    result = tally_decision(Item.RULES_OF_PROCEDURE, rows, totals)
    assert result.participating == Sums(44_000, 3)  # 88% of the area, 3 of 4 persons
    assert result.approving == Sums(26_000, 2)
    assert result.decision is Decision.ADOPTED


# -- the committee election ------------------------------------------------------------------


def ballots(*rows: tuple[str, int, str]) -> list[ElectionVote]:
    return [ElectionVote(key, area, frozenset(approved)) for key, area, approved in rows]


def test_election_ballots_approve_up_to_the_seats_among_the_announced_candidates() -> None:
    assert check_election_ballot(set(), "ABCDEFG", 5) is None
    assert check_election_ballot(set("ABCDE"), "ABCDEFG", 5) is None
    assert check_election_ballot(set("ABCDEF"), "ABCDEFG", 5) is ElectionBallotProblem.TOO_MANY
    assert check_election_ballot({"Z"}, "ABCDEFG", 5) is ElectionBallotProblem.UNKNOWN_CANDIDATE


def test_an_election_elects_those_over_half_and_ranks_by_headcount_then_area() -> None:
    # 10 persons of 100 centi-m² each (one of 300) vote; 12 on the register.
    rows = ballots(
        ("o1", 300, "ABCDE"),
        ("o2", 100, "ABCDE"),
        ("o3", 100, "ABCDF"),
        ("o4", 100, "ABCDF"),
        ("o5", 100, "ABCFG"),
        ("o6", 100, "ABDFG"),
        ("o7", 100, "ABC"),
        ("o8", 100, "A"),
        ("o9", 100, ""),
        ("o10", 100, "F"),
    )
    result = tally_election("ABCDEFG", 5, rows, Sums(1300, 12))
    approvals = {
        c.candidate: (c.approving.headcount, c.approving.area_centi, c.passed)
        for c in result.candidates
    }
    assert approvals == {
        "A": (8, 1000, True),
        "B": (7, 900, True),
        "C": (6, 800, True),
        "D": (5, 700, False),  # over half the area, exactly half the persons: not elected
        "E": (2, 400, False),
        "F": (5, 500, False),
        "G": (2, 200, False),
    }
    assert result.elected == ("A", "B", "C")
    assert result.tied == ()
    assert result.unfilled_seats == 2
    assert result.outcome is ElectionOutcome.INCOMPLETE
    assert result.participating == Sums(1200, 10)
    assert CountingNote.BLANK_ELECTION_BALLOTS_PARTICIPATE in result.notes


def test_more_passing_than_seats_leaves_out_the_least_approved_whatever_the_list_order() -> None:
    rows = ballots(
        ("o1", 150, "AB"),
        ("o2", 100, "AB"),
        ("o3", 100, "AC"),
        ("o4", 150, "BC"),
        ("o5", 120, "BC"),
    )
    result = tally_election("ABC", 2, rows, Sums(620, 5))
    assert [(c.candidate, c.approving, c.passed) for c in result.candidates] == [
        ("B", Sums(520, 4), True),
        ("C", Sums(370, 3), True),
        ("A", Sums(350, 3), True),  # passed (over 310 and over 2.5 persons), but third
    ]
    assert result.elected == ("B", "C")
    assert result.tied == ()
    assert result.outcome is ElectionOutcome.COMPLETE


def test_headcount_ranks_before_area_and_area_breaks_an_equal_headcount() -> None:
    rows = ballots(
        ("o1", 400, "AB"),
        ("o2", 200, "AC"),
        ("o3", 100, "BC"),
        ("o4", 100, "AC"),
        ("o5", 100, "BC"),
    )
    result = tally_election("ABC", 2, rows, Sums(900, 5))
    ranking = [(c.candidate, c.approving, c.passed) for c in result.candidates]
    assert ranking == [
        ("C", Sums(500, 4), True),  # the least area, the most persons: first
        ("A", Sums(700, 3), True),  # A and B: 3 persons each, A has more area
        ("B", Sums(600, 3), True),
    ]
    assert result.elected == ("C", "A")
    assert result.outcome is ElectionOutcome.COMPLETE


def test_a_tie_in_headcount_and_area_across_the_last_seat_elects_neither() -> None:
    rows = ballots(
        ("o1", 100, "AB"),
        ("o2", 100, "AC"),
        ("o3", 100, "BC"),
        ("o4", 100, "BC"),
        ("o5", 100, "AB"),
    )
    # B: 4 persons, 400; A and C: 3 persons, 300 each, both passed, one seat left for them.
    result = tally_election("ABCD", 2, rows, Sums(500, 5))
    assert result.elected == ("B",)
    assert set(result.tied) == {"A", "C"}
    assert result.unfilled_seats == 1
    assert result.outcome is ElectionOutcome.INCOMPLETE
    # With three seats the same tie lies inside the seats: everyone who passed is elected.
    result = tally_election("ABCD", 3, rows, Sums(500, 5))
    assert result.elected == ("B", "A", "C")
    assert result.tied == ()
    assert result.outcome is ElectionOutcome.COMPLETE


def test_an_election_without_two_thirds_participation_elects_nobody() -> None:
    rows = ballots(("o1", 100, "A"), ("o2", 100, "A"))
    result = tally_election("AB", 1, rows, Sums(400, 4))
    assert result.outcome is ElectionOutcome.PARTICIPATION_NOT_MET
    assert result.elected == ()
    assert result.candidates[0].passed


def test_an_election_refuses_invalid_ballots_and_duplicate_candidates() -> None:
    with pytest.raises(ValueError, match="too_many"):
        tally_election("ABC", 1, ballots(("o1", 100, "AB")), Sums(100, 1))
    with pytest.raises(ValueError, match="twice"):
        tally_election("AA", 1, [], Sums(100, 1))
    with pytest.raises(ValueError, match="seat"):
        tally_election("A", 0, [], Sums(100, 1))


@given(
    approvals=st.lists(
        st.frozensets(st.sampled_from("ABCDEFG"), max_size=5), min_size=1, max_size=30
    ),
    areas=st.lists(st.integers(1, 500), min_size=30, max_size=30),
    seats=st.integers(1, 5),
)
def test_the_elected_always_passed_and_outrank_everyone_left_out(
    approvals: list[frozenset[str]], areas: list[int], seats: int
) -> None:
    rows = [
        ElectionVote(f"o{n}", areas[n], frozenset(sorted(approved)[:seats]))
        for n, approved in enumerate(approvals)
    ]
    totals = Sums(sum(v.area_centi for v in rows), len(rows))
    result = tally_election("ABCDEFG", seats, rows, totals)
    assert len(result.elected) <= seats
    tallies = {c.candidate: c for c in result.candidates}
    part = result.participating
    for name, tally in tallies.items():
        heads = sum(name in v.approved for v in rows)
        area = sum(v.area_centi for v in rows if name in v.approved)
        assert tally.passed is (
            Fraction(heads, part.headcount) > Fraction(1, 2)
            and Fraction(area, part.area_centi) > Fraction(1, 2)
        )
    for name in result.elected:
        assert tallies[name].passed
        for other, tally in tallies.items():
            if other not in result.elected and tally.passed:
                mine = tallies[name].approving
                assert (mine.headcount, mine.area_centi) > (
                    tally.approving.headcount,
                    tally.approving.area_centi,
                )
    assert not set(result.elected) & set(result.tied)
    if result.tied:
        assert len(result.elected) + len(result.tied) > seats


# -- the petition to convene -----------------------------------------------------------------


def test_a_petition_needs_twenty_percent_of_area_and_of_headcount() -> None:
    assert tally_petition(Sums(200_000, 20), TOTALS).reached
    assert not tally_petition(Sums(199_999, 20), TOTALS).reached
    assert not tally_petition(Sums(200_000, 19), TOTALS).reached
    assert tally_petition(Sums(300_000, 30), TOTALS, Share(Fraction(3, 10))).reached
    with pytest.raises(ValueError, match="register holds"):
        tally_petition(Sums(1, 101), TOTALS)


def test_participation_share_is_two_thirds_inclusive() -> None:
    assert Share(Fraction(2, 3), strict=False) == PARTICIPATION
