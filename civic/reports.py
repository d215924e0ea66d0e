"""Residents' reports of problems: states, who may do what when, tracking numbers, the value.

Spec 02 (居民反映问题), after FixMyStreet's report lifecycle and the 12345
hotline's closed loop (受理 → 派单 → 办理 → 答复 → 督办 → 办结 → 回访 → 评价).

The lifecycle is one table, :data:`TRANSITIONS`: for each state, the actions
allowed in it, the state each leads to, and who may take it. Handlers and jobs
never change a report's state any other way (:func:`decide_action`), and a
property-based test walks random action sequences through it.

::

    submitted --accept--> accepted --progress--> in_progress --resolve--> resolved
    accepted --resolve--> resolved               reopened --accept/progress/resolve--> ...
    submitted, accepted --reject--> rejected     any open state --reassign--> submitted
    resolved --confirm (Yes) / expire--> closed  resolved --reopen (No)--> reopened

* ``submitted``: routing has already chosen an assignee; waiting for them to
  acknowledge (受理).
* ``accepted`` → ``in_progress`` with the first progress note; more progress
  notes keep it there.
* ``resolve`` from ``accepted``, ``in_progress`` or ``reopened``, never from
  ``submitted``: 12345 practice requires the order to be acknowledged before it
  is answered, so the accept deadline measures something real.
* ``reject`` (with a reason: not our responsibility / duplicate / invalid) only
  from ``submitted`` and ``accepted``: it is an intake decision (退回). Once work
  has started the report is resolved or reassigned, so a reporter's "not fixed"
  cannot be answered by rejecting the report.
* ``reassign`` from any open state goes back to ``submitted``: the new assignee
  must acknowledge it. Only **staff** reassign (spec 02: "staff reassign"):
  dispatching is the community office's decision. An assignee who thinks a
  report is not theirs rejects it as "not our responsibility" at intake, or asks
  staff to move it; a department liaison holding a report cannot send it to
  another desk of their choosing.
* ``resolved`` waits for the reporter's "Is it fixed?": ``confirm`` (Yes) or the
  system's ``expire`` (no answer within ``confirm_fixed_days``) closes it;
  ``reopen`` (No) reopens it.
* ``reopened`` is open work again: the assignee accepts, posts progress or
  resolves it; staff may reassign.
* ``closed`` and ``rejected`` are final: nothing changes them.

``ask`` (the assignee's question), ``answer`` (the reporter's reply, text or
photos), ``remind`` and ``escalate`` (the deadline jobs) are recorded as events
and change no state; ``ask``/``remind``/``escalate`` exist only while the report
is open. ``answer`` is also allowed while ``resolved``: an assignee may resolve
a report before the reporter has answered their question, and the reporter's
answer (written, perhaps with photos, while the question was open) must not be
refused and lost — it is kept on the thread next to "Is it fixed?".

Who: the **assignee** (the person named on the report, or anyone holding the role
over the assignee's grid or department while nobody is named), **staff** of the
report's community (they dispatch and supervise), the **reporter**, and the
**system** (scheduler jobs). For a report filed on behalf of a resident without
Telegram, the staff member who filed it answers "Is it fixed?" for them (spec
02: "that resident is told of progress by the staff member"): the handler then
passes :attr:`ActorRole.REPORTER` for that person.

No Telegram, no SQL, no clock: ``now`` is passed in.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from civic.lifecycle import ActionVerdict, Rule, decide
from civic.places import CategoryType
from civic.reports_routing import Assignee

__all__ = [
    "CLOSED_STATES",
    "ERASED_TEXT",
    "OPEN_STATES",
    "SUBMIT_EVENT",
    "TRANSITIONS",
    "ActionVerdict",
    "ActorRole",
    "Attachment",
    "AttachmentKind",
    "DescriptionProblem",
    "Feedback",
    "RejectReason",
    "Report",
    "ReportAction",
    "ReportEvent",
    "ReportState",
    "Reporter",
    "Rule",
    "TrackingNumber",
    "check_description",
    "decide_action",
    "duplicate_window_start",
    "is_likely_duplicate",
    "normalise_phone",
]


class ReportState(StrEnum):
    """Where a report is in its lifecycle (spec 02, "States")."""

    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"
    REOPENED = "reopened"


OPEN_STATES: Final = frozenset(
    {ReportState.SUBMITTED, ReportState.ACCEPTED, ReportState.IN_PROGRESS, ReportState.REOPENED}
)
"""Work to do: shown in ``/queue``, subject to deadlines, offered for "me too"."""

CLOSED_STATES: Final = frozenset({ReportState.CLOSED, ReportState.REJECTED})
"""Final: no action changes them."""


class ReportAction(StrEnum):
    """Everything that can happen to a filed report; each becomes a :class:`ReportEvent`."""

    ACCEPT = "accept"
    PROGRESS = "progress"
    RESOLVE = "resolve"
    REJECT = "reject"
    REASSIGN = "reassign"
    REOPEN = "reopen"
    """The reporter answered "Is it fixed?" with No."""
    CONFIRM = "confirm"
    """The reporter answered "Is it fixed?" with Yes."""
    EXPIRE = "expire"
    """Nobody answered "Is it fixed?" in time: closed as resolved."""
    ASK = "ask"
    ANSWER = "answer"
    REMIND = "remind"
    ESCALATE = "escalate"


class ActorRole(StrEnum):
    """In what capacity someone acts on one report (one person may hold several)."""

    ASSIGNEE = "assignee"
    STAFF = "staff"
    """Staff of the report's community."""
    REPORTER = "reporter"
    SYSTEM = "system"


class RejectReason(StrEnum):
    """Why a report was rejected (spec 02), each shown in the reporter's language."""

    NOT_RESPONSIBLE = "not_responsible"
    """不属于本单位职责: not ours to handle."""
    DUPLICATE = "duplicate"
    """Already reported: the reporter is pointed to the earlier report."""
    INVALID = "invalid"
    """Not a real or not an actionable report."""


_WORKERS: Final = frozenset({ActorRole.ASSIGNEE, ActorRole.STAFF})
_STAFF: Final = frozenset({ActorRole.STAFF})
_REPORTER: Final = frozenset({ActorRole.REPORTER})
_SYSTEM: Final = frozenset({ActorRole.SYSTEM})
_S = ReportState
_A = ReportAction


def _open_state_rules() -> dict[ReportAction, Rule[ReportState, ActorRole]]:
    """What every open state allows: reassign, the thread, and the deadline jobs."""
    return {
        _A.REASSIGN: Rule(_S.SUBMITTED, _STAFF),
        _A.ASK: Rule(None, _WORKERS),
        _A.ANSWER: Rule(None, _REPORTER),
        _A.REMIND: Rule(None, _SYSTEM),
        _A.ESCALATE: Rule(None, _SYSTEM),
    }


TRANSITIONS: Final[Mapping[ReportState, Mapping[ReportAction, Rule[ReportState, ActorRole]]]] = {
    _S.SUBMITTED: {
        **_open_state_rules(),
        _A.ACCEPT: Rule(_S.ACCEPTED, _WORKERS),
        _A.REJECT: Rule(_S.REJECTED, _WORKERS),
    },
    _S.ACCEPTED: {
        **_open_state_rules(),
        _A.PROGRESS: Rule(_S.IN_PROGRESS, _WORKERS),
        _A.RESOLVE: Rule(_S.RESOLVED, _WORKERS),
        _A.REJECT: Rule(_S.REJECTED, _WORKERS),
    },
    _S.IN_PROGRESS: {
        **_open_state_rules(),
        _A.PROGRESS: Rule(_S.IN_PROGRESS, _WORKERS),
        _A.RESOLVE: Rule(_S.RESOLVED, _WORKERS),
    },
    _S.REOPENED: {
        **_open_state_rules(),
        _A.ACCEPT: Rule(_S.ACCEPTED, _WORKERS),
        _A.PROGRESS: Rule(_S.IN_PROGRESS, _WORKERS),
        _A.RESOLVE: Rule(_S.RESOLVED, _WORKERS),
    },
    _S.RESOLVED: {
        _A.CONFIRM: Rule(_S.CLOSED, _REPORTER),
        _A.REOPEN: Rule(_S.REOPENED, _REPORTER),
        _A.EXPIRE: Rule(_S.CLOSED, _SYSTEM),
        _A.ANSWER: Rule(None, _REPORTER),
    },
    _S.CLOSED: {},
    _S.REJECTED: {},
}
"""The lifecycle of spec 02: ``TRANSITIONS[state][action]`` is allowed, else not."""


def decide_action(
    state: ReportState, action: ReportAction, roles: Collection[ActorRole]
) -> tuple[ActionVerdict, ReportState | None]:
    """Whether someone in ``roles`` may take ``action`` now, and the state it leads to.

    The state is ``None`` when refused, or when the action changes no state.
    "Not now" wins over "not yours": a stale button says the report moved on,
    whoever pressed it.
    """
    return decide(TRANSITIONS, state, action, roles)


# -- tracking numbers ---------------------------------------------------------------


_NUMBER: Final = re.compile(r"^\s*([A-Za-z0-9_-]+?)-(\d{4})-(\d{4,})\s*$")


@dataclass(frozen=True, order=True)
class TrackingNumber:
    """``HD-2026-0042``: the community's code, the year, a sequence per community and year.

    The sequence is shown with at least four digits and grows past 9999 as
    needed; the year is the community's local year at submission, so a report
    filed at 00:30 on 1 January in Shanghai is numbered in the new year.
    """

    community_code: str
    year: int
    sequence: int

    def __post_init__(self) -> None:
        """Refuse numbers that could not be printed back as they were read."""
        if self.sequence < 1 or not 1000 <= self.year <= 9999:
            raise ValueError(f"not a tracking number: {self.community_code} {self.year}")

    def __str__(self) -> str:
        return f"{self.community_code}-{self.year}-{self.sequence:04d}"

    @classmethod
    def parse(cls, text: str) -> TrackingNumber | None:
        """Read a number a resident typed (any case, spaces around), or ``None``.

        The community code is read in capitals, as communities' codes are written
        (config validation refuses a community code that is not in capitals), so
        ``hd-2026-0042`` finds the report numbered ``HD-2026-0042``.
        """
        found = _NUMBER.match(text)
        if found is None or int(found.group(3)) < 1:
            return None
        return cls(found.group(1).upper(), int(found.group(2)), int(found.group(3)))


# -- the report ---------------------------------------------------------------------


class DescriptionProblem(StrEnum):
    """Why a description cannot be filed; each has its message."""

    EMPTY = "empty"
    TOO_LONG = "too_long"


def check_description(text: str, max_chars: int) -> DescriptionProblem | None:
    """``None`` when ``text`` can be filed (``[reports] description_max_chars``)."""
    stripped = text.strip()
    if not stripped:
        return DescriptionProblem.EMPTY
    if len(stripped) > max_chars:
        return DescriptionProblem.TOO_LONG
    return None


_PHONE: Final = re.compile(r"^\+?\d{5,15}$")


def normalise_phone(text: str) -> str | None:
    """A phone number staff typed, without spaces and dashes; ``None`` if it is not one.

    Landlines with area codes (``0851-1234567``) and mobiles (``138 0000 0000``)
    both pass; 5 digits is the shortest local number a village office may give.
    """
    compact = re.sub(r"[\s\-()]", "", text)
    return compact if _PHONE.match(compact) else None


ERASED_TEXT: Final = "[erased]"
"""What replaces a person's free text (a description, an answer, a comment) after
``/deleteme``; handlers show a catalog message instead of it."""


@dataclass(frozen=True)
class Reporter:
    """Who a report is from: a resident on Telegram, or one staff filed it for.

    Exactly one of ``user_id`` and ``name`` is set, unless the reporter erased
    their data (``erased``: neither is). ``phone`` goes with ``name``;
    ``filed_by`` is the staff member who filed it on the person's behalf.
    """

    user_id: int | None = None
    name: str | None = None
    phone: str | None = None
    filed_by: int | None = None
    erased: bool = False

    def __post_init__(self) -> None:
        """Refuse a report from nobody, or from both a user and a named person."""
        if self.erased:
            if self.user_id is not None or self.name is not None or self.phone is not None:
                raise ValueError("an erased reporter keeps neither user id nor name nor phone")
            return
        if (self.user_id is None) == (self.name is None):
            raise ValueError("a report is from a Telegram user or from a named person, not both")
        if self.name is not None and self.filed_by is None:
            raise ValueError("a report on someone's behalf records the staff member who filed it")

    @property
    def on_behalf(self) -> bool:
        return self.name is not None


@dataclass(frozen=True)
class Report:
    """A filed report as stored; ``id`` and ``number`` are set when it is filed."""

    community_code: str
    compound_code: str
    category_code: str
    category_type: CategoryType
    description: str
    reporter: Reporter
    assignee: Assignee
    created_at: datetime
    accept_by: datetime
    resolve_by: datetime
    state: ReportState = ReportState.SUBMITTED
    building_code: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    anonymous: bool = False
    """The reporter's name is shown to staff of the community only (spec 02, Anonymity)."""
    supports: int = 0
    """How many other residents said "me too"; raises its place on the staff card."""
    reject_reason: RejectReason | None = None
    duplicate_of: int | None = None
    updated_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    submit_update_id: int | None = None
    """The update that filed it: delivered twice, it files one report."""
    id: int | None = None
    number: TrackingNumber | None = None

    def __post_init__(self) -> None:
        """Refuse half a location and numbers from another community."""
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("a location has both latitude and longitude, or neither")
        if self.number is not None and self.number.community_code != self.community_code:
            raise ValueError("a report is numbered in its own community")

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


@dataclass(frozen=True)
class ReportEvent:
    """One change or message on a report: who, in what capacity, when, what, and a note.

    ``from_state``/``to_state`` are equal for actions that change no state.
    ``assignee`` is the new one for ``reassign`` (and the first one for the
    filing event); ``reason`` is set for ``reject``.
    """

    report_id: int
    kind: ReportAction | None
    """``None`` for the filing itself (the first event of every report)."""
    actor_role: ActorRole
    at: datetime
    to_state: ReportState
    from_state: ReportState | None = None
    actor_id: int | None = None
    """``None`` for the system, and for a person who erased their data."""
    note: str | None = None
    reason: RejectReason | None = None
    assignee: Assignee | None = None
    update_id: int | None = None
    id: int | None = None
    attachments: tuple[str, ...] = field(default=())
    """Telegram file ids attached with this event (photos of progress, an answer)."""


SUBMIT_EVENT: Final = "submit"
"""The stored kind of the filing event (:attr:`ReportEvent.kind` ``None``)."""


class AttachmentKind(StrEnum):
    """What a resident or an assignee can attach: how Telegram sends it back."""

    PHOTO = "photo"
    VOICE = "voice"
    """A voice note: kept as an attachment of the description (issue 6)."""
    DOCUMENT = "document"


@dataclass(frozen=True)
class Attachment:
    """A file attached to a report, with the event it came with and who sent it."""

    report_id: int
    file_id: str
    kind: AttachmentKind
    at: datetime
    event_id: int | None = None
    added_by: int | None = None
    id: int | None = None


@dataclass(frozen=True)
class Feedback:
    """The reporter's answer to "Is it fixed?" for one resolution, with a 1-5 rating."""

    report_id: int
    resolve_event_id: int
    fixed: bool
    at: datetime
    user_id: int | None = None
    rating: int | None = None
    comment: str | None = None

    def __post_init__(self) -> None:
        """Refuse a rating outside 1-5 (the table refuses it too)."""
        if self.rating is not None and not 1 <= self.rating <= 5:
            raise ValueError("a rating is 1 to 5")


# -- likely duplicates --------------------------------------------------------------


def duplicate_window_start(now: datetime, window_days: int) -> datetime:
    """Reports filed from this moment on count for "me too" (``duplicate_window_days``)."""
    return now - timedelta(days=window_days)


def is_likely_duplicate(
    existing: Report, compound_code: str, category_code: str, now: datetime, window_days: int
) -> bool:
    """Whether a new report here could be a "me too" on ``existing`` (spec 02).

    Same compound and category, still open, filed within the window. Resolved
    reports are not offered: their reporter is being asked whether it is fixed,
    and a new report is the honest answer if it is not.
    """
    return (
        existing.compound_code == compound_code
        and existing.category_code == category_code
        and existing.is_open
        and existing.created_at >= duplicate_window_start(now, window_days)
    )
