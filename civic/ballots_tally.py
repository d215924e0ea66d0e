"""Counting owners' votes exactly as the law counts them (Civil Code Art. 278, spec 04).

Who counts, and how much
------------------------
The Supreme People's Court's interpretation on building ownership disputes
(最高人民法院关于审理建筑物区分所有权纠纷案件适用法律若干问题的解释, 2020 revision):

* **Area** (Art. 8): an owner's area is the sum of the exclusive areas of their
  units (专有部分面积: the registry's, else the survey's, else the contract's —
  the register keeps the source); the total is the sum over all units.
* **Headcount** (Art. 9): one unit counts as one person; but all of the
  developer's unsold or undelivered units together count as one person, and one
  buyer of more than one unit counts as one person. The total headcount is
  counted the same way.

Spec 04 adds how the register is read: each owner has a key (the same person
across units); co-owners of one unit designate one voter and the unit counts
once; **one owner makes one choice per ballot, covering all of that owner's
units**. Together these decide who is one person for the count — a *voting
subject* (:class:`VotingSubject`, built by :func:`voting_subjects`):

* the developer's unsold or undelivered units are one subject, voted by the
  developer's named representative (a buyer recorded on an undelivered unit
  does not vote it: Art. 9 counts it with the developer's);
* otherwise units are joined when they share an owner: a unit co-owned by A and
  B and a unit A owns alone are one subject, because A's one choice covers both
  units and B's unit can then carry no other choice. This never counts a person
  or a unit twice, whatever the shape of the register;
* a unit with no owner recorded is one subject of its own that nobody can vote:
  the unit still belongs to the totals (Art. 8 and 9 count every exclusive part),
  so a gap in the register can only make a threshold harder, never easier.

Each subject is one head and carries the sum of its units' areas. The storage
layer keeps each unit's subject key in the eligibility snapshot and aggregates
votes per subject in SQL (subject key, area, choice); :func:`tally_decision` and
:func:`tally_election` apply the rules to those sums. :func:`owner_sums` is the
same aggregation in Python: the reference the SQL is tested against.

The thresholds
--------------
* **Participation** (Civil Code Art. 278 ¶2): owners holding **≥ 2/3 of the
  total area** AND **≥ 2/3 of the total headcount** took part. "以上" includes
  the number itself (Art. 1259).
* **Approval**, measured against the participants, not against all owners:
  items (六)(七)(八) need **≥ 3/4** of the participating area AND headcount;
  every other item needs **more than 1/2** (过半数: strictly more) of both.
* "Participating" means having cast a valid ballot, **abstentions included**:
  an abstention counts in the participating base and not as approval
  (:attr:`CountingNote.ABSTENTIONS_PARTICIPATE`, stated with every result).
* Non-voters are never counted on any side, in particular never on the
  majority's (some older rules of procedure did; under the Civil Code's
  participation rule it is legally unsafe).

Exact arithmetic
----------------
Areas are integers of 0.01 m²; every comparison is a cross-multiplication of
integers (``figure × denominator ≥ numerator × base``). No float is ever
computed, so a vote exactly at 2/3, 1/2 or 3/4 is decided the way the law
reads it.

No Telegram, no SQL, no clock.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import Final

from civic.ballots import Art278Item

__all__ = [
    "DEVELOPER_KEY",
    "PARTICIPATION",
    "PETITION",
    "CandidateTally",
    "Choice",
    "CountingNote",
    "Decision",
    "DecisionTally",
    "ElectionBallotProblem",
    "ElectionOutcome",
    "ElectionTally",
    "ElectionVote",
    "Measure",
    "OwnerVote",
    "PetitionTally",
    "RegisterUnit",
    "Share",
    "Stage",
    "Sums",
    "ThresholdCheck",
    "VotingSubject",
    "approval_share",
    "check_election_ballot",
    "owner_sums",
    "register_totals",
    "tally_decision",
    "tally_election",
    "tally_petition",
    "voting_subjects",
]

DEVELOPER_KEY: Final = "developer"
"""The subject key of the developer's unsold or undelivered units (one person, Art. 9)."""

_UNOWNED_PREFIX: Final = "unit:"


# -- shares and checks -----------------------------------------------------------------------


@dataclass(frozen=True)
class Share:
    """A required share of a base: at least ``fraction`` of it, or more than it when ``strict``.

    Compared by cross-multiplying integers, never by dividing.
    """

    fraction: Fraction
    strict: bool = False

    def met(self, figure: int, base: int) -> bool:
        """Whether ``figure`` out of ``base`` reaches this share."""
        left = figure * self.fraction.denominator
        right = self.fraction.numerator * base
        return left > right if self.strict else left >= right


PARTICIPATION: Final = Share(Fraction(2, 3))
"""Civil Code Art. 278 ¶2: ≥ 2/3 of the total area and of the total headcount take part."""

PETITION: Final = Share(Fraction(1, 5))
"""The 2009 guidance rules Art. 21: owners with ≥ 20% of the area and of the headcount
may ask for a temporary owners' meeting (the default ``[ballots]`` petition threshold)."""


def approval_share(item: Art278Item) -> Share:
    """Civil Code Art. 278 ¶2: ≥ 3/4 for items (六)(七)(八), more than 1/2 for the others."""
    return Share(item.approval_share, strict=item.approval_strict)


class Stage(StrEnum):
    """Which question a threshold answers."""

    PARTICIPATION = "participation"
    """Against the register's totals."""
    APPROVAL = "approval"
    """Against the participants."""
    PETITION = "petition"
    """Co-signatures of a request to convene, against the register's totals."""


class Measure(StrEnum):
    """The two measures every threshold is applied to, both of which must be met."""

    AREA = "area"
    HEADCOUNT = "headcount"


@dataclass(frozen=True)
class ThresholdCheck:
    """One threshold as the result shows it: its figures, the required share, met or not."""

    stage: Stage
    measure: Measure
    figure: int
    """Area in 0.01 m², or a number of persons."""
    base: int
    required: Share
    met: bool

    @property
    def basis_points(self) -> int:
        """``figure / base`` in hundredths of a percent, rounded down (for display only).

        Never used to decide: :attr:`met` is the exact comparison. Rounded down,
        so a share shown as 66.66% is never mistaken for 2/3 reached when it is not.
        """
        return self.figure * 10_000 // self.base if self.base else 0


def _check(stage: Stage, measure: Measure, figure: int, base: int, share: Share) -> ThresholdCheck:
    return ThresholdCheck(stage, measure, figure, base, share, share.met(figure, base))


@dataclass(frozen=True)
class Sums:
    """Area (0.01 m²) and headcount of a set of voting subjects."""

    area_centi: int = 0
    headcount: int = 0

    def __post_init__(self) -> None:
        """Refuse negative sums: they come from a broken aggregation."""
        if self.area_centi < 0 or self.headcount < 0:
            raise ValueError("areas and headcounts are never negative")

    def __add__(self, other: Sums) -> Sums:
        return Sums(self.area_centi + other.area_centi, self.headcount + other.headcount)


class CountingNote(StrEnum):
    """A counting rule every published result states (spec 04), rendered through the catalogs."""

    ABSTENTIONS_PARTICIPATE = "abstentions_participate"
    """An abstention counts in the participating area and headcount, and not as approval."""
    NON_VOTERS_NOT_COUNTED = "non_voters_not_counted"
    """Owners who did not vote count only in the totals, on no side of the decision."""
    BLANK_ELECTION_BALLOTS_PARTICIPATE = "blank_election_ballots_participate"
    """An election ballot approving nobody takes part, like an abstention."""


_DECISION_NOTES: Final = (
    CountingNote.ABSTENTIONS_PARTICIPATE,
    CountingNote.NON_VOTERS_NOT_COUNTED,
)
_ELECTION_NOTES: Final = (
    CountingNote.BLANK_ELECTION_BALLOTS_PARTICIPATE,
    CountingNote.NON_VOTERS_NOT_COUNTED,
)


# -- the register: who is one person ---------------------------------------------------------


@dataclass(frozen=True)
class RegisterUnit:
    """One exclusive part (专有部分) as the eligibility snapshot holds it."""

    unit_key: str
    area_centi: int
    """Exclusive area in 0.01 m² (Judicial interpretation Art. 8)."""
    owner_keys: frozenset[str] = frozenset()
    developer_stock: bool = False
    """Unsold, or sold but not delivered: voted by the developer's representative (Art. 9)."""

    def __post_init__(self) -> None:
        """Refuse a unit without area: every exclusive part has one."""
        if self.area_centi <= 0:
            raise ValueError(f"unit {self.unit_key} has no area")
        if DEVELOPER_KEY in self.owner_keys or any(
            key.startswith(_UNOWNED_PREFIX) for key in self.owner_keys
        ):
            raise ValueError(f"{DEVELOPER_KEY!r} and {_UNOWNED_PREFIX!r}… are reserved keys")


@dataclass(frozen=True)
class VotingSubject:
    """One person for the headcount: one choice per ballot over all of its units."""

    key: str
    """The developer's key, the smallest owner key of the group, or ``unit:<key>`` when unowned."""
    unit_keys: frozenset[str]
    owner_keys: frozenset[str]
    """Who may cast its one choice (co-owners designate one of them); empty: nobody can."""
    area_centi: int

    @property
    def developer(self) -> bool:
        return self.key == DEVELOPER_KEY

    @property
    def can_vote(self) -> bool:
        """A unit with no owner recorded counts in the totals but has nobody to vote it."""
        return self.developer or bool(self.owner_keys)


def voting_subjects(units: Iterable[RegisterUnit]) -> tuple[VotingSubject, ...]:
    """Group a compound's units into voting subjects (Judicial interpretation Art. 9, spec 04).

    The developer's stock is one subject; other units sharing any owner are one
    subject (an owner with several units, co-owners, and chains of both); an
    unowned unit is a subject alone. Every unit lies in exactly one subject, so
    no unit can be counted twice. Sorted by key for a stable snapshot.
    """
    units = list(units)
    seen: set[str] = set()
    for unit in units:
        if unit.unit_key in seen:
            raise ValueError(f"unit {unit.unit_key} is listed twice")
        seen.add(unit.unit_key)

    parent: dict[str, str] = {}

    def find(key: str) -> str:
        root = key
        while parent[root] != root:
            root = parent[root]
        while parent[key] != root:
            parent[key], key = root, parent[key]
        return root

    def union(left: str, right: str) -> None:
        a, b = find(left), find(right)
        if a != b:
            parent[max(a, b)] = min(a, b)

    for unit in units:
        if unit.developer_stock or not unit.owner_keys:
            continue
        keys = sorted(unit.owner_keys)
        for key in keys:
            parent.setdefault(key, key)
        for key in keys[1:]:
            union(keys[0], key)

    groups: dict[str, list[RegisterUnit]] = {}
    for unit in units:
        if unit.developer_stock:
            key = DEVELOPER_KEY
        elif unit.owner_keys:
            key = find(next(iter(unit.owner_keys)))
        else:
            key = _UNOWNED_PREFIX + unit.unit_key
        groups.setdefault(key, []).append(unit)

    subjects = []
    for key, members in groups.items():
        owners: frozenset[str] = frozenset()
        if key != DEVELOPER_KEY:
            owners = frozenset().union(*(unit.owner_keys for unit in members))
        subjects.append(
            VotingSubject(
                key=key,
                unit_keys=frozenset(unit.unit_key for unit in members),
                owner_keys=owners,
                area_centi=sum(unit.area_centi for unit in members),
            )
        )
    return tuple(sorted(subjects, key=lambda subject: subject.key))


def register_totals(subjects: Collection[VotingSubject]) -> Sums:
    """The compound's total area (Art. 8) and total headcount (Art. 9): every subject, one each."""
    return Sums(sum(subject.area_centi for subject in subjects), len(subjects))


# -- a decision on one item ------------------------------------------------------------------


class Choice(StrEnum):
    """A valid ballot on a decision: each is participation, only ``yes`` is approval."""

    YES = "yes"
    NO = "no"
    ABSTAIN = "abstain"


@dataclass(frozen=True)
class OwnerVote:
    """One voting subject's choice with its area: one row of the per-owner aggregation."""

    owner_key: str
    area_centi: int
    choice: Choice


def owner_sums(
    subjects: Collection[VotingSubject], choices: Mapping[str, Choice]
) -> tuple[OwnerVote, ...]:
    """The per-subject rows the tally takes, from the snapshot and each subject's choice.

    What storage does in SQL (``SUM(area) … GROUP BY subject_key, choice``); here
    as the reference the SQL aggregation is tested against. A choice for a key
    that is not an eligible subject is refused: it would count someone twice or
    count a stranger.
    """
    by_key = {subject.key: subject for subject in subjects}
    unknown = set(choices) - {key for key, subject in by_key.items() if subject.can_vote}
    if unknown:
        raise ValueError(f"choices from outside the eligibility snapshot: {sorted(unknown)}")
    return tuple(
        OwnerVote(key, by_key[key].area_centi, choice) for key, choice in sorted(choices.items())
    )


class Decision(StrEnum):
    """The outcome of a decision ballot."""

    ADOPTED = "adopted"
    NOT_ADOPTED = "not_adopted"
    """Enough owners took part, but the approval threshold was not met."""
    PARTICIPATION_NOT_MET = "participation_not_met"
    """Fewer than 2/3 of the area or of the headcount took part: no decision at all."""


@dataclass(frozen=True)
class DecisionTally:
    """Everything the published result of a decision shows (spec 04, "Secrecy")."""

    item: Art278Item
    totals: Sums
    participating: Sums
    approving: Sums
    rejecting: Sums
    abstaining: Sums
    checks: tuple[ThresholdCheck, ...]
    """Participation by area and headcount, then approval by area and headcount."""
    decision: Decision
    notes: tuple[CountingNote, ...] = _DECISION_NOTES

    @property
    def participation_met(self) -> bool:
        return all(check.met for check in self.checks if check.stage is Stage.PARTICIPATION)

    @property
    def approval_met(self) -> bool:
        return all(check.met for check in self.checks if check.stage is Stage.APPROVAL)


def _participation(
    rows: Sequence[tuple[str, int]], totals: Sums
) -> tuple[Sums, tuple[ThresholdCheck, ThresholdCheck]]:
    """Participating sums and the two participation checks, after checking the rows are sane."""
    if totals.area_centi <= 0 or totals.headcount <= 0:
        raise ValueError("an empty register decides nothing")
    keys = [key for key, _ in rows]
    if len(set(keys)) != len(keys):
        raise ValueError("one owner, one choice per ballot: an owner key appears twice")
    if any(area <= 0 for _, area in rows):
        raise ValueError("every voting subject has an area")
    participating = Sums(sum(area for _, area in rows), len(rows))
    if participating.area_centi > totals.area_centi or participating.headcount > totals.headcount:
        raise ValueError("more took part than the register holds: a unit was counted twice")
    return participating, (
        _check(
            Stage.PARTICIPATION,
            Measure.AREA,
            participating.area_centi,
            totals.area_centi,
            PARTICIPATION,
        ),
        _check(
            Stage.PARTICIPATION,
            Measure.HEADCOUNT,
            participating.headcount,
            totals.headcount,
            PARTICIPATION,
        ),
    )


def tally_decision(item: Art278Item, votes: Sequence[OwnerVote], totals: Sums) -> DecisionTally:
    """Count a yes/no/abstain ballot on one Art. 278 item.

    ``votes`` are the per-subject sums (one row per subject that cast a valid
    ballot); ``totals`` the register's (:func:`register_totals` of the
    snapshot). Approval is measured against the participants, abstentions
    included (Art. 278 ¶2; spec 04). The decision needs both participation
    checks and both approval checks; all four are always computed and shown.
    Inconsistent input (an owner twice, more participants than the register)
    raises: it means a unit was counted twice upstream.
    """
    participating, participation_checks = _participation(
        [(vote.owner_key, vote.area_centi) for vote in votes], totals
    )
    by_choice = {choice: Sums() for choice in Choice}
    for vote in votes:
        by_choice[vote.choice] += Sums(vote.area_centi, 1)
    approving = by_choice[Choice.YES]
    share = approval_share(item)
    approval_checks = (
        _check(
            Stage.APPROVAL,
            Measure.AREA,
            approving.area_centi,
            participating.area_centi,
            share,
        ),
        _check(
            Stage.APPROVAL,
            Measure.HEADCOUNT,
            approving.headcount,
            participating.headcount,
            share,
        ),
    )
    if not all(check.met for check in participation_checks):
        decision = Decision.PARTICIPATION_NOT_MET
    elif all(check.met for check in approval_checks):
        decision = Decision.ADOPTED
    else:
        decision = Decision.NOT_ADOPTED
    return DecisionTally(
        item=item,
        totals=totals,
        participating=participating,
        approving=approving,
        rejecting=by_choice[Choice.NO],
        abstaining=by_choice[Choice.ABSTAIN],
        checks=participation_checks + approval_checks,
        decision=decision,
    )


# -- the owners' committee election ----------------------------------------------------------


class ElectionBallotProblem(StrEnum):
    """Why an election ballot cannot be accepted as cast (chat refuses it; paper is re-entered)."""

    TOO_MANY = "too_many"
    """More candidates approved than there are seats."""
    UNKNOWN_CANDIDATE = "unknown_candidate"
    """A name that is not on the announced candidate list."""


def check_election_ballot(
    approved: Collection[str], candidates: Collection[str], seats: int
) -> ElectionBallotProblem | None:
    """Whether a ballot approving ``approved`` is valid: up to ``seats`` announced candidates.

    Approving nobody is valid: the owner takes part without approving anyone.
    """
    if not set(approved) <= set(candidates):
        return ElectionBallotProblem.UNKNOWN_CANDIDATE
    if len(set(approved)) > seats:
        return ElectionBallotProblem.TOO_MANY
    return None


@dataclass(frozen=True)
class ElectionVote:
    """One voting subject's election ballot with its area: the candidates it approves."""

    owner_key: str
    area_centi: int
    approved: frozenset[str]


@dataclass(frozen=True)
class CandidateTally:
    """One candidate's approvals against the participants."""

    candidate: str
    approving: Sums
    checks: tuple[ThresholdCheck, ThresholdCheck]
    """Approval by area and by headcount: more than half of the participants' each."""

    @property
    def passed(self) -> bool:
        """Approved by more than half of the participating area AND headcount."""
        return all(check.met for check in self.checks)


class ElectionOutcome(StrEnum):
    """The outcome of a committee election."""

    COMPLETE = "complete"
    """Every seat is filled."""
    INCOMPLETE = "incomplete"
    """Fewer candidates passed than there are seats, or a tie for the last seats:
    the rest need another ballot."""
    PARTICIPATION_NOT_MET = "participation_not_met"
    """Fewer than 2/3 of the area or of the headcount took part: nobody is elected."""


@dataclass(frozen=True)
class ElectionTally:
    """Everything the published result of an election shows."""

    seats: int
    totals: Sums
    participating: Sums
    checks: tuple[ThresholdCheck, ThresholdCheck]
    """Participation by area and headcount."""
    candidates: tuple[CandidateTally, ...]
    """Ranked: passed first, then by approving headcount, then area, then as listed."""
    elected: tuple[str, ...]
    """In rank order."""
    tied: tuple[str, ...]
    """Passed, but equal in headcount and area across the last seat: none of them is elected."""
    outcome: ElectionOutcome
    notes: tuple[CountingNote, ...] = _ELECTION_NOTES

    @property
    def unfilled_seats(self) -> int:
        return self.seats - len(self.elected)


def tally_election(
    candidates: Sequence[str], seats: int, votes: Sequence[ElectionVote], totals: Sums
) -> ElectionTally:
    """Count an owners' committee election (Art. 278 item 三; spec 04).

    A candidate is elected when approved by more than half of the participating
    area AND of the participating headcount (过半数, the item 三 rule). When more
    pass than there are seats, those approved by the most owners (headcount)
    take them, then by the most area. Candidates equal in both across the last
    seat are all left out and reported as tied: neither the law nor the spec
    decides between them, so the seat goes to another ballot rather than to the
    order of a list or to chance. ``seats`` may be below 5 for a by-election
    (更换业主委员会成员); a full committee's size is checked by
    :func:`civic.ballots.valid_committee_size` when the ballot is drafted.
    """
    if seats < 1:
        raise ValueError("an election fills at least one seat")
    if len(set(candidates)) != len(candidates):
        raise ValueError("a candidate is listed twice")
    for vote in votes:
        problem = check_election_ballot(vote.approved, candidates, seats)
        if problem is not None:
            raise ValueError(f"ballot of {vote.owner_key}: {problem}")
    participating, checks = _participation(
        [(vote.owner_key, vote.area_centi) for vote in votes], totals
    )
    half = Share(Fraction(1, 2), strict=True)
    tallies = []
    for candidate in candidates:
        approving = Sums()
        for vote in votes:
            if candidate in vote.approved:
                approving += Sums(vote.area_centi, 1)
        tallies.append(
            CandidateTally(
                candidate,
                approving,
                (
                    _check(
                        Stage.APPROVAL,
                        Measure.AREA,
                        approving.area_centi,
                        participating.area_centi,
                        half,
                    ),
                    _check(
                        Stage.APPROVAL,
                        Measure.HEADCOUNT,
                        approving.headcount,
                        participating.headcount,
                        half,
                    ),
                ),
            )
        )
    ranked = sorted(
        tallies,
        key=lambda tally: (
            not tally.passed,
            -tally.approving.headcount,
            -tally.approving.area_centi,
        ),
    )
    elected: tuple[str, ...] = ()
    tied: tuple[str, ...] = ()
    if all(check.met for check in checks):
        passed = [tally for tally in ranked if tally.passed]
        elected = tuple(tally.candidate for tally in passed[:seats])
        if len(passed) > seats and _rank(passed[seats - 1]) == _rank(passed[seats]):
            cut = _rank(passed[seats])
            tied = tuple(tally.candidate for tally in passed if _rank(tally) == cut)
            elected = tuple(tally.candidate for tally in passed[:seats] if _rank(tally) != cut)
        outcome = ElectionOutcome.COMPLETE if len(elected) == seats else ElectionOutcome.INCOMPLETE
    else:
        outcome = ElectionOutcome.PARTICIPATION_NOT_MET
    return ElectionTally(
        seats=seats,
        totals=totals,
        participating=participating,
        checks=checks,
        candidates=tuple(ranked),
        elected=elected,
        tied=tied,
        outcome=outcome,
    )


def _rank(tally: CandidateTally) -> tuple[int, int]:
    return tally.approving.headcount, tally.approving.area_centi


# -- a petition to convene -------------------------------------------------------------------


@dataclass(frozen=True)
class PetitionTally:
    """Co-signatures of a request to convene an owners' meeting, against the register."""

    signed: Sums
    totals: Sums
    checks: tuple[ThresholdCheck, ThresholdCheck]

    @property
    def reached(self) -> bool:
        return all(check.met for check in self.checks)


def tally_petition(signed: Sums, totals: Sums, share: Share = PETITION) -> PetitionTally:
    """Whether owners' co-signatures reach the threshold by area AND by headcount (spec 04).

    ``signed`` are the sums of the voting subjects that co-signed, counted as a
    vote is (one subject, one head). The default is the 2009 guidance rules'
    20% / 20% for a temporary meeting; ``[ballots]`` may set another share.
    """
    if totals.area_centi <= 0 or totals.headcount <= 0:
        raise ValueError("an empty register decides nothing")
    if signed.area_centi > totals.area_centi or signed.headcount > totals.headcount:
        raise ValueError("more signed than the register holds: a unit was counted twice")
    return PetitionTally(
        signed,
        totals,
        (
            _check(Stage.PETITION, Measure.AREA, signed.area_centi, totals.area_centi, share),
            _check(Stage.PETITION, Measure.HEADCOUNT, signed.headcount, totals.headcount, share),
        ),
    )
