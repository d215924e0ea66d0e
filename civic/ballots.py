"""Owners' ballots: the Art. 278 items, the ballot lifecycle, notice and window, committee size.

Spec 04 ("Ballots", "Committee formation") and issue 8. The counting itself is
in :mod:`civic.ballots_tally`; this module says *what* is put to the vote, *when*
it may be, and *who* may move a ballot along.

The items (Civil Code Art. 278 ¶1)
----------------------------------
A decision ballot is on exactly one item of Art. 278 ¶1, and the item decides
the approval threshold (Art. 278 ¶2): items (六) raise repair funds, (七)
rebuild or reconstruct, (八) change the use of common parts or run business on
them need **three quarters or more** of the participating area and headcount;
every other item needs **more than half** (过半数: strictly more) of both.
:class:`Art278Item` carries that rule so nothing else decides it.

The lifecycle
-------------
One table, :data:`TRANSITIONS`, as :data:`civic.reports.TRANSITIONS` is for
reports; handlers and jobs change a ballot's state through
:func:`decide_action` only::

    draft --announce--> announced --open (system, at opens_at)--> open
    open --close (system, at closes_at)--> closed --publish (system)--> published
    draft, announced --cancel (staff)--> cancelled
    open --cancel (admin only)--> cancelled

* ``draft``: staff write the item text, choose the item, the convener, the
  dates; ``edit`` changes it. Nothing is visible to owners.
* ``announce`` fixes the text and takes the **eligibility snapshot**; from then
  on the text never changes ("nothing outside the announced content can be put
  to the vote", spec 04). A wrong text is cancelled and announced again with
  a fresh notice period, so owners always had the full notice of what they
  vote on.
* ``amend`` (announced or open): staff correct an error in the eligibility
  snapshot with a logged reason that every eligible owner is told of (spec 04).
  It changes no state. Not after close: the result is then fixed.
* ``vote``, ``change_vote`` (the owner, their designated co-owner or proxy) and
  ``enter_paper`` (staff) only while open; ``remind`` is the system's, while
  open. Whether a vote may be changed at all is the ``allow_vote_change``
  setting, checked by the use case on top of this table.
* ``close`` and ``publish`` are the scheduler's, at the deadline and at once
  (or when quiet hours end); staff never close early, so a vote cannot be
  stopped when a convener dislikes the turnout.
* ``cancel``: staff may cancel before voting opens. Once owners are voting, only
  an **admin** (county or township) may: the Property Management Regulations
  Art. 19 ¶2 give the township government (街道办事处、乡镇人民政府) and the county
  housing department the power to order a correction or to revoke an owners'
  decision that breaks the law, and stopping a vote in progress is that power,
  not a convener's.
* ``closed``, ``published`` and ``cancelled`` take no more state changes;
  ``published`` and ``cancelled`` are final, ``closed`` only moves on to
  ``published``.

Notice and window
-----------------
"The full content is announced at least 15 days before voting opens
(configurable)" — the 15 days are the Property Management Regulations Art. 14
(召开业主大会会议，应当于会议召开15日以前通知全体业主), so a configuration may
lengthen the notice but never shorten it below 15. The days are counted as the
Civil Code counts periods (Art. 201: the day of the announcement does not count;
Art. 203: a period ends at 24:00 of its last day): voting opens at the
earliest at 00:00, in the compound's time zone, of the day after the notice's
last day (:func:`earliest_opening`). The voting window lasts 5 to 60 days
(configurable), measured from the opening moment to the closing moment.

One owner, one choice
---------------------
A voting subject (:mod:`civic.ballots_tally`) has one choice per ballot,
whatever the channel: :func:`decide_cast` keeps it with the channel and person
that cast it first, so chat, proxy and paper can never count a unit twice.

Reminders and publication
-------------------------
Owners who have not voted are reminded at configurable offsets before the
close, never in quiet hours (:func:`reminder_moments`, with
:class:`civic.sessions_calendar.QuietHours`, the ``[broadcasts]`` quiet hours
every reminder of the bot keeps); results are published at the close, or when
quiet hours end (:func:`publication_moment`).

Committee formation
-------------------
An owners' committee has 5 to 11 members, an odd number (spec 04; the 2009
guidance rules Art. 31 say 5 to 11 and odd), for a term of at most 5 years
(Art. 32), and staff are reminded 3 months before it ends. The preparatory
group has an odd number of members, at least half of them owners. A proxy
votes for at most a configured number of units.

No Telegram, no SQL, no clock: ``now`` is passed in.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import Enum, StrEnum
from fractions import Fraction
from typing import Final
from zoneinfo import ZoneInfo

from civic.lifecycle import ActionVerdict, Rule, decide
from civic.sessions_calendar import QuietHours

__all__ = [
    "COMMITTEE_SIZE_MAX",
    "COMMITTEE_SIZE_MIN",
    "FINAL_STATES",
    "LEGAL_NOTICE_DAYS",
    "MAX_TERM_YEARS",
    "TERM_REMINDER_MONTHS",
    "TRANSITIONS",
    "VOTING_STATES",
    "ActionVerdict",
    "Art278Item",
    "BallotAction",
    "BallotActor",
    "BallotKind",
    "BallotSchedule",
    "BallotState",
    "Cast",
    "CastVerdict",
    "Channel",
    "Convener",
    "Disclosure",
    "GroupProblem",
    "Rule",
    "SchedulePolicy",
    "ScheduleProblem",
    "check_preparatory_group",
    "check_schedule",
    "decide_action",
    "decide_cast",
    "disclosure",
    "earliest_opening",
    "proxy_within_limit",
    "publication_moment",
    "reminder_moments",
    "term_end",
    "term_reminder_day",
    "valid_committee_size",
]


# -- the items of Art. 278 -------------------------------------------------------------------


class Art278Item(Enum):
    """The matters owners decide together (Civil Code Art. 278 ¶1, items 一 to 九).

    The value is the item's number in the article; :attr:`numeral` is how the
    article and residents write it. :attr:`special_majority` is the ¶2 rule:
    items (六)(七)(八) need three quarters of the participating area and
    headcount, the others more than half.
    """

    RULES_OF_PROCEDURE = 1
    """(一) 制定和修改业主大会议事规则."""
    MANAGEMENT_COVENANT = 2
    """(二) 制定和修改管理规约."""
    OWNERS_COMMITTEE = 3
    """(三) 选举业主委员会或者更换业主委员会成员."""
    PROPERTY_MANAGER = 4
    """(四) 选聘和解聘物业服务企业或者其他管理人."""
    USE_REPAIR_FUNDS = 5
    """(五) 使用建筑物及其附属设施的维修资金."""
    RAISE_REPAIR_FUNDS = 6
    """(六) 筹集建筑物及其附属设施的维修资金."""
    REBUILD = 7
    """(七) 改建、重建建筑物及其附属设施."""
    CHANGE_COMMON_USE = 8
    """(八) 改变共有部分的用途或者利用共有部分从事经营活动."""
    OTHER_MAJOR_MATTER = 9
    """(九) 有关共有和共同管理权利的其他重大事项."""

    @property
    def numeral(self) -> str:
        """The item as the article numbers it: ``一`` … ``九``."""
        return "一二三四五六七八九"[self.value - 1]

    @property
    def code(self) -> str:
        """A stable lower-case name for storage, callback data and catalog keys."""
        return self.name.lower()

    @property
    def special_majority(self) -> bool:
        """Art. 278 ¶2: items (六)(七)(八) need ≥ 3/4 of participating area and headcount."""
        return self in _SPECIAL_MAJORITY_ITEMS

    @property
    def approval_share(self) -> Fraction:
        """The share of participating area and of participating headcount that must approve."""
        return Fraction(3, 4) if self.special_majority else Fraction(1, 2)

    @property
    def approval_strict(self) -> bool:
        """Whether the approving share must exceed :attr:`approval_share` (过半数) or may equal it.

        "四分之三以上" includes three quarters itself (Civil Code Art. 1259:
        以上 includes the number); "过半数" is more than half, never exactly
        half.
        """
        return not self.special_majority

    @classmethod
    def from_code(cls, code: str) -> Art278Item | None:
        """The item stored as ``code``, or ``None`` (a forged or stale button)."""
        return _ITEMS_BY_CODE.get(code)


_SPECIAL_MAJORITY_ITEMS: Final = frozenset(
    {Art278Item.RAISE_REPAIR_FUNDS, Art278Item.REBUILD, Art278Item.CHANGE_COMMON_USE}
)
_ITEMS_BY_CODE: Final[Mapping[str, Art278Item]] = {item.code: item for item in Art278Item}


class BallotKind(StrEnum):
    """What a ballot asks (spec 04, "Ballots")."""

    DECISION = "decision"
    """Yes / no / abstain on one Art. 278 item: the item sets the thresholds."""
    ELECTION = "election"
    """The owners' committee election (item 三): approve up to N candidates."""


class Convener(StrEnum):
    """Who convenes the owners' meeting the ballot belongs to (spec 04)."""

    OWNERS_COMMITTEE = "owners_committee"
    """业主委员会: the compound's elected committee."""
    PREPARATORY_GROUP = "preparatory_group"
    """筹备组: before the first meeting, for the first committee."""
    COMMUNITY = "community"
    """社区: the community office, where neither exists."""


# -- the lifecycle ---------------------------------------------------------------------------


class BallotState(StrEnum):
    """Where a ballot is in its lifecycle (spec 04)."""

    DRAFT = "draft"
    ANNOUNCED = "announced"
    OPEN = "open"
    CLOSED = "closed"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


VOTING_STATES: Final = frozenset({BallotState.OPEN})
"""Votes, changes and paper entries are accepted only here."""

FINAL_STATES: Final = frozenset({BallotState.PUBLISHED, BallotState.CANCELLED})
"""Nothing changes them: decisions are kept for ever (Judicial interpretation Art. 13)."""


class BallotAction(StrEnum):
    """Everything that can happen to a ballot; each becomes an event of its hash-chained log."""

    EDIT = "edit"
    ANNOUNCE = "announce"
    """Fixes the text and takes the eligibility snapshot."""
    AMEND = "amend"
    """A logged, reasoned correction of the eligibility snapshot, told to every eligible owner."""
    OPEN = "open"
    VOTE = "vote"
    CHANGE_VOTE = "change_vote"
    ENTER_PAPER = "enter_paper"
    """Staff enter a paper ballot for a unit, with a photo of the signed ballot."""
    REMIND = "remind"
    CLOSE = "close"
    PUBLISH = "publish"
    CANCEL = "cancel"


class BallotActor(StrEnum):
    """In what capacity someone acts on one ballot."""

    STAFF = "staff"
    """Staff of the compound's community (they run the ballot for the convener)."""
    ADMIN = "admin"
    """A county or township admin: everything staff may, and stopping an open vote."""
    VOTER = "voter"
    """An eligible owner, the designated co-owner, the developer's representative, or a proxy."""
    SYSTEM = "system"
    """The scheduler."""


_OFFICE: Final = frozenset({BallotActor.STAFF, BallotActor.ADMIN})
_ADMIN: Final = frozenset({BallotActor.ADMIN})
_VOTER: Final = frozenset({BallotActor.VOTER})
_SYSTEM: Final = frozenset({BallotActor.SYSTEM})
_S = BallotState
_A = BallotAction

TRANSITIONS: Final[Mapping[BallotState, Mapping[BallotAction, Rule[BallotState, BallotActor]]]] = {
    _S.DRAFT: {
        _A.EDIT: Rule(None, _OFFICE),
        _A.ANNOUNCE: Rule(_S.ANNOUNCED, _OFFICE),
        _A.CANCEL: Rule(_S.CANCELLED, _OFFICE),
    },
    _S.ANNOUNCED: {
        _A.AMEND: Rule(None, _OFFICE),
        _A.OPEN: Rule(_S.OPEN, _SYSTEM),
        _A.CANCEL: Rule(_S.CANCELLED, _OFFICE),
    },
    _S.OPEN: {
        _A.AMEND: Rule(None, _OFFICE),
        _A.VOTE: Rule(None, _VOTER),
        _A.CHANGE_VOTE: Rule(None, _VOTER),
        _A.ENTER_PAPER: Rule(None, _OFFICE),
        _A.REMIND: Rule(None, _SYSTEM),
        _A.CLOSE: Rule(_S.CLOSED, _SYSTEM),
        _A.CANCEL: Rule(_S.CANCELLED, _ADMIN),
    },
    _S.CLOSED: {
        _A.PUBLISH: Rule(_S.PUBLISHED, _SYSTEM),
    },
    _S.PUBLISHED: {},
    _S.CANCELLED: {},
}
"""The lifecycle of spec 04: ``TRANSITIONS[state][action]`` is allowed, else not."""


def decide_action(
    state: BallotState, action: BallotAction, actors: Collection[BallotActor]
) -> tuple[ActionVerdict, BallotState | None]:
    """Whether someone acting as ``actors`` may take ``action`` now, and the state it leads to.

    The state is ``None`` when refused or when the action changes no state.
    "Not now" wins over "not yours": a vote after the close is refused as too
    late, whoever sent it, so the refusal says what is true of the ballot.
    """
    return decide(TRANSITIONS, state, action, actors)


class Disclosure(StrEnum):
    """What anyone but the voter may see of a ballot's votes in its state (spec 04, "Secrecy")."""

    NOTHING = "nothing"
    TURNOUT = "turnout"
    """Participating area and headcount, never the choices."""
    RESULT = "result"
    """Totals by choice, each threshold and the decision."""


def disclosure(state: BallotState, show_turnout: bool) -> Disclosure:
    """Spec 04: "while open, nobody sees running totals of choices (config may allow showing
    turnout); after close, results show totals by area and headcount".

    A cancelled ballot shows nothing: its votes decide nothing and are never
    tallied, so no partial picture of them is published.
    """
    if state in {BallotState.CLOSED, BallotState.PUBLISHED}:
        return Disclosure.RESULT
    if state is BallotState.OPEN and show_turnout:
        return Disclosure.TURNOUT
    return Disclosure.NOTHING


# -- notice and voting window ----------------------------------------------------------------

LEGAL_NOTICE_DAYS: Final = 15
"""Property Management Regulations Art. 14: notice 15 days before the meeting, at least."""


@dataclass(frozen=True)
class SchedulePolicy:
    """The ``[ballots]`` settings for dates: notice days and the window's bounds, in days."""

    notice_days: int = LEGAL_NOTICE_DAYS
    min_window_days: int = 5
    max_window_days: int = 60

    def __post_init__(self) -> None:
        """Refuse a notice shorter than the law's, and an empty or inverted window range."""
        if self.notice_days < LEGAL_NOTICE_DAYS:
            raise ValueError(
                f"the notice is at least {LEGAL_NOTICE_DAYS} days (Regulations Art. 14)"
            )
        if not 1 <= self.min_window_days <= self.max_window_days:
            raise ValueError(
                "the voting window is at least 1 day, min_window_days ≤ max_window_days"
            )


@dataclass(frozen=True)
class BallotSchedule:
    """The three moments of a ballot, timezone-aware (UTC in storage)."""

    announced_at: datetime
    opens_at: datetime
    closes_at: datetime


class ScheduleProblem(StrEnum):
    """Why a ballot's dates are refused; each has its message in the catalogs."""

    NAIVE_TIME = "naive_time"
    """A moment without a time zone (a programming error upstream, refused all the same)."""
    NOTICE_TOO_SHORT = "notice_too_short"
    """Voting would open before the notice period has run out."""
    WINDOW_TOO_SHORT = "window_too_short"
    WINDOW_TOO_LONG = "window_too_long"
    OPENS_IN_THE_PAST = "opens_in_the_past"
    """Announcing now would open voting at a moment already past."""


def earliest_opening(announced_at: datetime, notice_days: int, timezone: str) -> datetime:
    """00:00 local of the day after the notice's last day: the first moment voting may open.

    Civil Code Art. 201: the announcement's own day does not count, the period
    starts the next day; Art. 203: it ends at 24:00 of its last day. So an
    announcement at any time on 1 March with 15 days' notice allows voting
    from 00:00 on 17 March (the notice runs 2–16 March), in the compound's zone.
    """
    _require_aware(announced_at)
    zone = ZoneInfo(timezone)
    day = announced_at.astimezone(zone).date() + timedelta(days=notice_days + 1)
    return datetime.combine(day, time(0, 0), tzinfo=zone)


def check_schedule(
    schedule: BallotSchedule, policy: SchedulePolicy, timezone: str, now: datetime
) -> ScheduleProblem | None:
    """Whether a ballot announced at ``schedule.announced_at`` may run on these dates.

    Checked when the ballot is announced (``announced_at`` is then ``now``) and
    whenever a draft's dates are edited. The first problem found is returned,
    the notice before the window: a convener who must move the opening moves
    the closing with it.
    """
    moments = (schedule.announced_at, schedule.opens_at, schedule.closes_at, now)
    if any(moment.tzinfo is None or moment.utcoffset() is None for moment in moments):
        return ScheduleProblem.NAIVE_TIME
    if schedule.opens_at <= now:
        return ScheduleProblem.OPENS_IN_THE_PAST
    if schedule.opens_at < earliest_opening(schedule.announced_at, policy.notice_days, timezone):
        return ScheduleProblem.NOTICE_TOO_SHORT
    window = schedule.closes_at - schedule.opens_at
    if window < timedelta(days=policy.min_window_days):
        return ScheduleProblem.WINDOW_TOO_SHORT
    if window > timedelta(days=policy.max_window_days):
        return ScheduleProblem.WINDOW_TOO_LONG
    return None


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("ballot dates need timezone-aware datetimes")


# -- the committee ---------------------------------------------------------------------------

COMMITTEE_SIZE_MIN: Final = 5
COMMITTEE_SIZE_MAX: Final = 11


def valid_committee_size(seats: int) -> bool:
    """An owners' committee has 5 to 11 members, an odd number (spec 04; 2009 rules Art. 31).

    Odd so that the committee's own votes cannot tie; config validation and the
    election's ``seats`` use this one check.
    """
    return COMMITTEE_SIZE_MIN <= seats <= COMMITTEE_SIZE_MAX and seats % 2 == 1


# -- reminders and publication ---------------------------------------------------------------


def reminder_moments(
    schedule: BallotSchedule,
    offsets: Collection[timedelta],
    quiet: QuietHours,
    timezone: str,
) -> tuple[datetime, ...]:
    """When to remind eligible owners who have not voted: ``offsets`` before the close.

    Spec 04: "at configurable offsets (e.g. 7 days, 2 days, 1 day before close),
    never during quiet hours". A moment in quiet hours moves to their end; one
    that would then fall at or after the close, or that falls before voting
    opens (an offset longer than the window), is dropped. Moments that coincide
    are sent once. Who is reminded is the use case's question, asked at the
    moment itself: only owners who have not voted by then.
    """
    moments = set()
    for offset in offsets:
        if offset <= timedelta(0):
            raise ValueError("a reminder comes before the close")
        moment = quiet.ends_after(schedule.closes_at - offset, timezone)
        if schedule.opens_at <= moment < schedule.closes_at:
            moments.add(moment)
    return tuple(sorted(moments))


def publication_moment(closed_at: datetime, quiet: QuietHours, timezone: str) -> datetime:
    """Results go out at once, or when quiet hours end (spec 04, "Closing")."""
    _require_aware(closed_at)
    return quiet.ends_after(closed_at, timezone)


# -- committee formation ---------------------------------------------------------------------

MAX_TERM_YEARS: Final = 5
"""The 2009 guidance rules Art. 32: a committee's term is at most 5 years (spec 04)."""

TERM_REMINDER_MONTHS: Final = 3
"""Staff are reminded 3 months before a committee's term ends (spec 04)."""


def term_end(start: date, years: int) -> date:
    """The last day of a committee term of ``years`` (1 to 5) that begins on ``start``.

    The term includes its first day, as terms are written ("from 10 May 2027
    to 9 May 2032"): the anniversary is the first day of the next term, so the
    term never exceeds its years, whichever way the period is read. A term from
    29 February ends on 28 February, the last day of the month with no 29th
    (Civil Code Art. 202: no corresponding day, the month's last day).
    """
    if not 1 <= years <= MAX_TERM_YEARS:
        raise ValueError(f"a committee term is 1 to {MAX_TERM_YEARS} years")
    anniversary = _add_months(start, 12 * years)
    if anniversary.day != start.day:
        return anniversary
    return anniversary - timedelta(days=1)


def term_reminder_day(end: date) -> date:
    """The day staff are told the committee's term ends in 3 months (spec 04)."""
    return _add_months(end, -TERM_REMINDER_MONTHS)


def _add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it has no such day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


class GroupProblem(StrEnum):
    """Why a preparatory group's membership is refused (spec 04)."""

    EVEN = "even"
    """An odd number of members, so the group's own decisions cannot tie."""
    TOO_FEW_OWNERS = "too_few_owners"
    """At least half of the members are owners of the compound."""


def check_preparatory_group(members: int, owners: int) -> GroupProblem | None:
    """Spec 04: the preparatory group (筹备组) has an odd number of members, at least half owners.

    The 2009 guidance rules make it owners with officials of the township, the
    community and the developer, owners being at least half; an odd number so
    that its own decisions cannot tie.
    """
    if owners < 0 or owners > members:
        raise ValueError("the owners are among the members")
    if members % 2 == 0:
        return GroupProblem.EVEN
    if 2 * owners < members:
        return GroupProblem.TOO_FEW_OWNERS
    return None


def proxy_within_limit(units_held: int, limit: int) -> bool:
    """Whether a proxy may take one more owner's units (``[ballots] max_units_per_proxy``).

    ``units_held`` counts the units the proxy already votes for others on this
    ballot, plus those of the new authorisation; the limit keeps one person from
    gathering a block of votes (spec 04).
    """
    if limit < 1:
        raise ValueError("a proxy may hold at least one unit")
    return units_held <= limit


# -- casting a vote: one owner, one choice, whatever the channel -----------------------------


class Channel(StrEnum):
    """How a voting subject's one choice reached the ballot (spec 04, "Voting in chat", "Paper")."""

    CHAT = "chat"
    """The owner, the designated co-owner or the developer's representative, in chat."""
    PROXY = "proxy"
    """A proxy (代理人) with a written authorisation, in chat."""
    PAPER = "paper"
    """A signed paper ballot entered by staff with its photo."""


@dataclass(frozen=True)
class Cast:
    """The choice a voting subject has on record, who cast it and through which channel."""

    channel: Channel
    voter_id: int
    """The Telegram user who voted (chat, proxy) or the staff member who entered paper."""
    choice: str
    """A :class:`civic.ballots_tally.Choice` value, or an election ballot's canonical form."""


class CastVerdict(StrEnum):
    """What :func:`decide_cast` says about a new choice for a subject."""

    NEW = "new"
    """The subject's first choice: recorded."""
    CHANGE = "change"
    """The same person, through the same chat channel, chose differently: recorded as a change."""
    SAME = "same"
    """The same choice again from the same person and channel (a double tap): nothing to record."""
    CHANGE_NOT_ALLOWED = "change_not_allowed"
    """``[ballots] allow_vote_change`` is off."""
    ALREADY_VOTED = "already_voted"
    """The subject voted through another channel or person: refused, the counts unchanged."""


def decide_cast(previous: Cast | None, new: Cast, *, allow_change: bool) -> CastVerdict:
    """Whether a new choice for one voting subject is recorded (spec 04).

    "One owner, one choice per ballot … no unit is ever counted twice, whatever
    the channel"; "a unit that already voted in chat cannot be entered again
    [on paper], and vice versa". So the first channel and person keep the
    subject's vote: an owner who voted in chat changes it in chat, a proxy who
    voted changes it as the proxy, and nobody else overrides either. A paper
    ballot is never changed by entering another one: a signed paper ballot is
    evidence, and correcting a mistyped entry is an amendment with a reason.
    Whether the ballot is open is :func:`decide_action`'s question, asked first.
    """
    if previous is None:
        return CastVerdict.NEW
    if previous.channel is not new.channel or previous.voter_id != new.voter_id:
        return CastVerdict.ALREADY_VOTED
    if previous.choice == new.choice:
        return CastVerdict.SAME
    if new.channel is Channel.PAPER:
        return CastVerdict.ALREADY_VOTED
    return CastVerdict.CHANGE if allow_change else CastVerdict.CHANGE_NOT_ALLOWED
