"""Residents: who lives where, how sure the community is of it, and how people join.

Spec 01, "Identity, verification, roles". A resident is a Telegram user who chose
a language, a community and a compound (optionally a building and a unit) and
consented to the privacy notice. This module holds the rules — deep-link
payloads, unit labels, which step follows which, verification levels — and the
use cases the Telegram handlers call (``start_onboarding``, ``answer_flow``,
``set_language``, ``start_relocation``). No Telegram, no SQL, no clock: ``now``
and the places are passed in.

Onboarding and relocating are flows over the ``flows`` table (:mod:`civic.flows`
says why not ``ConversationHandler``, and holds what every flow shares): steps
are a :class:`Step` enum, what a person does is a small answer value
(:class:`ChooseCompound`, :class:`EnterUnit`, ...), the steps depend on data (a
compound without buildings has no building step, a deep link answers the steps
it names, changing one's address skips the consent already given), and one pure
function, :func:`answer_step`, applies an answer; each use case loads the flow
row, applies the transition and commits before the handler answers.

Verification levels (spec 01): *unverified* — registered by themselves;
*located* — registered through a QR code posted inside their building (the
code's building must be the one they register in); *verified* — confirmed by
staff or by a one-time household code (:mod:`civic.household_codes`). A
building's printed code carries a signed proof and a version staff raise with
``/rotate`` (table ``building_links``), so a photographed code stops locating
people; :func:`parse_start_payload` is the one place that checks it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

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
from civic.places import Building, Community, Compound, Places

if TYPE_CHECKING:
    from civic.household_codes import HouseholdCode
    from civic.ports import UnitOfWork

LANGUAGES: Final = ("zh_CN", "en")
"""The languages a resident can choose (the catalogs' locales); Chinese first."""
DEFAULT_LANGUAGE: Final = "zh_CN"

ONBOARD: Final = "residents.onboard"
"""The flow of joining: language, place, consent, confirm."""
RELOCATE: Final = "residents.relocate"
"""The flow of a resident changing community, compound, building or unit (from /me)."""
FLOW_NAMES: Final = (ONBOARD, RELOCATE)

START_PAYLOAD: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""What Telegram allows as a ``start`` parameter of a deep link (Bot API, deep linking)."""

MAX_UNIT_CHARS: Final = 20
"""A unit label ("3单元502", "2-301") longer than this is refused: it is a label, not a note."""


# -- verification ---------------------------------------------------------------------


class VerificationLevel(StrEnum):
    """How sure the community is that a resident lives where they say (spec 01)."""

    UNVERIFIED = "unverified"
    """Registered by themselves."""
    LOCATED = "located"
    """Registered through the QR code posted inside their building."""
    VERIFIED = "verified"
    """Confirmed by staff, or by a one-time household code."""

    @property
    def rank(self) -> int:
        return _LEVEL_RANKS[self]

    def at_least(self, minimum: VerificationLevel) -> bool:
        """Whether this level is ``minimum`` or above (co-signs count from ``located``)."""
        return self.rank >= minimum.rank


_LEVEL_RANKS: Final = {
    VerificationLevel.UNVERIFIED: 0,
    VerificationLevel.LOCATED: 1,
    VerificationLevel.VERIFIED: 2,
}


@dataclass(frozen=True)
class Resident:
    """A registered person, by Telegram user id (which is also their private chat's id)."""

    user_id: int
    language: str
    community_code: str
    compound_code: str
    building_code: str | None
    unit_label: str | None
    level: VerificationLevel
    consented_at: datetime
    created_at: datetime
    updated_at: datetime

    @property
    def address(self) -> tuple[str, str, str | None, str | None]:
        return (self.community_code, self.compound_code, self.building_code, self.unit_label)


def meets_level(resident: Resident | None, minimum: VerificationLevel) -> bool:
    """Whether ``resident`` counts where ``minimum`` is required (``[residents] counted_level``).

    Services ask this before counting a co-sign, a rating or an RSVP; someone who
    is not registered never counts.
    """
    return resident is not None and resident.level.at_least(minimum)


@dataclass(frozen=True)
class ProfileHint:
    """What every update needs to know about its sender: language and whether registered."""

    language: str | None
    registered: bool


# -- deep links -------------------------------------------------------------------------


class LinkKind(StrEnum):
    """What the payload of ``/start PAYLOAD`` turned out to be."""

    NONE = "none"
    MALFORMED = "malformed"
    """Not ``[A-Za-z0-9_-]{1,64}``: typed by hand, or a broken link."""
    UNKNOWN = "unknown"
    """Well formed, but no active community, compound or building has that code."""
    COMMUNITY = "community"
    COMPOUND = "compound"
    BUILDING = "building"


@dataclass(frozen=True)
class DeepLink:
    """A parsed ``/start`` payload: the place it pre-selects, if any."""

    kind: LinkKind
    payload: str = ""
    """As received (at most 64 characters kept), to quote back when it is not understood."""
    community_code: str | None = None
    compound_code: str | None = None
    building_code: str | None = None
    proves_location: bool = False
    """A building link carrying a valid proof (:func:`location_code`): printed
    inside the building, so whoever opens it is *located*. A bare building code
    can be guessed from the naming scheme, so it only pre-selects the place."""
    replaced: bool = False
    """A building link whose proof was valid for an earlier version of the building's
    code (staff rotated it): it pre-selects the building but locates no one."""

    @property
    def understood(self) -> bool:
        return self.kind in (LinkKind.COMMUNITY, LinkKind.COMPOUND, LinkKind.BUILDING)


LOCATION_PROOF_CHARS = 10
"""Hex characters of the proof in a building's printed link (40 bits: not guessable)."""


def location_code(building_code: str, location_key: bytes, version: int = 0) -> str:
    """The payload of the QR code posted inside a building: its code and a proof.

    ``HD-01-1_3f9a0c51d2``. The proof is an HMAC of the code and the building's
    version (raised by each ``/rotate``) under a key derived from the bot's
    signing key, so only staff's printed codes carry it and only the newest
    printed code of a building proves anything. The payload does not say the
    version: the bot knows it, and the link stays as short as before.
    """
    return f"{building_code}_{_location_proof(building_code, location_key, version)}"


def _location_proof(building_code: str, location_key: bytes, version: int = 0) -> str:
    """Version 0 signs ``located:CODE`` as before rotation existed, so printed codes stay valid."""
    signed = f"located:{building_code.upper()}"
    if version > 0:
        signed = f"{signed}:{version}"
    return hmac.new(location_key, signed.encode(), hashlib.sha256).hexdigest()[
        :LOCATION_PROOF_CHARS
    ]


def parse_start_payload(
    payload: str | None,
    places: Places,
    location_key: bytes | None = None,
    versions: Mapping[str, int] | None = None,
) -> DeepLink:
    """Resolve the ``start`` parameter of a deep link (``t.me/<bot>?start=HD-01``).

    Codes share one namespace and ignore case (``bot.config.references``), so
    ``hd-01`` typed by hand finds ``HD-01``. A building link also names its
    compound and community, a compound link its community. A building code
    followed by a valid proof of the building's current version
    (:func:`location_code`, checked with ``location_key``; ``versions`` maps
    rotated buildings to their version, others are at 0) proves the person
    stands in the building; a proof of an earlier version is marked
    ``replaced``; a wrong or outdated proof still pre-selects the building.
    """
    text = payload or ""
    if not text:
        return DeepLink(LinkKind.NONE)
    if not START_PAYLOAD.fullmatch(text):
        return DeepLink(LinkKind.MALFORMED, text[:64])
    link = _place_link(text, places)
    code, separator, proof = text.rpartition("_")
    if link.kind is LinkKind.UNKNOWN and separator:
        signed = _place_link(code, places)
        if signed.kind is LinkKind.BUILDING and signed.building_code is not None:
            building = signed.building_code
            version = (versions or {}).get(building, 0)
            valid = location_key is not None and hmac.compare_digest(
                proof.lower(), _location_proof(building, location_key, version)
            )
            replaced = (
                not valid
                and location_key is not None
                and any(
                    hmac.compare_digest(proof.lower(), _location_proof(building, location_key, v))
                    for v in range(version)
                )
            )
            return replace(signed, payload=text, proves_location=valid, replaced=replaced)
    return link


def _place_link(text: str, places: Places) -> DeepLink:
    key = text.upper()
    building = next((b for b in places.buildings if b.code.upper() == key), None)
    if building is not None:
        compound = _compound(places, building.compound_code)
        if compound is not None:
            return DeepLink(
                LinkKind.BUILDING, text, compound.community_code, compound.code, building.code
            )
    compound = next((c for c in places.compounds if c.code.upper() == key), None)
    if compound is not None:
        return DeepLink(LinkKind.COMPOUND, text, compound.community_code, compound.code)
    community = next((c for c in places.communities if c.code.upper() == key), None)
    if community is not None:
        return DeepLink(LinkKind.COMMUNITY, text, community.code)
    return DeepLink(LinkKind.UNKNOWN, text)


def deep_link(bot_username: str, code: str) -> str:
    """The ``t.me`` link that starts the bot with ``code`` (printed as a QR code by staff)."""
    if not START_PAYLOAD.fullmatch(code):
        raise ValueError(f"{code!r} cannot be a deep-link payload: use [A-Za-z0-9_-]{{1,64}}")
    return f"https://t.me/{bot_username.lstrip('@')}?start={code}"


# -- unit labels ------------------------------------------------------------------------


class UnitCheck(StrEnum):
    OK = "ok"
    EMPTY = "empty"
    TOO_LONG = "too_long"
    INVALID = "invalid"
    """Control characters or line breaks: a unit label is one short line."""


def check_unit(text: str) -> tuple[UnitCheck, str]:
    """Validate a typed unit label; return the outcome and the cleaned label.

    Surrounding space is dropped and inner runs of space become one; the length
    is counted in characters after that (a Chinese character counts one).
    """
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} for ch in text):
        return UnitCheck.INVALID, ""
    cleaned = " ".join(text.split())
    if not cleaned:
        return UnitCheck.EMPTY, ""
    if len(cleaned) > MAX_UNIT_CHARS:
        return UnitCheck.TOO_LONG, cleaned
    return UnitCheck.OK, cleaned


# -- the steps ----------------------------------------------------------------------------


class Step(StrEnum):
    """The steps of onboarding and relocating, in order."""

    LANGUAGE = "language"
    COMMUNITY = "community"
    COMPOUND = "compound"
    BUILDING = "building"
    UNIT = "unit"
    CONSENT = "consent"
    CONFIRM = "confirm"
    DONE = DONE_STEP


ONBOARD_STEPS: Final = (
    Step.LANGUAGE,
    Step.COMMUNITY,
    Step.COMPOUND,
    Step.BUILDING,
    Step.UNIT,
    Step.CONSENT,
    Step.CONFIRM,
)
RELOCATE_STEPS: Final = (Step.COMMUNITY, Step.COMPOUND, Step.BUILDING, Step.UNIT, Step.CONFIRM)
"""A resident changing address already chose a language and consented."""

PLACE_STEPS: Final = (Step.COMMUNITY, Step.COMPOUND, Step.BUILDING)
"""Steps a deep link can answer, from the widest place to the narrowest."""


_FLOW_STEPS: Final = {ONBOARD: Steps(*ONBOARD_STEPS), RELOCATE: Steps(*RELOCATE_STEPS)}


def steps_of(flow_name: str) -> Steps[Step]:
    if flow_name not in _FLOW_STEPS:
        raise ValueError(f"not a residents flow: {flow_name!r}")
    return _FLOW_STEPS[flow_name]


@dataclass(frozen=True)
class ProfileDraft:
    """What someone entered so far in onboarding or relocating (the flow row's JSON)."""

    language: str | None = None
    community_code: str | None = None
    compound_code: str | None = None
    building_code: str | None = None
    unit_label: str | None = None
    consented_at: datetime | None = None
    located_building: str | None = None
    """The building whose QR code started this flow: registering in it makes one *located*."""
    preset: Step | None = None
    """The narrowest place step a deep link answered; moving forward skips it and wider ones."""
    household_code_id: int | None = None
    """The household code whose link started onboarding, by row id (never the code's
    text): confirming verifies the new resident with it (:mod:`civic.household_codes`)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "community": self.community_code,
            "compound": self.compound_code,
            "building": self.building_code,
            "unit": self.unit_label,
            "consented_at": self.consented_at.isoformat() if self.consented_at else None,
            "located_building": self.located_building,
            "preset": self.preset.value if self.preset else None,
            "household_code_id": self.household_code_id,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProfileDraft:
        """Read a draft back; a value of the wrong shape is dropped, never trusted."""

        def text(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) and value else None

        consented = text("consented_at")
        preset = text("preset")
        language = text("language")
        code_id = data.get("household_code_id")
        return cls(
            language=language if language in LANGUAGES else None,
            community_code=text("community"),
            compound_code=text("compound"),
            building_code=text("building"),
            unit_label=text("unit"),
            consented_at=_aware(consented),
            located_building=text("located_building"),
            preset=Step(preset) if preset in {s.value for s in PLACE_STEPS} else None,
            household_code_id=code_id if type(code_id) is int else None,
        )

    @classmethod
    def from_resident(cls, resident: Resident) -> ProfileDraft:
        return cls(
            language=resident.language,
            community_code=resident.community_code,
            compound_code=resident.compound_code,
            building_code=resident.building_code,
            unit_label=resident.unit_label,
            consented_at=resident.consented_at,
        )

    def pruned(self, places: Places) -> ProfileDraft:
        """This draft without places that no longer exist or no longer fit together.

        Places come from ``config.toml`` and may be retired between two steps
        (a restart with a new file); a draft must never confirm a retired place.
        """
        community = _community(places, self.community_code)
        compound = _compound(places, self.compound_code)
        if compound is not None and (
            community is None or compound.community_code != community.code
        ):
            compound = None
        building = _building(places, self.building_code)
        if building is not None and (compound is None or building.compound_code != compound.code):
            building = None
        return replace(
            self,
            community_code=community.code if community else None,
            compound_code=compound.code if compound else None,
            building_code=building.code if building else None,
        )

    @property
    def level(self) -> VerificationLevel:
        """The level a new resident registered from this draft gets."""
        if self.located_building is not None and self.building_code == self.located_building:
            return VerificationLevel.LOCATED
        return VerificationLevel.UNVERIFIED


def _aware(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _community(places: Places, code: str | None) -> Community | None:
    return next((c for c in places.communities if c.code == code), None) if code else None


def _compound(places: Places, code: str | None) -> Compound | None:
    return next((c for c in places.compounds if c.code == code), None) if code else None


def _building(places: Places, code: str | None) -> Building | None:
    return next((b for b in places.buildings if b.code == code), None) if code else None


def with_link(draft: ProfileDraft, link: DeepLink) -> ProfileDraft:
    """``draft`` with the place a deep link names pre-selected.

    A building link remembers its building as the one that *locates* the person;
    any link replaces the places it names and drops narrower ones that no longer
    fit (a compound link keeps a building of that compound).
    """
    if not link.understood:
        return draft
    community = link.community_code
    compound = link.compound_code or (
        draft.compound_code if draft.community_code == community else None
    )
    building = link.building_code or (
        draft.building_code if draft.compound_code == compound else None
    )
    preset = {
        LinkKind.COMMUNITY: Step.COMMUNITY,
        LinkKind.COMPOUND: Step.COMPOUND,
        LinkKind.BUILDING: Step.BUILDING,
    }[link.kind]
    return replace(
        draft,
        community_code=community,
        compound_code=compound,
        building_code=building,
        located_building=(link.building_code if link.proves_location else draft.located_building),
        preset=preset,
    )


@dataclass(frozen=True)
class HouseholdPreset:
    """The place a household code's link names, and the code's row id (not its text)."""

    code_id: int
    community_code: str
    compound_code: str
    building_code: str | None = None
    unit_label: str | None = None


def with_household(draft: ProfileDraft, preset: HouseholdPreset) -> ProfileDraft:
    """``draft`` with the place of a household code chosen, and the code remembered.

    Its unit, if it names one, fills the unit step (the person may still change
    it: confirming sets the code's building and unit anyway, as ``/code`` does).
    """
    same_compound = draft.compound_code == preset.compound_code
    return replace(
        draft,
        community_code=preset.community_code,
        compound_code=preset.compound_code,
        building_code=preset.building_code or (draft.building_code if same_compound else None),
        unit_label=preset.unit_label or (draft.unit_label if same_compound else None),
        preset=Step.BUILDING if preset.building_code else Step.COMPOUND,
        household_code_id=preset.code_id,
    )


class CodeMiss(StrEnum):
    """Why the household code whose link started onboarding did not verify the newcomer
    on confirming (they are registered all the same, and told why and what to do)."""

    USED = "used"
    """Someone else used it between the link and the confirmation."""
    EXPIRED = "expired"
    OTHER_COMPOUND = "other_compound"
    """They chose another compound than the code's: nobody is verified for a place
    they did not register in."""


def household_code_miss(
    code: HouseholdCode | None, resident: Resident, now: datetime
) -> CodeMiss | None:
    """Why ``code`` cannot verify ``resident`` now; ``None`` if it can (or already did)."""
    if code is None:
        return CodeMiss.USED
    if code.compound_code != resident.compound_code:
        return CodeMiss.OTHER_COMPOUND
    if code.used_at is not None:
        return None if code.used_by == resident.user_id else CodeMiss.USED
    if now >= code.expires_at:
        return CodeMiss.EXPIRED
    return None


def verified_at(
    resident: Resident, building_code: str | None, unit_label: str | None, now: datetime
) -> Resident:
    """``resident`` verified by a household code: the building and unit it names become theirs."""
    return replace(
        resident,
        building_code=building_code or resident.building_code,
        unit_label=unit_label or resident.unit_label,
        level=VerificationLevel.VERIFIED,
        updated_at=now,
    )


def _applies(step: Step, draft: ProfileDraft, places: Places) -> bool:
    """Whether ``step`` is asked (a compound without buildings has no building step)."""
    if step is Step.BUILDING:
        return bool(draft.compound_code) and bool(places.buildings_of(draft.compound_code or ""))
    return True


def _answered_by_link(step: Step, draft: ProfileDraft) -> bool:
    if draft.preset is None or step not in PLACE_STEPS:
        return False
    return PLACE_STEPS.index(step) <= PLACE_STEPS.index(draft.preset)


def _answered(step: Step, draft: ProfileDraft) -> bool:
    """Whether the draft holds what ``step`` asks for (building and unit are optional)."""
    needed = {
        Step.LANGUAGE: draft.language,
        Step.COMMUNITY: draft.community_code,
        Step.COMPOUND: draft.compound_code,
        Step.CONSENT: draft.consented_at,
    }
    return step not in needed or needed[step] is not None


def next_step(flow_name: str, after: Step, draft: ProfileDraft, places: Places) -> Step:
    """The step that follows ``after`` for this draft (steps a deep link answered are skipped)."""
    following = steps_of(flow_name).after(
        after, lambda step: _applies(step, draft, places) and not _answered_by_link(step, draft)
    )
    return following or Step.CONFIRM


def previous_step(flow_name: str, before: Step, draft: ProfileDraft, places: Places) -> Step | None:
    """The step "Back" leads to from ``before``, or ``None`` on the first step."""
    return steps_of(flow_name).before(before, lambda step: _applies(step, draft, places))


def first_missing(flow_name: str, draft: ProfileDraft) -> Step | None:
    """The earliest step whose answer the draft still lacks, or ``None`` when complete."""
    return steps_of(flow_name).first(lambda step: not _answered(step, draft))


def resume_at(flow_name: str, step: Step, draft: ProfileDraft) -> Step:
    """Where a resumed flow goes on: its step, or earlier if the draft lost an answer."""
    return steps_of(flow_name).resume_at(step, first_missing(flow_name, draft))


def current(flow: Flow, places: Places) -> tuple[Step, ProfileDraft]:
    """Where a stored residents flow stands now, against today's places."""
    draft = ProfileDraft.from_json(flow.draft).pruned(places)
    if flow.finished:
        return Step.DONE, draft
    return resume_at(flow.name, stored_step(flow, Step, Step.DONE), draft), draft


# -- answers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChooseLanguage:
    language: str


@dataclass(frozen=True)
class ChooseCommunity:
    code: str


@dataclass(frozen=True)
class ChooseCompound:
    code: str


@dataclass(frozen=True)
class ChooseBuilding:
    code: str | None
    """``None``: the person skipped the building."""


@dataclass(frozen=True)
class EnterUnit:
    text: str


@dataclass(frozen=True)
class SkipUnit:
    pass


@dataclass(frozen=True)
class KeepUnit:
    """Go on with the unit label already in the draft (after going back)."""


@dataclass(frozen=True)
class GiveConsent:
    pass


@dataclass(frozen=True)
class ConfirmProfile:
    pass


Answer = (
    ChooseLanguage
    | ChooseCommunity
    | ChooseCompound
    | ChooseBuilding
    | EnterUnit
    | SkipUnit
    | KeepUnit
    | GiveConsent
    | ConfirmProfile
    | GoBack[Step]
)

_ANSWER_STEPS: Final = AnswerSteps(
    {
        ChooseLanguage: Step.LANGUAGE,
        ChooseCommunity: Step.COMMUNITY,
        ChooseCompound: Step.COMPOUND,
        ChooseBuilding: Step.BUILDING,
        EnterUnit: Step.UNIT,
        SkipUnit: Step.UNIT,
        KeepUnit: Step.UNIT,
        GiveConsent: Step.CONSENT,
        ConfirmProfile: Step.CONFIRM,
    }
)


def step_of(answer: Answer) -> Step:
    """The step an answer belongs to."""
    return _ANSWER_STEPS.of(answer)


class StepOutcome(StrEnum):
    MOVED = "moved"
    """The flow went forward or back."""
    WRONG_STEP = "wrong_step"
    """The answer belongs to another step: an old button, a double tap, text for a button."""
    UNKNOWN_PLACE = "unknown_place"
    """A place that does not exist (any more) or does not belong where it was chosen."""
    UNIT_EMPTY = "unit_empty"
    UNIT_TOO_LONG = "unit_too_long"
    UNIT_INVALID = "unit_invalid"
    FINISHED = "finished"
    """Confirmed: the caller registers or relocates the resident."""


@dataclass(frozen=True)
class Transition:
    outcome: StepOutcome
    step: Step
    draft: ProfileDraft


_UNIT_OUTCOMES: Final = {
    UnitCheck.EMPTY: StepOutcome.UNIT_EMPTY,
    UnitCheck.TOO_LONG: StepOutcome.UNIT_TOO_LONG,
    UnitCheck.INVALID: StepOutcome.UNIT_INVALID,
}


def answer_step(
    flow_name: str,
    step: Step,
    draft: ProfileDraft,
    answer: Answer,
    places: Places,
    now: datetime,
) -> Transition:
    """Apply one answer to a flow at ``step``: the pure heart of onboarding.

    An answer that does not belong to ``step``, or names a place that does not
    fit, leaves the flow where it was; nothing entered is lost.
    """
    if step_of(answer) != step:
        return Transition(StepOutcome.WRONG_STEP, step, draft)
    stay = Transition(StepOutcome.UNKNOWN_PLACE, step, draft)
    match answer:
        case GoBack():
            previous = previous_step(flow_name, step, draft, places)
            if previous is None:
                return Transition(StepOutcome.WRONG_STEP, step, draft)
            if _answered_by_link(previous, draft):
                draft = replace(draft, preset=None)  # choosing by hand from here on
            return Transition(StepOutcome.MOVED, previous, draft)
        case ChooseLanguage(language):
            if language not in LANGUAGES:
                return Transition(StepOutcome.WRONG_STEP, step, draft)
            draft = replace(draft, language=language)
        case ChooseCommunity(code):
            community = _community(places, code)
            if community is None:
                return stay
            if community.code != draft.community_code:
                draft = replace(
                    draft, community_code=community.code, compound_code=None, building_code=None
                )
        case ChooseCompound(code):
            compound = _compound(places, code)
            if compound is None or compound.community_code != draft.community_code:
                return stay
            if compound.code != draft.compound_code:
                draft = replace(draft, compound_code=compound.code, building_code=None)
        case ChooseBuilding(code):
            if code is None:
                draft = replace(draft, building_code=None)
            else:
                building = _building(places, code)
                if building is None or building.compound_code != draft.compound_code:
                    return stay
                draft = replace(draft, building_code=building.code)
        case EnterUnit(text):
            check, label = check_unit(text)
            if check is not UnitCheck.OK:
                return Transition(_UNIT_OUTCOMES[check], step, draft)
            draft = replace(draft, unit_label=label)
        case SkipUnit():
            draft = replace(draft, unit_label=None)
        case KeepUnit():
            pass
        case GiveConsent():
            draft = replace(draft, consented_at=now)
        case ConfirmProfile():
            missing = first_missing(flow_name, draft)
            if missing is not None:
                return Transition(StepOutcome.MOVED, missing, draft)
            return Transition(StepOutcome.FINISHED, Step.DONE, draft)
    return Transition(StepOutcome.MOVED, next_step(flow_name, step, draft, places), draft)


def new_resident(user_id: int, draft: ProfileDraft, now: datetime) -> Resident:
    """The resident a confirmed onboarding draft registers."""
    if draft.language is None or draft.community_code is None or draft.compound_code is None:
        raise ValueError("an incomplete draft cannot register a resident")
    if draft.consented_at is None:
        raise ValueError("no one is registered without consenting to the privacy notice")
    return Resident(
        user_id=user_id,
        language=draft.language,
        community_code=draft.community_code,
        compound_code=draft.compound_code,
        building_code=draft.building_code,
        unit_label=draft.unit_label,
        level=draft.level,
        consented_at=draft.consented_at,
        created_at=now,
        updated_at=now,
    )


def relocated(resident: Resident, draft: ProfileDraft, now: datetime) -> Resident:
    """``resident`` at the address of a confirmed relocation draft, at the level it earns.

    * Same address: nothing changes.
    * Registering in the building whose QR code started the flow: *located*.
    * Same building, another unit: at most *located* — the building is still
      proven, but staff or a household code verified the old unit, not this one.
    * Anywhere else: *unverified*, until a QR code or staff locate them again.
    """
    if draft.community_code is None or draft.compound_code is None:
        raise ValueError("an incomplete draft cannot relocate a resident")
    address = (draft.community_code, draft.compound_code, draft.building_code, draft.unit_label)
    if address == resident.address:
        return resident
    located_now = (
        draft.located_building is not None and draft.building_code == draft.located_building
    )
    same_building_located = (
        draft.building_code is not None
        and draft.building_code == resident.building_code
        and resident.level.at_least(VerificationLevel.LOCATED)
    )
    level = (
        VerificationLevel.LOCATED
        if located_now or same_building_located
        else VerificationLevel.UNVERIFIED
    )
    return replace(
        resident,
        community_code=draft.community_code,
        compound_code=draft.compound_code,
        building_code=draft.building_code,
        unit_label=draft.unit_label,
        level=level,
        updated_at=now,
    )


# -- use cases ---------------------------------------------------------------------------------


class StartOutcome(StrEnum):
    STARTED = "started"
    """A new onboarding flow."""
    RESUMED = "resumed"
    """An onboarding draft goes on where it was."""
    REGISTERED = "registered"
    """Already a resident; nothing changed."""
    LOCATED = "located"
    """A resident opened their own building's link: now (at least) located."""
    ELSEWHERE = "elsewhere"
    """A resident opened a link of another place: changing address is done in /me."""


@dataclass(frozen=True)
class StartResult:
    outcome: StartOutcome
    link: DeepLink
    flow: Flow | None = None
    resident: Resident | None = None
    previous_message_id: int | None = None
    """The message the resumed flow was on before: its buttons are retired."""


async def start_onboarding(
    uow: UnitOfWork,
    user_id: int,
    payload: str | None,
    places: Places,
    now: datetime,
    update_id: int,
    location_key: bytes | None = None,
    *,
    household: HouseholdPreset | None = None,
) -> StartResult:
    """``/start [PAYLOAD]``: begin or resume onboarding, or greet a resident.

    The flow is committed before the bot answers; the handler sends the step's
    message and then records its id (:func:`civic.flows.record_flow_message`).
    ``household``: a household code's link chose the place
    (:func:`civic.household_codes.start_with_household_code`).
    """
    async with uow:
        versions = await uow.building_links.versions() if payload and "_" in payload else {}
        link = parse_start_payload(payload, places, location_key, versions)
        resident = await uow.residents.get(user_id)
        if resident is not None:
            outcome, updated = _start_as_resident(resident, link, now)
            if updated != resident:
                await uow.residents.update(updated)
                await uow.commit()
            return StartResult(outcome, link, resident=updated)
        flow = await uow.flows.get(user_id, ONBOARD)
        if flow is not None and flow.has_seen(update_id):
            return StartResult(StartOutcome.RESUMED, link, flow)
        resumed = resumable(flow)
        draft = ProfileDraft.from_json(resumed.draft).pruned(places) if resumed else ProfileDraft()
        step = Step(resumed.step) if resumed else Step.LANGUAGE
        linked = with_link(draft, link)
        if household is not None:
            linked = with_household(linked, household)
        linked = linked.pruned(places)
        if _place_of(linked) != _place_of(draft) and linked.language is not None:
            step = next_step(ONBOARD, Step.LANGUAGE, linked, places)  # go on from the link
        step = resume_at(ONBOARD, step, linked)
        started = await enter_flow(
            uow, user_id, ONBOARD, step.value, linked.to_json(), update_id=update_id, now=now
        )
        await uow.commit()
    return StartResult(
        StartOutcome.RESUMED if resumed else StartOutcome.STARTED,
        link,
        started,
        previous_message_id=resumed.message_id if resumed else None,
    )


def _place_of(draft: ProfileDraft) -> tuple[str | None, str | None, str | None]:
    return (draft.community_code, draft.compound_code, draft.building_code)


def _start_as_resident(
    resident: Resident, link: DeepLink, now: datetime
) -> tuple[StartOutcome, Resident]:
    if not link.understood:
        return StartOutcome.REGISTERED, resident
    own_building = link.kind is LinkKind.BUILDING and (
        link.compound_code == resident.compound_code
        and resident.building_code in (None, link.building_code)
    )
    if own_building and not link.proves_location:
        return StartOutcome.REGISTERED, resident  # a typed code proves nothing
    if own_building:
        level = max(resident.level, VerificationLevel.LOCATED, key=lambda lv: lv.rank)
        if level is resident.level and resident.building_code == link.building_code:
            return StartOutcome.LOCATED, resident
        return StartOutcome.LOCATED, replace(
            resident, building_code=link.building_code, level=level, updated_at=now
        )
    if link.community_code != resident.community_code or (
        link.compound_code is not None and link.compound_code != resident.compound_code
    ):
        return StartOutcome.ELSEWHERE, resident
    if link.building_code is not None:  # their compound, another building than theirs
        return StartOutcome.ELSEWHERE, resident
    return StartOutcome.REGISTERED, resident


class AnswerOutcome(StrEnum):
    MOVED = "moved"
    WRONG_STEP = "wrong_step"
    UNKNOWN_PLACE = "unknown_place"
    UNIT_EMPTY = "unit_empty"
    UNIT_TOO_LONG = "unit_too_long"
    UNIT_INVALID = "unit_invalid"
    REGISTERED = "registered"
    """Onboarding confirmed: the resident exists now."""
    ALREADY_REGISTERED = "already_registered"
    """Onboarding confirmed, but this person was registered already: nothing overwritten."""
    RELOCATED = "relocated"
    """A new address confirmed (the level may have changed: see :func:`relocated`)."""
    NO_FLOW = "no_flow"
    """No residents flow is active: cancelled, finished, or never started."""
    OTHER_MESSAGE = "other_message"
    """A button of a message the flow has left."""
    REPLAYED = "replayed"
    """This update was applied already (redelivered after a crash): answer again only."""


@dataclass(frozen=True)
class AnswerResult:
    outcome: AnswerOutcome
    flow: Flow | None = None
    resident: Resident | None = None
    previous: Resident | None = None
    """The resident before a relocation, to show what changed."""
    code_miss: CodeMiss | None = None
    """Registered through a household code's link, but not verified by it: why."""

    @property
    def draft(self) -> ProfileDraft:
        return ProfileDraft.from_json(self.flow.draft) if self.flow else ProfileDraft()

    @property
    def step(self) -> Step:
        return Step(self.flow.step) if self.flow else Step.DONE


async def answer_flow(
    uow: UnitOfWork,
    user_id: int,
    answer: Answer,
    places: Places,
    now: datetime,
    update_id: int,
    message_id: int | None,
) -> AnswerResult:
    """Apply a button press or typed text to the person's onboarding or relocation.

    ``message_id`` is the message whose button was pressed (``None`` for text).
    Confirming registers the resident (one per Telegram user, however often the
    update is delivered) or moves them; the flow row is kept as ``done``.
    """
    async with uow:
        gate = await gate_answer(uow, user_id, FLOW_NAMES, update_id, message_id)
        if gate.gate is Gate.REPLAYED and gate.flow is not None:
            resident = await uow.residents.get(user_id)
            miss = await _replayed_miss(uow, gate.flow, resident, now)
            return AnswerResult(AnswerOutcome.REPLAYED, gate.flow, resident, code_miss=miss)
        active = gate.flow
        if not gate.open or active is None:
            return AnswerResult(AnswerOutcome(gate.gate.value), active)
        step, draft = current(active, places)
        transition = answer_step(active.name, step, draft, answer, places, now)
        if transition.outcome is not StepOutcome.FINISHED:
            if transition.outcome is not StepOutcome.MOVED:
                return AnswerResult(AnswerOutcome(transition.outcome.value), active)
            moved = active.moved(
                step=transition.step.value,
                draft=transition.draft.to_json(),
                update_id=update_id,
                now=now,
                message_id=message_id,
            )
            await uow.flows.save(moved)
            await uow.commit()
            return AnswerResult(AnswerOutcome.MOVED, moved)
        finished = active.moved(
            step=Step.DONE.value,
            draft=transition.draft.to_json(),
            update_id=update_id,
            now=now,
            active=False,
        )
        result = await _finish(uow, user_id, active.name, transition.draft, now, finished)
        await uow.flows.save(finished)
        await uow.commit()
        return result


async def _finish(
    uow: UnitOfWork,
    user_id: int,
    flow_name: str,
    draft: ProfileDraft,
    now: datetime,
    finished: Flow,
) -> AnswerResult:
    current = await uow.residents.get(user_id)
    if flow_name == ONBOARD:
        if current is not None:
            return AnswerResult(AnswerOutcome.ALREADY_REGISTERED, finished, current)
        resident = new_resident(user_id, draft, now)
        miss: CodeMiss | None = None
        if draft.household_code_id is not None:
            resident, miss = await _verify_with_code(uow, resident, draft.household_code_id, now)
        await uow.residents.add(resident)
        return AnswerResult(AnswerOutcome.REGISTERED, finished, resident, code_miss=miss)
    if current is None:
        return AnswerResult(AnswerOutcome.NO_FLOW, finished)
    moved = relocated(current, draft, now)
    if moved != current:
        await uow.residents.update(moved)
    return AnswerResult(AnswerOutcome.RELOCATED, finished, moved, previous=current)


async def _verify_with_code(
    uow: UnitOfWork, resident: Resident, code_id: int, now: datetime
) -> tuple[Resident, CodeMiss | None]:
    """A new resident whose onboarding a household code's link started: verified, if it
    is still unused and unexpired and they registered in its compound; else as they are,
    with the reason (the registration screen says it, and what to do)."""
    code = await uow.household_codes.get(code_id)
    miss = household_code_miss(code, resident, now)
    if miss is not None or code is None:
        return resident, miss
    if not await uow.household_codes.claim(code_id, resident.user_id, now):
        return resident, CodeMiss.USED  # taken a moment ago
    return verified_at(resident, code.building_code, code.unit_label, now), None


async def _replayed_miss(
    uow: UnitOfWork, flow: Flow, resident: Resident | None, now: datetime
) -> CodeMiss | None:
    """The reason again, when the confirming update is handled a second time."""
    if flow.name != ONBOARD or not flow.finished or resident is None:
        return None
    code_id = ProfileDraft.from_json(flow.draft).household_code_id
    if code_id is None or resident.level is VerificationLevel.VERIFIED:
        return None
    return household_code_miss(await uow.household_codes.get(code_id), resident, now)


class RelocationStart(StrEnum):
    STARTED = "started"
    NOT_REGISTERED = "not_registered"


async def start_relocation(
    uow: UnitOfWork,
    user_id: int,
    places: Places,
    now: datetime,
    update_id: int,
    message_id: int | None,
) -> tuple[RelocationStart, Flow | None]:
    """ "Change compound" in /me: a relocation flow on that message, prefilled with the address."""
    async with uow:
        resident = await uow.residents.get(user_id)
        if resident is None:
            return RelocationStart.NOT_REGISTERED, None
        flow = await uow.flows.get(user_id, RELOCATE)
        if flow is not None and flow.has_seen(update_id):
            return RelocationStart.STARTED, flow
        resumed = resumable(flow)
        if resumed is not None:  # a draft left with /cancel goes on
            step, draft = current(resumed, places)
        else:
            step, draft = Step.COMMUNITY, ProfileDraft.from_resident(resident).pruned(places)
        started = await enter_flow(
            uow,
            user_id,
            RELOCATE,
            step.value,
            draft.to_json(),
            update_id=update_id,
            now=now,
            message_id=message_id,
        )
        await uow.commit()
    return RelocationStart.STARTED, started


class LanguageSaved(StrEnum):
    RESIDENT = "resident"
    """Stored on the resident."""
    DRAFT = "draft"
    """Not registered yet: stored in the onboarding draft, which /start resumes."""


async def set_language(
    uow: UnitOfWork, user_id: int, language: str, places: Places, now: datetime
) -> LanguageSaved:
    """``/lang``: store the language every later reply uses (idempotent)."""
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    async with uow:
        if await uow.residents.set_language(user_id, language, now):
            await uow.commit()
            return LanguageSaved.RESIDENT
        flow = await uow.flows.get(user_id, ONBOARD)
        if flow is None or flow.finished:
            draft = ProfileDraft(language=language)
            flow = Flow(
                user_id=user_id,
                name=ONBOARD,
                step=next_step(ONBOARD, Step.LANGUAGE, draft, places).value,
                draft=draft.to_json(),
                active=False,
                message_id=None,
                last_update_id=None,
                updated_at=now,
            )
        else:
            draft = replace(ProfileDraft.from_json(flow.draft), language=language)
            step = Step(flow.step)
            if step is Step.LANGUAGE:
                step = next_step(ONBOARD, Step.LANGUAGE, draft, places)
            flow = replace(flow, step=step.value, draft=draft.to_json(), updated_at=now)
        await uow.flows.save(flow)
        await uow.commit()
    return LanguageSaved.DRAFT


async def profile_hint(uow: UnitOfWork, user_id: int) -> ProfileHint:
    """The sender's stored language and whether they are registered (read once per update)."""
    async with uow:
        language = await uow.residents.language_of(user_id)
        if language is not None:
            return ProfileHint(language, registered=True)
        flow = await uow.flows.get(user_id, ONBOARD)
    draft_language = ProfileDraft.from_json(flow.draft).language if flow else None
    return ProfileHint(draft_language, registered=False)


async def all_profile_hints(uow: UnitOfWork) -> dict[int, ProfileHint]:
    """Every stored language, and who is registered (read once at start-up)."""
    async with uow:
        languages = await uow.residents.languages()
        drafts = await uow.flows.unfinished(ONBOARD)
    hints = {
        flow.user_id: ProfileHint(language, registered=False)
        for flow in drafts
        if (language := ProfileDraft.from_json(flow.draft).language) is not None
    }
    hints.update(
        (user_id, ProfileHint(language, registered=True)) for user_id, language in languages
    )
    return hints


async def get_resident(uow: UnitOfWork, user_id: int) -> Resident | None:
    """The resident with this Telegram user id, if registered (``/me``)."""
    async with uow:
        return await uow.residents.get(user_id)


@dataclass(frozen=True)
class PlaceNames:
    """The places of a resident or draft, resolved for display."""

    community: Community | None = None
    compound: Compound | None = None
    building: Building | None = None


def place_names(
    places: Places, community: str | None, compound: str | None, building: str | None
) -> PlaceNames:
    """Resolve codes to places for showing them (retired codes resolve to ``None``)."""
    return PlaceNames(
        _community(places, community), _compound(places, compound), _building(places, building)
    )
