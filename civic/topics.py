"""Consultation topics (议题征集): states, who may do what when, co-signs, moderation, texts.

Spec 03 ("Topics"), after Decidim's proposals (supports and a threshold,
withdrawal, merging duplicates, hiding by moderation) and the first step of the
consultation procedure of the 2015 central opinion on urban and rural community
consultation: **set the topic** (确定议题), before notifying, consulting,
publishing the result and reporting back.

The lifecycle is one table, :data:`TRANSITIONS`, as for reports
(:mod:`civic.reports`): for each state, the actions allowed in it, the state each
leads to, and who may take it. Handlers and jobs change a topic's state only
through :func:`decide_action`.

::

    held --release--> open --queue (threshold) / accept--> queued --schedule--> scheduled
    open, queued --mark_technical--> technical --assess--> queued
    scheduled --adopt / decline / refer--> adopted / declined / referred
    scheduled --defer / unschedule--> queued
    held, open, queued, technical --merge--> merged     ... --reject--> rejected
    held, open, queued, technical, scheduled --hide--> hidden
    held, open --withdraw (proposer)--> withdrawn

* ``held`` (待审核): the text contains a word of ``[topics] held_words``
  (:func:`held_words_in`); only staff and the proposer see it until staff
  ``release`` it, ``hide`` it or ``reject`` it. Spec 03: "a configurable word
  list holds suspicious text for review before it is public".
* ``open`` (征集中): public in ``/topics``; residents co-sign (附议).
* ``queued`` (待协商): for the next session — either the system's ``queue`` when
  the co-signs that count reach ``[topics] cosign_threshold``
  (:func:`reaches_threshold`), or staff's ``accept`` with fewer (spec 03: "staff
  can also accept"). One state for both: what follows is the same, and the
  event says which it was.
* ``technical`` (待论证): staff judged that experts or a third party must assess it
  first (专家论证评估); it cannot go on an agenda until staff ``assess`` it
  (attach the assessment), which queues it. A topic that reaches the threshold
  while technical stays technical: the assessment comes first whatever the
  support.
* ``scheduled`` (已列入议程): on a session's agenda. The session's closing records
  the outcome per agenda item (spec 03, 公示结果): ``adopt``, ``decline``
  (rejected by the session), ``refer`` (to a department), or ``defer`` (back to
  the queue for a later session); ``unschedule`` takes it off an agenda (the
  session was cancelled, or staff edited the agenda before announcing).
* ``adopted`` is followed up as tracked items (落实反馈) outside this table;
  ``declined``, ``referred``, ``merged``, ``rejected``, ``hidden`` and
  ``withdrawn`` are final.

Decisions the spec leaves open, and how they are resolved here:

* Co-signing is open while the topic is public and undecided (``open``,
  ``queued``, ``technical``, ``scheduled``): support shown after queueing still
  orders ``/topics`` and tells the session how many care. A co-sign withdrawn
  after a topic was queued does not unqueue it: a topic must not flap on and off
  the next agenda as residents change their minds.
* ``merge`` (duplicates) is allowed from the states before an agenda, into a
  live topic of the same community (:func:`check_merge`); the co-signers and the
  proposer of the duplicate become co-signers of the kept topic, counted once
  (:func:`merged_cosigners`).
* ``reject`` has a reason (:class:`RejectReason`), ``hide`` has one too
  (:class:`HideReason`); the author is told it (spec 03: "the author is told").
* The proposer may ``withdraw`` their topic while nobody has decided on it yet
  (``held`` or ``open``), as in Decidim; after that it belongs to the community.

Who: the **proposer**, any **resident** (registered in any community: whether
their co-sign counts is :func:`cosign_counts`' question, not the table's),
**staff** of the topic's community, and the **system** (the threshold).

No Telegram, no SQL, no clock: ``now`` is passed in.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from civic.lifecycle import ActionVerdict, Rule, decide
from civic.residents import VerificationLevel

__all__ = [
    "CLOSED_STATES",
    "COSIGN_STATES",
    "DESCRIPTION_MAX_CHARS",
    "TITLE_MAX_CHARS",
    "TITLE_MIN_CHARS",
    "TRANSITIONS",
    "ActionVerdict",
    "ActorRole",
    "CosignOutcome",
    "HideReason",
    "MergeProblem",
    "Outcome",
    "RejectReason",
    "Rule",
    "Signer",
    "TextProblem",
    "Topic",
    "TopicAction",
    "TopicCategory",
    "TopicEvent",
    "TopicState",
    "change_recipients",
    "check_description",
    "check_merge",
    "check_title",
    "cosign_counts",
    "count_cosigns",
    "decide_action",
    "decide_cosign",
    "decide_uncosign",
    "held_words_in",
    "initial_state",
    "merged_cosigners",
    "normalise_for_matching",
    "outcome_action",
    "reaches_threshold",
]


class TopicState(StrEnum):
    """Where a topic is in its lifecycle (module docstring)."""

    HELD = "held"
    OPEN = "open"
    QUEUED = "queued"
    TECHNICAL = "technical"
    SCHEDULED = "scheduled"
    ADOPTED = "adopted"
    DECLINED = "declined"
    REFERRED = "referred"
    MERGED = "merged"
    REJECTED = "rejected"
    HIDDEN = "hidden"
    WITHDRAWN = "withdrawn"


COSIGN_STATES: Final = frozenset(
    {TopicState.OPEN, TopicState.QUEUED, TopicState.TECHNICAL, TopicState.SCHEDULED}
)
"""Public and undecided: residents may co-sign and withdraw their co-sign."""

CLOSED_STATES: Final = frozenset(
    {
        TopicState.ADOPTED,
        TopicState.DECLINED,
        TopicState.REFERRED,
        TopicState.MERGED,
        TopicState.REJECTED,
        TopicState.HIDDEN,
        TopicState.WITHDRAWN,
    }
)
"""Decided or gone: no action of this table changes them (``adopted`` is followed up)."""


class TopicCategory(StrEnum):
    """What a topic is about: the consultation contents the county survey lists (spec 03)."""

    DEVELOPMENT_PLAN = "development_plan"
    """发展规划."""
    PUBLIC_AFFAIRS = "public_affairs"
    """公共事务."""
    PUBLIC_WELFARE = "public_welfare"
    """公益事业."""
    CONSTRUCTION = "construction"
    """项目建设."""
    PROPERTY_MANAGEMENT = "property_management"
    """小区物业管理."""
    DISPUTE = "dispute"
    """矛盾纠纷."""
    HOT_ISSUE = "hot_issue"
    """热点问题."""


class TopicAction(StrEnum):
    """Everything that can happen to a proposed topic; each becomes a :class:`TopicEvent`."""

    RELEASE = "release"
    """Staff found a held text acceptable: it becomes public."""
    COSIGN = "cosign"
    UNCOSIGN = "uncosign"
    """A resident withdraws their co-sign."""
    QUEUE = "queue"
    """The counted co-signs reached the threshold (the system)."""
    ACCEPT = "accept"
    """Staff queue it for the next session whatever its co-signs."""
    MARK_TECHNICAL = "mark_technical"
    ASSESS = "assess"
    """Staff attach the experts' or third party's assessment (专家论证评估)."""
    SCHEDULE = "schedule"
    """Put on a session's agenda."""
    UNSCHEDULE = "unschedule"
    ADOPT = "adopt"
    DECLINE = "decline"
    """The session rejected it (not staff's intake ``reject``)."""
    REFER = "refer"
    """The session referred it to a department."""
    DEFER = "defer"
    """The session put it off to a later one."""
    MERGE = "merge"
    REJECT = "reject"
    HIDE = "hide"
    WITHDRAW = "withdraw"
    """The proposer takes their topic back."""


class ActorRole(StrEnum):
    """In what capacity someone acts on one topic (one person may hold several)."""

    PROPOSER = "proposer"
    RESIDENT = "resident"
    STAFF = "staff"
    """Staff of the topic's community (or an admin over it: :func:`civic.roles.decide`)."""
    SYSTEM = "system"


class RejectReason(StrEnum):
    """Why staff rejected a topic at intake; the proposer and co-signers are told it."""

    OUT_OF_SCOPE = "out_of_scope"
    """Not a matter for community consultation (e.g. a case before a court, a
    matter the law gives to a department): the 2015 opinion lists what
    community consultation covers."""
    ALREADY_HANDLED = "already_handled"
    """Being handled already (a report, a department's plan): consulting adds nothing."""
    INFEASIBLE = "infeasible"
    """The assessment, or plain fact, shows it cannot be done."""
    OTHER = "other"
    """With a note in the staff member's words."""


class HideReason(StrEnum):
    """Why moderation hid a topic or an opinion; the author is told it (spec 03)."""

    ABUSIVE = "abusive"
    """Insults, threats, discrimination."""
    PERSONAL_DATA = "personal_data"
    """Names, phone numbers or addresses of others (PIPL Art. 13: no consent to publish)."""
    ADVERTISING = "advertising"
    UNLAWFUL = "unlawful"
    OTHER = "other"


class Outcome(StrEnum):
    """A session's outcome for one agenda item (spec 03, "Closing")."""

    ADOPTED = "adopted"
    REJECTED = "rejected"
    DEFERRED = "deferred"
    REFERRED = "referred"


def outcome_action(outcome: Outcome) -> TopicAction:
    """The action that records ``outcome`` on the item's topic."""
    return {
        Outcome.ADOPTED: TopicAction.ADOPT,
        Outcome.REJECTED: TopicAction.DECLINE,
        Outcome.DEFERRED: TopicAction.DEFER,
        Outcome.REFERRED: TopicAction.REFER,
    }[outcome]


_STAFF: Final = frozenset({ActorRole.STAFF})
_RESIDENT: Final = frozenset({ActorRole.RESIDENT})
_PROPOSER: Final = frozenset({ActorRole.PROPOSER})
_SYSTEM: Final = frozenset({ActorRole.SYSTEM})
_S = TopicState
_A = TopicAction


def _undecided_rules() -> dict[TopicAction, Rule[TopicState, ActorRole]]:
    """What every state before an agenda allows staff: merge, reject, hide."""
    return {
        _A.MERGE: Rule(_S.MERGED, _STAFF),
        _A.REJECT: Rule(_S.REJECTED, _STAFF),
        _A.HIDE: Rule(_S.HIDDEN, _STAFF),
    }


def _cosign_rules() -> dict[TopicAction, Rule[TopicState, ActorRole]]:
    return {_A.COSIGN: Rule(None, _RESIDENT), _A.UNCOSIGN: Rule(None, _RESIDENT)}


TRANSITIONS: Final[Mapping[TopicState, Mapping[TopicAction, Rule[TopicState, ActorRole]]]] = {
    _S.HELD: {
        **_undecided_rules(),
        _A.RELEASE: Rule(_S.OPEN, _STAFF),
        _A.WITHDRAW: Rule(_S.WITHDRAWN, _PROPOSER),
    },
    _S.OPEN: {
        **_undecided_rules(),
        **_cosign_rules(),
        _A.QUEUE: Rule(_S.QUEUED, _SYSTEM),
        _A.ACCEPT: Rule(_S.QUEUED, _STAFF),
        _A.MARK_TECHNICAL: Rule(_S.TECHNICAL, _STAFF),
        _A.WITHDRAW: Rule(_S.WITHDRAWN, _PROPOSER),
    },
    _S.QUEUED: {
        **_undecided_rules(),
        **_cosign_rules(),
        _A.MARK_TECHNICAL: Rule(_S.TECHNICAL, _STAFF),
        _A.SCHEDULE: Rule(_S.SCHEDULED, _STAFF),
    },
    _S.TECHNICAL: {
        **_undecided_rules(),
        **_cosign_rules(),
        _A.ASSESS: Rule(_S.QUEUED, _STAFF),
    },
    _S.SCHEDULED: {
        **_cosign_rules(),
        _A.UNSCHEDULE: Rule(_S.QUEUED, _STAFF),
        _A.ADOPT: Rule(_S.ADOPTED, _STAFF),
        _A.DECLINE: Rule(_S.DECLINED, _STAFF),
        _A.REFER: Rule(_S.REFERRED, _STAFF),
        _A.DEFER: Rule(_S.QUEUED, _STAFF),
        _A.HIDE: Rule(_S.HIDDEN, _STAFF),
    },
    **{state: {} for state in CLOSED_STATES},
}
"""The lifecycle of spec 03: ``TRANSITIONS[state][action]`` is allowed, else not."""


def decide_action(
    state: TopicState, action: TopicAction, roles: Collection[ActorRole]
) -> tuple[ActionVerdict, TopicState | None]:
    """Whether someone in ``roles`` may take ``action`` now, and the state it leads to.

    The state is ``None`` when refused, or when the action changes no state.
    "Not now" wins over "not yours": a stale button says the topic moved on,
    whoever pressed it.
    """
    return decide(TRANSITIONS, state, action, roles)


# -- the topic -------------------------------------------------------------------------


@dataclass(frozen=True)
class Topic:
    """A proposed topic as stored; ``id`` is set when it is stored."""

    community_code: str
    proposer_id: int
    title: str
    description: str
    category: TopicCategory
    created_at: datetime
    state: TopicState = TopicState.OPEN
    photo_file_id: str | None = None
    cosigns: int = 0
    """Co-signs that count (:func:`count_cosigns`), kept for ordering ``/topics``."""
    merged_into: int | None = None
    reject_reason: RejectReason | None = None
    hide_reason: HideReason | None = None
    assessment: str | None = None
    """The experts' or third party's assessment: text, or a Telegram file id."""
    session_id: int | None = None
    """The session whose agenda holds it (``scheduled``) or decided it."""
    updated_at: datetime | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        """Refuse a topic whose fields contradict its state."""
        if self.created_at.tzinfo is None:
            raise ValueError("a topic's moments are timezone-aware")
        if (self.state is TopicState.MERGED) != (self.merged_into is not None):
            raise ValueError("a merged topic names the topic it was merged into, and only it")
        if self.state is TopicState.REJECTED and self.reject_reason is None:
            raise ValueError("a rejected topic has a reason")
        if self.state is TopicState.HIDDEN and self.hide_reason is None:
            raise ValueError("a hidden topic has a reason")
        if self.merged_into is not None and self.merged_into == self.id:
            raise ValueError("a topic is not merged into itself")

    @property
    def is_public(self) -> bool:
        """Shown in ``/topics`` and open to co-signs."""
        return self.state in COSIGN_STATES


@dataclass(frozen=True)
class TopicEvent:
    """One change or co-sign on a topic: who, in what capacity, when, what, and why."""

    topic_id: int
    kind: TopicAction | None
    """``None`` for the proposal itself (the first event of every topic)."""
    actor_role: ActorRole
    at: datetime
    to_state: TopicState
    from_state: TopicState | None = None
    actor_id: int | None = None
    note: str | None = None
    reject_reason: RejectReason | None = None
    hide_reason: HideReason | None = None
    merged_into: int | None = None
    session_id: int | None = None
    update_id: int | None = None
    id: int | None = None


def initial_state(title: str, description: str, held_words: Iterable[str]) -> TopicState:
    """``held`` when the text contains a held word, else ``open`` (spec 03, moderation)."""
    held = held_words_in(f"{title}\n{description}", held_words)
    return TopicState.HELD if held else TopicState.OPEN


def change_recipients(
    proposer_id: int, cosigner_ids: Iterable[int], actor_id: int | None
) -> list[int]:
    """Who is told of a change of state: proposer and co-signers, not the person acting.

    Spec 03: "The proposer and co-signers are told of every state change". In
    proposal order (proposer first, then co-signers as given), each once.
    """
    ordered = dict.fromkeys([proposer_id, *cosigner_ids])
    return [user_id for user_id in ordered if user_id != actor_id]


# -- co-signs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signer:
    """A person co-signing, as the co-sign rules need them: where they live, how sure."""

    user_id: int
    community_code: str | None
    """``None``: not registered (never counts)."""
    level: VerificationLevel = VerificationLevel.UNVERIFIED


def cosign_counts(
    signer: Signer,
    topic_community: str,
    proposer_id: int,
    counted_level: VerificationLevel = VerificationLevel.LOCATED,
) -> bool:
    """Whether ``signer``'s co-sign counts towards the threshold.

    Spec 03: "Co-signs count towards the threshold only from located or verified
    residents of that community; the proposer's own support is not a co-sign"
    (``[residents] counted_level``, ``located`` by default). Others may co-sign —
    their support is kept and shown, and they are told it does not count until
    they are located — so nothing they did is lost when they are.
    """
    return (
        signer.user_id != proposer_id
        and signer.community_code == topic_community
        and signer.level.at_least(counted_level)
    )


def count_cosigns(
    signers: Iterable[Signer],
    topic_community: str,
    proposer_id: int,
    counted_level: VerificationLevel = VerificationLevel.LOCATED,
) -> int:
    """The co-signs that count, each person once, as they stand now.

    Counted from the signers' current standing, not their standing when they
    signed: a resident located after co-signing starts counting, one who moved
    to another community stops.
    """
    counted = {
        s.user_id for s in signers if cosign_counts(s, topic_community, proposer_id, counted_level)
    }
    return len(counted)


def reaches_threshold(state: TopicState, counted: int, threshold: int) -> bool:
    """Whether the system should ``queue`` the topic now (``[topics] cosign_threshold``).

    Only an ``open`` topic is queued by its co-signs: a technical one waits for
    its assessment, a held one for review, a queued one is queued already.
    """
    if threshold < 1:
        raise ValueError("the co-sign threshold is 1 or more")
    return state is TopicState.OPEN and counted >= threshold


class CosignOutcome(StrEnum):
    """What a resident's tap on "co-sign" or "withdraw co-sign" did; each has its message."""

    COUNTED = "counted"
    """Co-signed, and it counts towards the threshold."""
    NOT_COUNTED = "not_counted"
    """Co-signed and kept, but it does not count (unverified, or of another
    community): the resident is told so, and how to be located."""
    ALREADY = "already"
    """A second co-sign by the same person: nothing changes."""
    OWN_TOPIC = "own_topic"
    """The proposer's own support is not a co-sign."""
    CLOSED = "closed"
    """The topic is not open to co-signs (decided, merged, hidden, held)."""
    WITHDRAWN = "withdrawn"
    """The co-sign was taken back."""
    NOT_COSIGNED = "not_cosigned"
    """Nothing to withdraw (a double tap, a stale button)."""


def decide_cosign(
    state: TopicState,
    signer: Signer,
    topic_community: str,
    proposer_id: int,
    already: bool,
    counted_level: VerificationLevel = VerificationLevel.LOCATED,
) -> CosignOutcome:
    """What co-signing does; ``already``: the signer's co-sign is stored.

    Checked in this order: closed (a stale button says the topic moved on),
    own topic, already, then whether it counts.
    """
    if decide_action(state, TopicAction.COSIGN, {ActorRole.RESIDENT})[0] is not (
        ActionVerdict.ALLOWED
    ):
        return CosignOutcome.CLOSED
    if signer.user_id == proposer_id:
        return CosignOutcome.OWN_TOPIC
    if already:
        return CosignOutcome.ALREADY
    if cosign_counts(signer, topic_community, proposer_id, counted_level):
        return CosignOutcome.COUNTED
    return CosignOutcome.NOT_COUNTED


def decide_uncosign(state: TopicState, cosigned: bool) -> CosignOutcome:
    """What withdrawing a co-sign does (it never unqueues a topic: module docstring)."""
    if decide_action(state, TopicAction.UNCOSIGN, {ActorRole.RESIDENT})[0] is not (
        ActionVerdict.ALLOWED
    ):
        return CosignOutcome.CLOSED
    return CosignOutcome.WITHDRAWN if cosigned else CosignOutcome.NOT_COSIGNED


# -- merging duplicates ------------------------------------------------------------------


class MergeProblem(StrEnum):
    """Why a topic cannot be merged into another; each has its message."""

    SAME_TOPIC = "same_topic"
    OTHER_COMMUNITY = "other_community"
    TARGET_CLOSED = "target_closed"
    """The kept topic is decided, merged, hidden or withdrawn."""
    NOT_NOW = "not_now"
    """The duplicate itself cannot be merged in its state (on an agenda, closed)."""


def check_merge(source: Topic, target: Topic) -> MergeProblem | None:
    """``None`` when ``source`` may be merged into ``target`` (spec 03: "merge duplicates")."""
    if source.id is not None and source.id == target.id:
        return MergeProblem.SAME_TOPIC
    if source.community_code != target.community_code:
        return MergeProblem.OTHER_COMMUNITY
    if TopicAction.MERGE not in TRANSITIONS[source.state]:
        return MergeProblem.NOT_NOW
    if target.state in CLOSED_STATES or target.state is TopicState.HELD:
        return MergeProblem.TARGET_CLOSED
    return None


def merged_cosigners(
    source_proposer: int,
    source_cosigners: Iterable[int],
    target_proposer: int,
    target_cosigners: Iterable[int],
) -> list[int]:
    """The kept topic's co-signers after a merge: its own, then the duplicate's people.

    The duplicate's proposer supported the same thing, so they become a
    co-signer; nobody is counted twice, and the kept topic's proposer is never
    their own co-signer. Whether each co-sign counts is still
    :func:`count_cosigns`' question.
    """
    people = dict.fromkeys([*target_cosigners, source_proposer, *source_cosigners])
    return [user_id for user_id in people if user_id != target_proposer]


# -- moderation: held words --------------------------------------------------------------

_INVISIBLE: Final = re.compile(r"[\s\u200b-\u200f\u2060\ufeff·・._\-*~|/\\]+")


def normalise_for_matching(text: str) -> str:
    """``text`` as the word list is matched against it.

    NFKC folds full-width and half-width forms (``ＡＢＣ`` → ``abc``, ``ｶ`` →
    ``カ``), ``casefold`` folds case, and spaces, zero-width characters and the
    separators people put inside a word to slip it past a filter (``傻 逼``,
    ``s.b``) are removed.
    """
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", text).casefold())


def held_words_in(text: str, held_words: Iterable[str]) -> list[str]:
    """The words of ``[topics] held_words`` found in ``text``, as configured.

    Staff reviewing the held text see which words held it. Matching is on
    :func:`normalise_for_matching` of both sides; an empty word matches nothing.
    """
    haystack = normalise_for_matching(text)
    found: list[str] = []
    for word in held_words:
        needle = normalise_for_matching(word)
        if needle and needle in haystack and word not in found:
            found.append(word)
    return found


# -- title and description ------------------------------------------------------------------

TITLE_MIN_CHARS: Final = 4
"""Fewer says nothing a neighbour could co-sign ("路灯" — which, where, what about it?)."""
TITLE_MAX_CHARS: Final = 60
"""A title is read in a list and on a button; the description says the rest."""
DESCRIPTION_MAX_CHARS: Final = 2000
"""Within one Telegram message (4096) with the card's other lines around it."""


class TextProblem(StrEnum):
    """Why a title or description cannot be proposed; each has its message."""

    EMPTY = "empty"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    MULTILINE = "multiline"
    """A title is one line: the first line of a long message is not a title."""


def check_title(
    text: str, min_chars: int = TITLE_MIN_CHARS, max_chars: int = TITLE_MAX_CHARS
) -> TextProblem | None:
    """``None`` when ``text`` can be a topic's title."""
    stripped = text.strip()
    if not stripped:
        return TextProblem.EMPTY
    if "\n" in stripped:
        return TextProblem.MULTILINE
    if len(stripped) < min_chars:
        return TextProblem.TOO_SHORT
    if len(stripped) > max_chars:
        return TextProblem.TOO_LONG
    return None


def check_description(text: str, max_chars: int = DESCRIPTION_MAX_CHARS) -> TextProblem | None:
    """``None`` when ``text`` can be a topic's description."""
    stripped = text.strip()
    if not stripped:
        return TextProblem.EMPTY
    if len(stripped) > max_chars:
        return TextProblem.TOO_LONG
    return None
