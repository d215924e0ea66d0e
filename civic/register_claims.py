"""Owner claims: a resident says "I own this unit", staff of the community decide.

Spec 01 ("Owner claims: unit, area, optional photo of the deed; staff of that
community approve or reject in chat") and spec 04 ("The owners' register":
"staff approve a resident's claim in chat (with a photo of the deed)"). An
approved claim makes the resident an *owner* of the unit (a :class:`Role.OWNER`
grant over the unit's scope) and *verified* (spec 01: "confirmed by staff").

Unit identity is what the register (a later issue) will key units by: compound,
building and unit label (:func:`civic.roles.unit_scope_code`); the exclusive area
is kept in integer hundredths of a square metre, because spec 04 counts areas to
two decimals and sums of floats drift (``0.1 + 0.2``). Areas are parsed with
:class:`decimal.Decimal` from the typed text, never through ``float``.

The claim flow (``register.claim``) is a flow over the ``flows`` table
(:mod:`civic.flows`, which says why and holds what every flow shares): state
committed before each reply, idempotent by ``update_id``, ``/cancel`` keeps the
draft. Its steps: building (only when the compound has buildings and the
resident has none on their profile) → unit (prefilled with the resident's) →
area → owner's name as on the deed → deed photo (or skip) → confirm (with Edit
and Back). Rejecting with a typed reason is a one-step flow of the staff member
(``register.reject``).

Notifications go through the outbox in the same transaction as the change they
announce; their wording lives in the catalogs, so use cases take a
:class:`ClaimNotices` that renders a message for one recipient in their language.
No Telegram, no SQL, no clock: ``now`` and the places are passed in.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final, Protocol

from civic.audit import AuditEntry
from civic.flows import (
    DONE_STEP,
    AnswerSteps,
    Flow,
    Gate,
    Steps,
    enter_flow,
    gate_answer,
    resumable,
    stored_step,
)
from civic.flows import GoBack as GoBack
from civic.outbox import OutgoingMessage
from civic.places import Places
from civic.residents import Resident, UnitCheck, VerificationLevel, check_unit
from civic.roles import (
    Action,
    Actor,
    Decision,
    Grant,
    Role,
    Scope,
    ScopeKind,
    admin_communities,
    admin_covers,
    decide,
    unit_scope_code,
)

if TYPE_CHECKING:
    from civic.ports import UnitOfWork

CLAIM: Final = "register.claim"
"""The flow of a resident claiming a unit."""
REJECT: Final = "register.reject"
"""The flow of a staff member typing the reason of a rejection."""

CLAIM_APPROVED: Final = "register.claim_approved"
CLAIM_REJECTED: Final = "register.claim_rejected"
"""Audit actions (:mod:`civic.audit`): details name the claim, unit and area, never the photo."""

MAX_NAME_CHARS: Final = 30
"""A name on a deed is a person's or a company's name, not a note (a long company name fits)."""
MAX_REASON_CHARS: Final = 200
"""The ``reason`` column; a reason longer than this is a letter, not a reason."""
MIN_AREA_CENTI: Final = 100
"""1.00 m²: anything smaller is a typo (a storage room is bigger)."""
MAX_AREA_CENTI: Final = 1_000_000
"""10 000.00 m²: a whole shop floor; more is a typo or the compound's total."""
PENDING_SHOWN: Final = 10
"""Claims ``/claims`` shows at once (one message each, with its buttons)."""

DEED_DOCUMENT_TYPES: Final = frozenset(
    {"image/jpeg", "image/png", "image/webp", "image/heic", "image/heif", "application/pdf"}
)
"""Files taken as the deed when sent as a document (uncompressed, or a scan as PDF):
what staff can open on any phone. Anything else (a Word file, an archive) is refused."""
DEED_DOCUMENT_SUFFIXES: Final = (".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".pdf")
"""The same files by name, for a document whose type Telegram did not recognise."""


class ClaimStatus(StrEnum):
    """Where a claim stands; only a pending one can be decided or withdrawn."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class RejectReason(StrEnum):
    """The common reasons staff choose with a button; each has a text in every language."""

    DEED_MISMATCH = "deed_mismatch"
    """The deed does not name this person or this unit."""
    AREA_DIFFERS = "area_differs"
    """The area on the deed differs from the one claimed."""
    ILLEGIBLE = "illegible"
    """The photo cannot be read."""
    NO_DEED = "no_deed"
    """No photo of the deed: staff want to see it (or the original at the office)."""


# -- areas ---------------------------------------------------------------------------------


class AreaCheck(StrEnum):
    OK = "ok"
    EMPTY = "empty"
    NOT_A_NUMBER = "not_a_number"
    TOO_PRECISE = "too_precise"
    """More than two decimals (also "1,000": a thousands separator reads as a decimal comma)."""
    OUT_OF_RANGE = "out_of_range"


_AREA_UNITS: Final = ("平方米", "平米", "m2")
"""Units people type after the number, after NFKC (which turns "㎡" and "m²" into "m2")."""
_AREA_NUMBER: Final = re.compile(r"(\d{1,9})(?:\.(\d+))?")


def parse_area(text: str) -> tuple[AreaCheck, int]:
    """Read a typed area ("89", "89.5", "89,5", "89.5㎡", "89.5平方米") as hundredths of m².

    NFKC first, so full-width digits and points ("８９．５") and "㎡" read as
    their plain forms; one decimal comma is a decimal point (as written in
    much of the world). Decimal arithmetic only: ``89.5`` is ``8950``, exactly.
    """
    cleaned = unicodedata.normalize("NFKC", text).strip().lower().replace(" ", "")
    for unit in _AREA_UNITS:
        if cleaned.endswith(unit):
            cleaned = cleaned[: -len(unit)]
            break
    if not cleaned:
        return AreaCheck.EMPTY, 0
    if cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    match = _AREA_NUMBER.fullmatch(cleaned)
    if match is None:
        return AreaCheck.NOT_A_NUMBER, 0
    decimals = match.group(2) or ""
    if len(decimals) > 2:
        return AreaCheck.TOO_PRECISE, 0
    try:
        centi = int(Decimal(cleaned).scaleb(2))
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        return AreaCheck.NOT_A_NUMBER, 0
    if not MIN_AREA_CENTI <= centi <= MAX_AREA_CENTI:
        return AreaCheck.OUT_OF_RANGE, centi
    return AreaCheck.OK, centi


def format_area(centi: int) -> str:
    """Hundredths of m² as the register writes them: ``8950`` → ``"89.50"``."""
    return f"{centi // 100}.{centi % 100:02d}"


class DeedKind(StrEnum):
    """How the deed was sent: staff see it again the same way (a photo, or the file)."""

    PHOTO = "photo"
    DOCUMENT = "document"


def deed_document_accepted(mime_type: str | None, file_name: str | None) -> bool:
    """Whether a document sent at the photo step can be the deed (an image or a PDF).

    The type Telegram reports decides; only when it has none, or the generic
    ``application/octet-stream``, does the file's name.
    """
    mime = (mime_type or "").lower()
    if mime in DEED_DOCUMENT_TYPES:
        return True
    if mime and mime != "application/octet-stream":
        return False
    return (file_name or "").lower().endswith(DEED_DOCUMENT_SUFFIXES)


# -- names ---------------------------------------------------------------------------------


class NameCheck(StrEnum):
    OK = "ok"
    EMPTY = "empty"
    TOO_LONG = "too_long"
    INVALID = "invalid"
    """Control characters or line breaks: a name is one line."""


def check_name(text: str) -> tuple[NameCheck, str]:
    """Validate the owner's name as on the deed; return the outcome and the cleaned name.

    Space at both ends is dropped and inner runs become one space ("王 芳" stays
    as written, "Wang   Fang" becomes "Wang Fang"); length counts characters.
    """
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} for ch in text):
        return NameCheck.INVALID, ""
    cleaned = " ".join(text.split())
    if not cleaned:
        return NameCheck.EMPTY, ""
    if len(cleaned) > MAX_NAME_CHARS:
        return NameCheck.TOO_LONG, cleaned
    return NameCheck.OK, cleaned


def check_reason(text: str) -> tuple[NameCheck, str]:
    """A typed rejection reason: the outcome and the cleaned reason (one line, trimmed)."""
    cleaned = " ".join(text.split())
    if not cleaned:
        return NameCheck.EMPTY, ""
    if len(cleaned) > MAX_REASON_CHARS:
        return NameCheck.TOO_LONG, cleaned
    return NameCheck.OK, cleaned


# -- claims ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """One person's claim to own one unit, as stored."""

    user_id: int
    community_code: str
    compound_code: str
    building_code: str | None
    unit_label: str
    area_centi_m2: int
    owner_name: str
    deed_file_id: str | None
    created_at: datetime
    deed_kind: DeedKind | None = None
    """How the deed was sent (``None`` with no deed; a stored deed without it is a photo)."""
    status: ClaimStatus = ClaimStatus.PENDING
    reason_code: RejectReason | None = None
    reason: str | None = None
    decided_by: int | None = None
    decided_at: datetime | None = None
    id: int | None = None

    @property
    def unit_scope(self) -> Scope:
        """The scope of the owner grant an approval gives (how the register will key it)."""
        return Scope(
            ScopeKind.UNIT, unit_scope_code(self.compound_code, self.building_code, self.unit_label)
        )

    @property
    def unit_key(self) -> tuple[str, str | None, str]:
        return (self.compound_code, self.building_code, self.unit_label)

    @property
    def pending(self) -> bool:
        return self.status is ClaimStatus.PENDING

    @property
    def deed_is_document(self) -> bool:
        """The deed was sent as a file: staff get it back with ``sendDocument``."""
        return self.deed_file_id is not None and self.deed_kind is DeedKind.DOCUMENT


class ClaimNotices(Protocol):
    """Renders the messages claims send through the outbox, in the recipient's language.

    The handlers implement it with the catalogs and the button codec; use cases
    decide who gets what and queue it with the change.
    """

    def to_reviewer(self, claim: Claim, reviewer_id: int, language: str | None) -> OutgoingMessage:
        """A new claim waits for ``reviewer_id`` (with a "Review" button)."""
        ...

    def to_claimant(self, claim: Claim, language: str | None) -> OutgoingMessage:
        """The claimant learns the decision (approved, or rejected with the reason)."""
        ...


# -- the claim flow -------------------------------------------------------------------------


class Step(StrEnum):
    BUILDING = "building"
    UNIT = "unit"
    AREA = "area"
    NAME = "name"
    PHOTO = "photo"
    CONFIRM = "confirm"
    DONE = DONE_STEP


STEPS: Final = Steps(Step.BUILDING, Step.UNIT, Step.AREA, Step.NAME, Step.PHOTO, Step.CONFIRM)
EDITABLE: Final = frozenset({Step.BUILDING, Step.UNIT, Step.AREA, Step.NAME, Step.PHOTO})
TEXT_STEPS: Final = frozenset({Step.UNIT, Step.AREA, Step.NAME})
"""Steps answered by typing; elsewhere text gets "use the buttons" (or "send a photo")."""


@dataclass(frozen=True)
class ClaimDraft:
    """What the claimant entered so far (the flow row's JSON)."""

    community_code: str | None = None
    compound_code: str | None = None
    building_code: str | None = None
    own_building: bool = False
    """The building is the resident's own (from the profile): there is no building step."""
    unit_label: str | None = None
    area_centi_m2: int | None = None
    owner_name: str | None = None
    deed_file_id: str | None = None
    deed_kind: DeedKind | None = None
    photo_answered: bool = False
    """A photo was sent or skipped (``deed_file_id`` ``None`` then means skipped)."""
    editing: bool = False
    """Came from the summary's Edit: answering goes back to the summary."""
    claim_id: int | None = None
    """The claim a confirmed draft made (kept on the finished flow, for a redelivered confirm)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "community": self.community_code,
            "compound": self.compound_code,
            "building": self.building_code,
            "own_building": self.own_building,
            "unit": self.unit_label,
            "area_centi_m2": self.area_centi_m2,
            "owner_name": self.owner_name,
            "deed_file_id": self.deed_file_id,
            "deed_kind": None if self.deed_kind is None else self.deed_kind.value,
            "photo_answered": self.photo_answered,
            "editing": self.editing,
            "claim_id": self.claim_id,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ClaimDraft:
        """Read a draft back; a value of the wrong shape is dropped, never trusted."""

        def text(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) and value else None

        def integer(key: str) -> int | None:
            value = data.get(key)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        area = integer("area_centi_m2")
        kind = text("deed_kind")
        return cls(
            community_code=text("community"),
            compound_code=text("compound"),
            building_code=text("building"),
            own_building=data.get("own_building") is True,
            unit_label=text("unit"),
            area_centi_m2=area if area is not None and area > 0 else None,
            owner_name=text("owner_name"),
            deed_file_id=text("deed_file_id"),
            deed_kind=next((k for k in DeedKind if k.value == kind), None),
            photo_answered=data.get("photo_answered") is True,
            editing=data.get("editing") is True,
            claim_id=integer("claim_id"),
        )

    @classmethod
    def for_resident(cls, resident: Resident) -> ClaimDraft:
        """A new claim, prefilled with the resident's place and unit."""
        return cls(
            community_code=resident.community_code,
            compound_code=resident.compound_code,
            building_code=resident.building_code,
            own_building=resident.building_code is not None,
            unit_label=resident.unit_label,
        )

    def at_address_of(self, resident: Resident) -> ClaimDraft:
        """This draft for the resident's current compound (they may have moved meanwhile).

        The place follows the profile; the area, name and photo stay (nothing lost).
        """
        if (self.community_code, self.compound_code) == (
            resident.community_code,
            resident.compound_code,
        ) and (not self.own_building or self.building_code == resident.building_code):
            return self
        return replace(
            self,
            community_code=resident.community_code,
            compound_code=resident.compound_code,
            building_code=resident.building_code,
            own_building=resident.building_code is not None,
            unit_label=resident.unit_label or self.unit_label,
        )

    @staticmethod
    def exported(data: Mapping[str, Any]) -> dict[str, Any]:
        """A stored draft as ``/mydata`` shows it: whether a deed was given, not its file id.

        The file id is a key to the file on Telegram's servers, not data about
        the person (as for stored claims, :mod:`storage.personal_data`).
        """
        shown = {k: v for k, v in data.items() if k != "deed_file_id"}
        return shown | {"deed_photo_given": bool(data.get("deed_file_id"))}

    def pruned(self, places: Places) -> ClaimDraft:
        """Without a building that no longer exists or is not in the compound."""
        building = next((b for b in places.buildings if b.code == self.building_code), None)
        if self.building_code is not None and (
            building is None or building.compound_code != self.compound_code
        ):
            return replace(self, building_code=None, own_building=False)
        return self


def _applies(step: Step, draft: ClaimDraft, places: Places) -> bool:
    if step is Step.BUILDING:
        return not draft.own_building and bool(places.buildings_of(draft.compound_code or ""))
    return True


def _answered(step: Step, draft: ClaimDraft) -> bool:
    """Whether the draft holds what ``step`` asks for (a skipped photo is an answer)."""
    needed = {
        Step.BUILDING: draft.building_code is not None,
        Step.UNIT: draft.unit_label is not None,
        Step.AREA: draft.area_centi_m2 is not None,
        Step.NAME: draft.owner_name is not None,
        Step.PHOTO: draft.photo_answered,
    }
    return needed.get(step, True)


def first_missing(draft: ClaimDraft, places: Places) -> Step | None:
    """The earliest step whose answer the draft lacks, or ``None`` when it can be confirmed."""
    return STEPS.first(lambda step: _applies(step, draft, places) and not _answered(step, draft))


def next_step(after: Step, draft: ClaimDraft, places: Places) -> Step:
    """The step after ``after``; an edit from the summary returns to it (or to a gap)."""
    if draft.editing:
        return first_missing(draft, places) or Step.CONFIRM
    return STEPS.after(after, lambda step: _applies(step, draft, places)) or Step.CONFIRM


def previous_step(before: Step, draft: ClaimDraft, places: Places) -> Step | None:
    """The step Back leads to, or ``None`` on the first one."""
    return STEPS.before(before, lambda step: _applies(step, draft, places))


def first_step(draft: ClaimDraft, places: Places) -> Step:
    return STEPS.first(lambda step: _applies(step, draft, places)) or Step.CONFIRM


def current(flow: Flow, places: Places) -> tuple[Step, ClaimDraft]:
    """Where a stored claim flow stands, against today's places."""
    draft = ClaimDraft.from_json(flow.draft).pruned(places)
    if flow.finished:
        return Step.DONE, draft
    step = stored_step(flow, Step, Step.DONE)
    if step in (Step.DONE, Step.CONFIRM) or not _applies(step, draft, places):
        step = first_missing(draft, places) or Step.CONFIRM
    return step, draft


# -- answers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChooseBuilding:
    code: str


@dataclass(frozen=True)
class EnterUnit:
    text: str


@dataclass(frozen=True)
class KeepUnit:
    """The "use 3单元502" button: the unit already in the draft."""


@dataclass(frozen=True)
class EnterArea:
    text: str


@dataclass(frozen=True)
class EnterName:
    text: str


@dataclass(frozen=True)
class GivePhoto:
    file_id: str
    """Telegram's file id of the largest size of the photo, or of the document."""
    kind: DeedKind = DeedKind.PHOTO


@dataclass(frozen=True)
class SkipPhoto:
    pass


@dataclass(frozen=True)
class ConfirmClaim:
    pass


@dataclass(frozen=True)
class EditStep:
    step: Step
    """The step to answer again; the summary comes back after it."""


Answer = (
    ChooseBuilding
    | EnterUnit
    | KeepUnit
    | EnterArea
    | EnterName
    | GivePhoto
    | SkipPhoto
    | ConfirmClaim
    | GoBack[Step]
    | EditStep
)

_ANSWER_STEPS: Final = AnswerSteps(
    {
        ChooseBuilding: Step.BUILDING,
        EnterUnit: Step.UNIT,
        KeepUnit: Step.UNIT,
        EnterArea: Step.AREA,
        EnterName: Step.NAME,
        GivePhoto: Step.PHOTO,
        SkipPhoto: Step.PHOTO,
        ConfirmClaim: Step.CONFIRM,
        EditStep: Step.CONFIRM,  # the summary's Edit buttons: shown on the confirm step
    }
)


def step_of(answer: Answer) -> Step:
    return _ANSWER_STEPS.of(answer)


class ClaimOutcome(StrEnum):
    """What a claim-flow answer came to; every refusal has its own message."""

    MOVED = "moved"
    WRONG_STEP = "wrong_step"
    """The answer belongs to another step: an old button, a double tap, text for a button."""
    UNKNOWN_PLACE = "unknown_place"
    UNIT_EMPTY = "unit_empty"
    UNIT_TOO_LONG = "unit_too_long"
    UNIT_INVALID = "unit_invalid"
    AREA_EMPTY = "area_empty"
    AREA_NOT_A_NUMBER = "area_not_a_number"
    AREA_TOO_PRECISE = "area_too_precise"
    AREA_OUT_OF_RANGE = "area_out_of_range"
    NAME_EMPTY = "name_empty"
    NAME_TOO_LONG = "name_too_long"
    NAME_INVALID = "name_invalid"
    CONFIRMED = "confirmed"
    """The pure step function's "done": the use case turns it into SUBMITTED or ALREADY_PENDING."""
    SUBMITTED = "submitted"
    """A new pending claim; staff were notified."""
    ALREADY_PENDING = "already_pending"
    """This person's claim to this unit already waits for staff: nothing duplicated."""
    NOT_REGISTERED = "not_registered"
    NO_FLOW = "no_flow"
    OTHER_MESSAGE = "other_message"
    """A button of a message the flow has left."""
    REPLAYED = "replayed"
    """This update was applied already (redelivered after a crash): answer again only."""

    @property
    def refused_input(self) -> bool:
        return self in _INPUT_REFUSALS


_INPUT_REFUSALS: Final = frozenset(
    {
        ClaimOutcome.UNIT_EMPTY,
        ClaimOutcome.UNIT_TOO_LONG,
        ClaimOutcome.UNIT_INVALID,
        ClaimOutcome.AREA_EMPTY,
        ClaimOutcome.AREA_NOT_A_NUMBER,
        ClaimOutcome.AREA_TOO_PRECISE,
        ClaimOutcome.AREA_OUT_OF_RANGE,
        ClaimOutcome.NAME_EMPTY,
        ClaimOutcome.NAME_TOO_LONG,
        ClaimOutcome.NAME_INVALID,
    }
)

_UNIT_OUTCOMES: Final = {
    UnitCheck.EMPTY: ClaimOutcome.UNIT_EMPTY,
    UnitCheck.TOO_LONG: ClaimOutcome.UNIT_TOO_LONG,
    UnitCheck.INVALID: ClaimOutcome.UNIT_INVALID,
}
_AREA_OUTCOMES: Final = {
    AreaCheck.EMPTY: ClaimOutcome.AREA_EMPTY,
    AreaCheck.NOT_A_NUMBER: ClaimOutcome.AREA_NOT_A_NUMBER,
    AreaCheck.TOO_PRECISE: ClaimOutcome.AREA_TOO_PRECISE,
    AreaCheck.OUT_OF_RANGE: ClaimOutcome.AREA_OUT_OF_RANGE,
}
_NAME_OUTCOMES: Final = {
    NameCheck.EMPTY: ClaimOutcome.NAME_EMPTY,
    NameCheck.TOO_LONG: ClaimOutcome.NAME_TOO_LONG,
    NameCheck.INVALID: ClaimOutcome.NAME_INVALID,
}


@dataclass(frozen=True)
class Transition:
    outcome: ClaimOutcome
    step: Step
    draft: ClaimDraft


def answer_step(step: Step, draft: ClaimDraft, answer: Answer, places: Places) -> Transition:
    """Apply one answer to the claim flow at ``step``: the pure heart of claiming.

    A refused answer leaves the step and the draft as they were: nothing
    entered is lost (an over-long name keeps the unit, area and photo).
    """
    if step_of(answer) != step:
        return Transition(ClaimOutcome.WRONG_STEP, step, draft)
    match answer:
        case GoBack():
            previous = previous_step(step, draft, places)
            if previous is None:
                return Transition(ClaimOutcome.WRONG_STEP, step, draft)
            return Transition(ClaimOutcome.MOVED, previous, replace(draft, editing=False))
        case EditStep(target):
            if target not in EDITABLE or not _applies(target, draft, places):
                return Transition(ClaimOutcome.WRONG_STEP, step, draft)
            return Transition(ClaimOutcome.MOVED, target, replace(draft, editing=True))
        case ChooseBuilding(code):
            building = next((b for b in places.buildings if b.code == code), None)
            if building is None or building.compound_code != draft.compound_code:
                return Transition(ClaimOutcome.UNKNOWN_PLACE, step, draft)
            draft = replace(draft, building_code=building.code)
        case EnterUnit(text):
            check, label = check_unit(text)
            if check is not UnitCheck.OK:
                return Transition(_UNIT_OUTCOMES[check], step, draft)
            draft = replace(draft, unit_label=label)
        case KeepUnit():
            if draft.unit_label is None:
                return Transition(ClaimOutcome.WRONG_STEP, step, draft)
        case EnterArea(text):
            area_check, centi = parse_area(text)
            if area_check is not AreaCheck.OK:
                return Transition(_AREA_OUTCOMES[area_check], step, draft)
            draft = replace(draft, area_centi_m2=centi)
        case EnterName(text):
            name_check, name = check_name(text)
            if name_check is not NameCheck.OK:
                return Transition(_NAME_OUTCOMES[name_check], step, draft)
            draft = replace(draft, owner_name=name)
        case GivePhoto(file_id, kind):
            draft = replace(draft, deed_file_id=file_id, deed_kind=kind, photo_answered=True)
        case SkipPhoto():
            draft = replace(draft, deed_file_id=None, deed_kind=None, photo_answered=True)
        case ConfirmClaim():
            missing = first_missing(draft, places)
            if missing is not None:
                return Transition(ClaimOutcome.MOVED, missing, draft)
            return Transition(ClaimOutcome.CONFIRMED, Step.DONE, replace(draft, editing=False))
    moved_to = next_step(step, draft, places)
    if moved_to is Step.CONFIRM:
        draft = replace(draft, editing=False)
    return Transition(ClaimOutcome.MOVED, moved_to, draft)


def new_claim(user_id: int, draft: ClaimDraft, now: datetime) -> Claim:
    """The claim a confirmed draft makes."""
    if (
        draft.community_code is None
        or draft.compound_code is None
        or draft.unit_label is None
        or draft.area_centi_m2 is None
        or draft.owner_name is None
    ):
        raise ValueError("an incomplete draft cannot make a claim")
    return Claim(
        user_id=user_id,
        community_code=draft.community_code,
        compound_code=draft.compound_code,
        building_code=draft.building_code,
        unit_label=draft.unit_label,
        area_centi_m2=draft.area_centi_m2,
        owner_name=draft.owner_name,
        deed_file_id=draft.deed_file_id,
        created_at=now,
        deed_kind=(draft.deed_kind or DeedKind.PHOTO) if draft.deed_file_id else None,
    )


# -- use cases: claiming ----------------------------------------------------------------------


class StartClaim(StrEnum):
    STARTED = "started"
    RESUMED = "resumed"
    """A draft left with /cancel goes on where it was."""
    NOT_REGISTERED = "not_registered"
    """Only residents claim: the claim is for their own compound."""


@dataclass(frozen=True)
class StartClaimResult:
    outcome: StartClaim
    flow: Flow | None = None
    previous_message_id: int | None = None
    """The message the resumed flow was on: its buttons are retired."""
    pending: tuple[Claim, ...] = ()
    """The person's claims waiting for staff (shown so they do not claim twice)."""


async def start_claim(
    uow: UnitOfWork, user_id: int, places: Places, now: datetime, update_id: int
) -> StartClaimResult:
    """``/claim``: begin a claim for a unit of one's compound, or resume the draft."""
    async with uow:
        resident = await uow.residents.get(user_id)
        if resident is None:
            return StartClaimResult(StartClaim.NOT_REGISTERED)
        pending = tuple(c for c in await uow.register_claims.of_user(user_id) if c.pending)
        flow = await uow.flows.get(user_id, CLAIM)
        if flow is not None and flow.has_seen(update_id):
            return StartClaimResult(StartClaim.RESUMED, flow, pending=pending)
        resumed = resumable(flow)
        if resumed is not None:
            step, draft = current(resumed, places)
            moved = draft.at_address_of(resident).pruned(places)
            if moved != draft:
                step, draft = first_missing(moved, places) or Step.CONFIRM, moved
        else:
            draft = ClaimDraft.for_resident(resident).pruned(places)
            step = first_step(draft, places)
        started = await enter_flow(
            uow, user_id, CLAIM, step.value, draft.to_json(), update_id=update_id, now=now
        )
        await uow.commit()
    return StartClaimResult(
        StartClaim.RESUMED if resumed else StartClaim.STARTED,
        started,
        previous_message_id=resumed.message_id if resumed else None,
        pending=pending,
    )


@dataclass(frozen=True)
class ClaimAnswerResult:
    outcome: ClaimOutcome
    flow: Flow | None = None
    claim: Claim | None = None

    @property
    def draft(self) -> ClaimDraft:
        return ClaimDraft.from_json(self.flow.draft) if self.flow else ClaimDraft()


async def answer_claim(
    uow: UnitOfWork,
    user_id: int,
    answer: Answer,
    places: Places,
    now: datetime,
    update_id: int,
    message_id: int | None,
    notices: ClaimNotices,
    admin_ids: Collection[int] = (),
) -> ClaimAnswerResult:
    """Apply a press, a typed text or a photo to the person's claim flow.

    Confirming stores one pending claim (however often the update is delivered:
    the finished flow remembers the update and the claim) and queues a note to
    every reviewer (:func:`reviewers_of`) in the same transaction.
    """
    async with uow:
        gate = await gate_answer(uow, user_id, (CLAIM,), update_id, message_id)
        flow = gate.flow
        if gate.gate is Gate.REPLAYED and flow is not None:
            claim_id = ClaimDraft.from_json(flow.draft).claim_id
            claim = await uow.register_claims.get(claim_id) if claim_id is not None else None
            return ClaimAnswerResult(ClaimOutcome.REPLAYED, flow, claim)
        if not gate.open or flow is None:
            return ClaimAnswerResult(ClaimOutcome(gate.gate.value), flow)
        resident = await uow.residents.get(user_id)
        if resident is None:
            return ClaimAnswerResult(ClaimOutcome.NOT_REGISTERED, flow)
        step, draft = current(flow, places)
        transition = answer_step(step, draft, answer, places)
        if transition.outcome is not ClaimOutcome.CONFIRMED:
            if transition.outcome is not ClaimOutcome.MOVED:
                return ClaimAnswerResult(transition.outcome, flow)
            moved = flow.moved(
                step=transition.step.value,
                draft=transition.draft.to_json(),
                update_id=update_id,
                now=now,
                message_id=message_id,
            )
            await uow.flows.save(moved)
            await uow.commit()
            return ClaimAnswerResult(ClaimOutcome.MOVED, moved)
        draft = transition.draft.at_address_of(resident).pruned(places)
        if draft != transition.draft:  # moved house meanwhile: check the place again
            missing = first_missing(draft, places) or Step.CONFIRM
            moved = flow.moved(step=missing.value, draft=draft.to_json(), update_id=None, now=now)
            await uow.flows.save(moved)
            await uow.commit()
            return ClaimAnswerResult(ClaimOutcome.MOVED, moved)
        claim = new_claim(user_id, draft, now)
        existing = await uow.register_claims.pending_for(user_id, *claim.unit_key)
        outcome = ClaimOutcome.ALREADY_PENDING
        if existing is None:
            claim = replace(claim, id=await uow.register_claims.add(claim))
            outcome = ClaimOutcome.SUBMITTED
            await _notify_reviewers(uow, claim, places, notices, admin_ids, now)
        else:
            claim = existing
        finished = flow.moved(
            step=Step.DONE.value,
            # The claim holds the photo now; the finished draft keeps no copy of its key.
            draft=replace(draft, claim_id=claim.id, deed_file_id=None, deed_kind=None).to_json(),
            update_id=update_id,
            now=now,
            active=False,
        )
        await uow.flows.save(finished)
        await uow.commit()
        return ClaimAnswerResult(outcome, finished, claim)


async def reviewers_of(
    uow: UnitOfWork,
    community_code: str,
    places: Places,
    admin_ids: Collection[int] = (),
    *,
    claimant: int | None = None,
) -> list[int]:
    """Who is told of a new claim: the community's staff; without staff, its admins.

    Township admins of the community's township when there are any, else the
    county admins (those of ``[admins] telegram_ids`` included), so that a claim
    never waits unseen in a community nobody staffs yet. The ``claimant`` never
    reviews their own claim, so a staff member's claim goes to the other staff,
    or to the admins when they are the community's only one.
    """
    others = {claimant}
    staff = {
        g.user_id for g in await uow.roles.in_community(community_code) if g.role is Role.STAFF
    } - others
    if staff:
        return sorted(staff)
    admins = await uow.roles.holders(Role.ADMIN)
    township = {
        g.user_id
        for g in admins
        if g.scope.kind is ScopeKind.TOWNSHIP and admin_covers(g, community_code, places)
    } - others
    if township:
        return sorted(township)
    county = {g.user_id for g in admins if g.scope.kind is ScopeKind.COUNTY}
    return sorted((county | set(admin_ids)) - others)


def review_notice_key(claim_id: int, reviewer_id: int) -> str:
    """The outbox ``dedupe_key`` of the note telling a reviewer of a new claim."""
    return f"{review_notices_prefix(claim_id)}{reviewer_id}"


def review_notices_prefix(claim_id: int) -> str:
    """What every reviewer's note about a claim's key starts with (to take them back)."""
    return f"register:claim:{claim_id}:review:"


async def _notify_reviewers(
    uow: UnitOfWork,
    claim: Claim,
    places: Places,
    notices: ClaimNotices,
    admin_ids: Collection[int],
    now: datetime,
) -> None:
    recipients = await reviewers_of(
        uow, claim.community_code, places, admin_ids, claimant=claim.user_id
    )
    messages = [
        notices.to_reviewer(claim, reviewer, await uow.residents.language_of(reviewer))
        for reviewer in recipients
    ]
    await uow.outbox.enqueue(messages, now)


class WithdrawOutcome(StrEnum):
    WITHDRAWN = "withdrawn"
    ALREADY_DECIDED = "already_decided"
    """Staff decided first (or it was withdrawn already): nothing changed."""
    NOT_FOUND = "not_found"
    """No such claim of this person (erased, or someone else's button)."""


async def withdraw_claim(
    uow: UnitOfWork, user_id: int, claim_id: int, now: datetime
) -> tuple[WithdrawOutcome, Claim | None]:
    """The claimant takes back a pending claim (idempotent: a second press changes nothing).

    Reviewers' notes not sent yet are taken back with it: they would ask staff
    to review a claim that no longer waits, showing its owner's name and unit.
    """
    async with uow:
        claim = await uow.register_claims.get(claim_id)
        if claim is None or claim.user_id != user_id:
            return WithdrawOutcome.NOT_FOUND, None
        if not await uow.register_claims.settle(
            claim_id, ClaimStatus.WITHDRAWN, by=user_id, now=now
        ):
            return WithdrawOutcome.ALREADY_DECIDED, claim
        await uow.outbox.discard_pending(review_notices_prefix(claim_id))
        await uow.commit()
    return WithdrawOutcome.WITHDRAWN, replace(
        claim, status=ClaimStatus.WITHDRAWN, decided_by=user_id, decided_at=now
    )


async def owner_standing(uow: UnitOfWork, user_id: int) -> tuple[list[Grant], int]:
    """``/me``: the person's live owner grants, and how many of their claims wait for staff."""
    async with uow:
        grants = [g for g in await uow.roles.of_user(user_id) if g.role is Role.OWNER]
        waiting = sum(1 for c in await uow.register_claims.of_user(user_id) if c.pending)
    return grants, waiting


def split_unit_scope(code: str) -> tuple[str, str | None, str]:
    """Compound, building and unit label of a unit scope code (:func:`unit_scope_code`)."""
    compound, building, unit = code.split("/", 2)
    return compound, (None if building == "-" else building), unit


# -- use cases: reviewing ----------------------------------------------------------------------


class ReviewAccess(StrEnum):
    """Whether a person may review claims of a community; every refusal has its message."""

    ALLOWED = "allowed"
    NOT_STAFF = "not_staff"
    OTHER_COMMUNITY = "other_community"
    POSITION = "position"
    NAME_COMMUNITY = "name_community"
    """An admin (or staff of several communities) must say which community: ``/claims HD``."""
    UNKNOWN_COMMUNITY = "unknown_community"


_DECISION_ACCESS: Final = {
    Decision.ALLOWED: ReviewAccess.ALLOWED,
    Decision.NOT_STAFF: ReviewAccess.NOT_STAFF,
    Decision.OTHER_COMMUNITY: ReviewAccess.OTHER_COMMUNITY,
    Decision.POSITION: ReviewAccess.POSITION,
}


def review_access(actor: Actor, community_code: str, places: Places) -> ReviewAccess:
    """:func:`civic.roles.decide` for :data:`Action.REVIEW_CLAIMS`, as a review outcome."""
    return _DECISION_ACCESS[decide(actor, Action.REVIEW_CLAIMS, community_code, places)]


def review_community(
    actor: Actor, named: str | None, places: Places
) -> tuple[ReviewAccess, str | None]:
    """Which community ``/claims [CODE]`` is about, and whether the actor may review it.

    Staff of one community need not name it; admins name it unless their scope
    holds a single community.
    """
    if named:
        community = next((c for c in places.communities if c.code.upper() == named.upper()), None)
        if community is None:
            return ReviewAccess.UNKNOWN_COMMUNITY, None
        return review_access(actor, community.code, places), community.code
    staff_of = {
        g.community_code
        for g in actor.grants
        if g.role is Role.STAFF and g.community_code is not None
    }
    if len(staff_of) == 1:
        code = next(iter(staff_of))
        return review_access(actor, code, places), code
    covered = admin_communities(actor, places)
    if not staff_of and not covered:
        return review_access(actor, "", places), None
    if not staff_of and len(covered) == 1:
        return ReviewAccess.ALLOWED, covered[0]
    return ReviewAccess.NAME_COMMUNITY, None


@dataclass(frozen=True)
class PendingClaims:
    claims: list[Claim]
    total: int
    """Pending claims the viewer may decide (their own left out)."""
    own: int = 0
    """The viewer's own pending claims, left out: someone else decides them."""


async def pending_claims(
    uow: UnitOfWork, community_code: str, viewer: int | None = None
) -> PendingClaims:
    """The community's pending claims, oldest first (the first :data:`PENDING_SHOWN`).

    The ``viewer``'s own claims are left out and counted: nobody decides their own.
    """
    async with uow:
        repo = uow.register_claims
        claims = await repo.pending_in(community_code, PENDING_SHOWN, excluding=viewer)
        total = await repo.count_pending_in(community_code, excluding=viewer)
        everyone = total if viewer is None else await repo.count_pending_in(community_code)
    return PendingClaims(claims, total, everyone - total)


class ReviewOutcome(StrEnum):
    SHOWN = "shown"
    """The claim, for the reviewer to decide (or its photo)."""
    DECIDED = "decided"
    ALREADY_DECIDED = "already_decided"
    """Someone decided first (or the claimant withdrew): the claim shows who and when."""
    NOT_FOUND = "not_found"
    """No such claim any more (the claimant erased their data)."""
    REFUSED = "refused"
    """Not staff of the claim's community, nor an admin covering it."""
    OWN_CLAIM = "own_claim"
    """The reviewer's own claim: another staff member or an admin decides it, never they."""
    NO_PHOTO = "no_photo"
    REASON_EMPTY = "reason_empty"
    REASON_TOO_LONG = "reason_too_long"


@dataclass(frozen=True)
class ReviewResult:
    outcome: ReviewOutcome
    claim: Claim | None = None
    access: ReviewAccess = ReviewAccess.ALLOWED
    flow: Flow | None = None


async def review_claim(
    uow: UnitOfWork, actor: Actor, claim_id: int, places: Places
) -> ReviewResult:
    """A claim for a reviewer: only staff of its community or admins covering it see it.

    Also the permission check of "Show deed photo": the caller sends the photo
    only when this says ``SHOWN`` (spec 01: deed photos are visible only to
    staff of that community).
    """
    async with uow:
        claim = await uow.register_claims.get(claim_id)
    return _visible(actor, claim, places)


def _visible(actor: Actor, claim: Claim | None, places: Places) -> ReviewResult:
    if claim is None:
        return ReviewResult(ReviewOutcome.NOT_FOUND)
    access = review_access(actor, claim.community_code, places)
    if access is not ReviewAccess.ALLOWED:
        return ReviewResult(ReviewOutcome.REFUSED, access=access)
    if claim.user_id == actor.user_id:
        # Approving makes an owner, a voter of the unit: never on one's own word.
        return ReviewResult(ReviewOutcome.OWN_CLAIM)
    if not claim.pending:
        return ReviewResult(ReviewOutcome.ALREADY_DECIDED, claim)
    return ReviewResult(ReviewOutcome.SHOWN, claim)


async def start_rejection(
    uow: UnitOfWork,
    actor: Actor,
    claim_id: int,
    places: Places,
    now: datetime,
    update_id: int,
    message_id: int,
) -> ReviewResult:
    """Reject pressed: ask why; a typed reason goes to the reviewer's ``register.reject`` flow."""
    async with uow:
        result = _visible(actor, await uow.register_claims.get(claim_id), places)
        if result.outcome is not ReviewOutcome.SHOWN:
            return result
        flow = await enter_flow(
            uow,
            actor.user_id,
            REJECT,
            "reason",
            {"claim_id": claim_id},
            update_id=update_id,
            now=now,
            message_id=message_id,
        )
        await uow.commit()
    return replace(result, flow=flow)


def rejection_claim_id(flow: Flow) -> int | None:
    value = flow.draft.get("claim_id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


async def approve_claim(
    uow: UnitOfWork,
    actor: Actor,
    claim_id: int,
    places: Places,
    now: datetime,
    update_id: int | None,
    notices: ClaimNotices,
) -> ReviewResult:
    """Approve: the claimant becomes owner of the unit and a *verified* resident.

    In one transaction: the claim is settled only if still pending (a second
    reviewer, or the same update delivered again, finds it decided and changes
    nothing); the owner grant over the unit's scope is added; the resident is
    made *verified* (spec 01: "confirmed by staff") and gets the unit on their
    profile if it had none — only when they still live in the claim's compound,
    since verification is about where they live; the audit log records it; the
    claimant is told in their language.
    """
    return await _settle(
        uow, actor, claim_id, places, now, update_id, notices, ClaimStatus.APPROVED, None, None
    )


async def reject_claim(
    uow: UnitOfWork,
    actor: Actor,
    claim_id: int,
    places: Places,
    now: datetime,
    update_id: int | None,
    notices: ClaimNotices,
    *,
    reason_code: RejectReason | None = None,
    reason_text: str | None = None,
) -> ReviewResult:
    """Reject with a common reason or a typed one; the claimant is told it and may claim again."""
    reason: str | None = None
    if reason_code is None:
        check, reason = check_reason(reason_text or "")
        if check is NameCheck.EMPTY:
            return ReviewResult(ReviewOutcome.REASON_EMPTY)
        if check is not NameCheck.OK:
            return ReviewResult(ReviewOutcome.REASON_TOO_LONG)
    return await _settle(
        uow,
        actor,
        claim_id,
        places,
        now,
        update_id,
        notices,
        ClaimStatus.REJECTED,
        reason_code,
        reason,
    )


async def _settle(
    uow: UnitOfWork,
    actor: Actor,
    claim_id: int,
    places: Places,
    now: datetime,
    update_id: int | None,
    notices: ClaimNotices,
    status: ClaimStatus,
    reason_code: RejectReason | None,
    reason: str | None,
) -> ReviewResult:
    async with uow:
        claim = await uow.register_claims.get(claim_id)
        result = _visible(actor, claim, places)
        if result.outcome is not ReviewOutcome.SHOWN or claim is None:
            return result
        settled = await uow.register_claims.settle(
            claim_id, status, by=actor.user_id, now=now, reason_code=reason_code, reason=reason
        )
        if not settled:  # decided by someone else between the read and the write
            return ReviewResult(
                ReviewOutcome.ALREADY_DECIDED, await uow.register_claims.get(claim_id)
            )
        decided = replace(
            claim,
            status=status,
            decided_by=actor.user_id,
            decided_at=now,
            reason_code=reason_code,
            reason=reason,
        )
        if status is ClaimStatus.APPROVED:
            await _make_owner(uow, decided, actor, now)
        await uow.audit.record(
            AuditEntry(
                at=now,
                actor_id=actor.user_id,
                action=CLAIM_APPROVED if status is ClaimStatus.APPROVED else CLAIM_REJECTED,
                community_code=claim.community_code,
                target_user_id=claim.user_id,
                details=_audit_details(decided),
                update_id=update_id,
            )
        )
        language = await uow.residents.language_of(claim.user_id)
        await uow.outbox.enqueue([notices.to_claimant(decided, language)], now)
        await _close_rejection(uow, actor.user_id, update_id, now)
        await uow.commit()
    return ReviewResult(ReviewOutcome.DECIDED, decided)


async def _close_rejection(
    uow: UnitOfWork, user_id: int, update_id: int | None, now: datetime
) -> None:
    """The reviewer's reason flow is over once they decided (by button or by text)."""
    flow = await uow.flows.get(user_id, REJECT)
    if flow is not None and not flow.finished:
        await uow.flows.save(
            flow.moved(step=DONE_STEP, draft=flow.draft, update_id=update_id, now=now, active=False)
        )


def _audit_details(claim: Claim) -> dict[str, Any]:
    """What the audit log keeps of a decision: never the deed photo (quality bar S2)."""
    details: dict[str, Any] = {
        "claim_id": claim.id,
        "unit": claim.unit_scope.code,
        "area_m2": format_area(claim.area_centi_m2),
    }
    if claim.reason_code is not None:
        details["reason_code"] = claim.reason_code.value
    if claim.reason is not None:
        details["reason"] = claim.reason
    return details


async def _make_owner(uow: UnitOfWork, claim: Claim, actor: Actor, now: datetime) -> None:
    await uow.roles.add(
        Grant(
            user_id=claim.user_id,
            role=Role.OWNER,
            scope=claim.unit_scope,
            community_code=claim.community_code,
            granted_by=actor.user_id,
            granted_at=now,
        )
    )
    resident = await uow.residents.get(claim.user_id)
    if resident is None or resident.compound_code != claim.compound_code:
        return
    building = resident.building_code or claim.building_code
    unit = resident.unit_label
    if unit is None and building == claim.building_code:
        unit = claim.unit_label
    updated = replace(
        resident,
        level=VerificationLevel.VERIFIED,
        building_code=building,
        unit_label=unit,
        updated_at=now,
    )
    if updated != resident:
        await uow.residents.update(updated)
