"""Filing a report (``/report``): the steps, the draft, "me too", and the submission.

Spec 02, "Filing": category → description (text or a voice note) → photos
(several) → location pin or "my compound/building" → anonymous? → preview →
submit, with Back and Cancel at every step; the draft survives ``/cancel``,
restarts and crashes (a flow over the ``flows`` table, :mod:`civic.flows`,
committed before each reply), and the resident gets a tracking number at once.

* **"Me too"** (spec 02, "Possible duplicates"): once the category is chosen the
  compound and category are known, so open reports of the same compound and
  category filed within ``[reports] duplicate_window_days`` are offered before
  anything more is typed: supporting one (once per person) instead of filing,
  or filing anyway. A resident's own reports are not offered (they would be
  supporting themselves). Staff filing on someone's behalf are not offered it
  either: a "me too" is one person's, and the staff member is not that person.
* **Staff on behalf** (spec 02: "Staff can file a report on behalf of a resident
  without Telegram ... recording the name and phone they gave"): someone holding
  a staff or grid-worker role is first asked whether the report is their own or
  a resident's; on behalf, the name (at most :data:`MAX_NAME_CHARS`), the phone
  (:func:`civic.reports.normalise_phone`) and the compound (of the communities
  they work in) come first. The report records the staff member as the filer,
  and the filing goes in the audit log (:data:`FILED_ON_BEHALF`).
* **Anonymity**: the report carries the flag; who may see the name is the
  viewer's business (:mod:`civic.reports_handling`).
* **Submission** in one unit of work: the tracking number
  (:meth:`~civic.ports.ReportsRepository.next_number`, the community's local
  year), the assignee (:func:`civic.reports_routing.route`, chosen once), the
  deadlines (:func:`civic.reports_deadlines.deadlines_at_submission`), the
  report, its filing event and its attachments (photos, the voice note). The
  same submit delivered twice files one report: the finished flow remembers the
  update (the gate says *replayed*), and the report remembers it too
  (``filed_by_update``).

A voice note is the description's substitute: a resident who cannot or will
not type may speak instead. The report then has an empty description and the
voice note as an attachment of its filing event (staff listen to it).

No Telegram, no SQL, no clock: ``now``, the places and the policy are passed in.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

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
from civic.places import Compound, Places
from civic.reports import (
    ActorRole,
    Attachment,
    AttachmentKind,
    DescriptionProblem,
    Report,
    Reporter,
    ReportEvent,
    ReportState,
    check_description,
    duplicate_window_start,
    normalise_phone,
)
from civic.reports_deadlines import DeadlinePolicy, deadlines_at_submission
from civic.reports_reminders import DeskNotices, schedule_deadline_jobs, tell_desk
from civic.reports_routing import Route, RoutingRule, route
from civic.residents import Resident
from civic.roles import Actor, Role
from civic.workdays import WorkingCalendar

if TYPE_CHECKING:
    from civic.ports import UnitOfWork

FILE: Final = "reports.file"
"""The flow of filing a report."""

FILED_ON_BEHALF: Final = "reports.filed_on_behalf"
"""Audit action: a staff member filed a report for a resident without Telegram."""

MAX_NAME_CHARS: Final = 30
"""A resident's name as they gave it on the phone: a name, not a note."""
DUPLICATES_OFFERED: Final = 5
"""At most this many open reports are offered for "me too" (the oldest first)."""
MY_REPORTS_SHOWN: Final = 10
"""``/myreports`` lists this many, newest first, and says when there are more."""
FILING_ROLES: Final = frozenset({Role.STAFF, Role.GRID_WORKER})
"""Roles that may file on a resident's behalf, in the community they work in."""


@dataclass(frozen=True)
class FilingPolicy:
    """What the configuration says about filing (``[reports]``, ``[[routing]]``, holidays)."""

    rules: tuple[RoutingRule, ...]
    deadlines: DeadlinePolicy
    calendar: WorkingCalendar
    description_max_chars: int = 2000
    max_photos: int = 10
    duplicate_window_days: int = 14


# -- steps and the draft ----------------------------------------------------------------


class Step(StrEnum):
    WHO = "who"
    NAME = "name"
    PHONE = "phone"
    COMPOUND = "compound"
    CATEGORY = "category"
    DUPLICATE = "duplicate"
    DESCRIPTION = "description"
    PHOTOS = "photos"
    LOCATION = "location"
    ANONYMOUS = "anonymous"
    PREVIEW = "preview"
    DONE = DONE_STEP


STEPS: Final = Steps(
    Step.WHO,
    Step.NAME,
    Step.PHONE,
    Step.COMPOUND,
    Step.CATEGORY,
    Step.DUPLICATE,
    Step.DESCRIPTION,
    Step.PHOTOS,
    Step.LOCATION,
    Step.ANONYMOUS,
    Step.PREVIEW,
)
EDITABLE: Final = frozenset(
    {
        Step.NAME,
        Step.PHONE,
        Step.CATEGORY,
        Step.DESCRIPTION,
        Step.PHOTOS,
        Step.LOCATION,
        Step.ANONYMOUS,
    }
)
"""Steps the preview's Edit buttons lead back to (the compound and "for whom" by Back)."""
TEXT_STEPS: Final = frozenset({Step.NAME, Step.PHONE, Step.DESCRIPTION})
"""Steps answered by typing; elsewhere text is told what the step wants instead."""


@dataclass(frozen=True)
class ReportDraft:
    """What the person entered so far (the flow row's JSON).

    ``home_*`` is the filer's own address (from the profile, refreshed on each
    start); ``compound_code`` is where the problem is: the home compound when
    filing for oneself, the chosen one on a resident's behalf.
    """

    can_self: bool = True
    """The filer is a registered resident (staff who are not file only on behalf)."""
    filer_communities: tuple[str, ...] = ()
    """Communities where the filer holds a staff or grid-worker role: "on behalf" is asked."""
    on_behalf: bool | None = None
    home_community: str | None = None
    home_compound: str | None = None
    home_building: str | None = None
    reporter_name: str | None = None
    reporter_phone: str | None = None
    compound_code: str | None = None
    category_code: str | None = None
    duplicate_ids: tuple[int, ...] = ()
    """Open reports offered for "me too" for this compound and category."""
    duplicates_answered: bool = False
    """"File anyway" was pressed (the offer is not repeated for the same choice)."""
    description: str | None = None
    voice_file_id: str | None = None
    photos: tuple[str, ...] = ()
    photos_answered: bool = False
    location_answered: bool = False
    latitude: float | None = None
    longitude: float | None = None
    anonymous: bool | None = None
    editing: bool = False
    """Came from the preview's Edit: answering goes back to the preview."""
    report_id: int | None = None
    """The report the submitted draft filed (kept on the finished flow)."""
    supported_id: int | None = None
    """The report supported instead of filing (kept on the finished flow)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "can_self": self.can_self,
            "filer_communities": list(self.filer_communities),
            "on_behalf": self.on_behalf,
            "home_community": self.home_community,
            "home_compound": self.home_compound,
            "home_building": self.home_building,
            "reporter_name": self.reporter_name,
            "reporter_phone": self.reporter_phone,
            "compound": self.compound_code,
            "category": self.category_code,
            "duplicate_ids": list(self.duplicate_ids),
            "duplicates_answered": self.duplicates_answered,
            "description": self.description,
            "voice_file_id": self.voice_file_id,
            "photos": list(self.photos),
            "photos_answered": self.photos_answered,
            "location_answered": self.location_answered,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "anonymous": self.anonymous,
            "editing": self.editing,
            "report_id": self.report_id,
            "supported_id": self.supported_id,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReportDraft:
        """Read a draft back; a value of the wrong shape is dropped, never trusted."""

        def text(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) and value else None

        def integer(key: str) -> int | None:
            value = data.get(key)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        def number(key: str) -> float | None:
            value = data.get(key)
            if isinstance(value, bool) or not isinstance(value, int | float):
                return None
            return float(value)

        def flag(key: str) -> bool | None:
            value = data.get(key)
            return value if isinstance(value, bool) else None

        def texts(key: str) -> tuple[str, ...]:
            value = data.get(key)
            if not isinstance(value, list):
                return ()
            return tuple(v for v in value if isinstance(v, str) and v)

        ids = data.get("duplicate_ids")
        latitude, longitude = number("latitude"), number("longitude")
        if latitude is None or longitude is None:
            latitude = longitude = None
        description = data.get("description")
        return cls(
            can_self=data.get("can_self") is not False,
            filer_communities=texts("filer_communities"),
            on_behalf=flag("on_behalf"),
            home_community=text("home_community"),
            home_compound=text("home_compound"),
            home_building=text("home_building"),
            reporter_name=text("reporter_name"),
            reporter_phone=text("reporter_phone"),
            compound_code=text("compound"),
            category_code=text("category"),
            duplicate_ids=tuple(
                i for i in (ids if isinstance(ids, list) else []) if type(i) is int
            ),
            duplicates_answered=data.get("duplicates_answered") is True,
            description=description if isinstance(description, str) else None,
            voice_file_id=text("voice_file_id"),
            photos=texts("photos"),
            photos_answered=data.get("photos_answered") is True,
            location_answered=data.get("location_answered") is True,
            latitude=latitude,
            longitude=longitude,
            anonymous=flag("anonymous"),
            editing=data.get("editing") is True,
            report_id=integer("report_id"),
            supported_id=integer("supported_id"),
        )

    @staticmethod
    def exported(data: Mapping[str, Any]) -> dict[str, Any]:
        """A stored draft as ``/mydata`` shows it: how many files, not their keys."""
        shown = {k: v for k, v in data.items() if k not in ("photos", "voice_file_id")}
        photos = data.get("photos")
        return shown | {
            "photos_given": len(photos) if isinstance(photos, list) else 0,
            "voice_note_given": bool(data.get("voice_file_id")),
        }

    def at_home(self, resident: Resident | None) -> ReportDraft:
        """This draft with the filer's current address (they may have moved meanwhile).

        Filing for oneself, the problem's compound follows the profile; a
        changed compound drops the "me too" offer (it was for the old one).
        Everything typed stays.
        """
        if resident is None:
            return replace(
                self, can_self=False, home_community=None, home_compound=None, home_building=None
            )
        moved = replace(
            self,
            can_self=True,
            home_community=resident.community_code,
            home_compound=resident.compound_code,
            home_building=resident.building_code,
        )
        if moved.on_behalf is False or (moved.on_behalf is None and not moved.filer_communities):
            moved = moved.placed(resident.compound_code)
        return moved

    def placed(self, compound_code: str | None) -> ReportDraft:
        """The draft for a problem in ``compound_code``; another compound asks "me too" again."""
        if compound_code == self.compound_code:
            return self
        return replace(
            self, compound_code=compound_code, duplicate_ids=(), duplicates_answered=False
        )

    @property
    def has_description(self) -> bool:
        return bool(self.description) or self.voice_file_id is not None


def _applies(step: Step, draft: ReportDraft, policy: FilingPolicy) -> bool:
    if step is Step.WHO:
        return draft.can_self and bool(draft.filer_communities)
    if step in (Step.NAME, Step.PHONE, Step.COMPOUND):
        return draft.on_behalf is True
    if step is Step.DUPLICATE:
        return bool(draft.duplicate_ids)
    if step is Step.PHOTOS:
        return policy.max_photos > 0
    return True


def _answered(step: Step, draft: ReportDraft) -> bool:
    needed = {
        Step.WHO: draft.on_behalf is not None,
        Step.NAME: draft.reporter_name is not None,
        Step.PHONE: draft.reporter_phone is not None,
        Step.COMPOUND: draft.compound_code is not None,
        Step.CATEGORY: draft.category_code is not None,
        Step.DUPLICATE: draft.duplicates_answered,
        Step.DESCRIPTION: draft.has_description,
        Step.PHOTOS: draft.photos_answered,
        Step.LOCATION: draft.location_answered,
        Step.ANONYMOUS: draft.anonymous is not None,
    }
    return needed.get(step, True)


def first_missing(draft: ReportDraft, policy: FilingPolicy) -> Step | None:
    """The earliest asked step whose answer the draft lacks; ``None``: ready to preview."""
    return STEPS.first(lambda s: _applies(s, draft, policy) and not _answered(s, draft))


def next_step(after: Step, draft: ReportDraft, policy: FilingPolicy) -> Step:
    """The step after ``after``; an edit from the preview returns to it (or to a gap)."""
    if draft.editing:
        return first_missing(draft, policy) or Step.PREVIEW
    return STEPS.after(after, lambda s: _applies(s, draft, policy)) or Step.PREVIEW


def previous_step(before: Step, draft: ReportDraft, policy: FilingPolicy) -> Step | None:
    """The step Back leads to, or ``None`` on the first one."""
    return STEPS.before(before, lambda s: _applies(s, draft, policy))


def current(flow: Flow, places: Places, policy: FilingPolicy) -> tuple[Step, ReportDraft]:
    """Where a stored filing flow stands, against today's places and policy."""
    draft = pruned(ReportDraft.from_json(flow.draft), places, policy)
    if flow.finished:
        return Step.DONE, draft
    step = stored_step(flow, Step, Step.DONE)
    missing = first_missing(draft, policy)
    if step in (Step.DONE, Step.PREVIEW) or not _applies(step, draft, policy):
        return missing or Step.PREVIEW, draft
    return STEPS.resume_at(step, missing), draft


def pruned(draft: ReportDraft, places: Places, policy: FilingPolicy) -> ReportDraft:
    """Without a category or compound that config no longer lists; photos within the limit."""
    if draft.category_code is not None and not any(
        c.code == draft.category_code for c in places.report_categories
    ):
        draft = replace(draft, category_code=None, duplicate_ids=(), duplicates_answered=False)
    if draft.compound_code is not None and _compound(places, draft.compound_code) is None:
        draft = replace(draft, compound_code=None, duplicate_ids=(), duplicates_answered=False)
    if len(draft.photos) > policy.max_photos:
        draft = replace(draft, photos=draft.photos[: policy.max_photos])
    return draft


def _compound(places: Places, code: str | None) -> Compound | None:
    return next((c for c in places.compounds if c.code == code), None)


def compounds_for(draft: ReportDraft, places: Places) -> list[Compound]:
    """The compounds a staff member may file for: those of the communities they work in."""
    return [c for c in places.compounds if c.community_code in draft.filer_communities]


def filing_communities(actor: Actor) -> tuple[str, ...]:
    """Communities where the actor holds a staff or grid-worker role (sorted)."""
    return tuple(
        sorted(
            {
                g.community_code
                for g in actor.grants
                if g.role in FILING_ROLES and g.community_code is not None
            }
        )
    )


# -- answers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChooseWho:
    on_behalf: bool


@dataclass(frozen=True)
class EnterName:
    text: str


@dataclass(frozen=True)
class EnterPhone:
    text: str


@dataclass(frozen=True)
class ChooseCompound:
    code: str


@dataclass(frozen=True)
class ChooseCategory:
    code: str


@dataclass(frozen=True)
class SupportReport:
    """ "Me too" on an open report instead of filing a new one."""

    report_id: int


@dataclass(frozen=True)
class FileAnyway:
    pass


@dataclass(frozen=True)
class EnterDescription:
    text: str


@dataclass(frozen=True)
class GiveVoice:
    """A voice note at the description step; its caption, if any, is the description."""

    file_id: str
    caption: str | None = None


@dataclass(frozen=True)
class GivePhoto:
    """A photo at the photos step; a caption on it is added to the description.

    People caption photos ("the crack by the door"); dropping that silently
    would lose what they wrote (:attr:`FileOutcome.CAPTION_ADDED`).
    """

    file_id: str
    caption: str | None = None


@dataclass(frozen=True)
class CaptionedPhoto:
    """A photo with a caption sent at the description step: the caption is the
    description and the photo is kept for the photos step, so neither is lost."""

    file_id: str
    caption: str


@dataclass(frozen=True)
class PhotosDone:
    """ "Done" (or "Skip" with no photo yet)."""


@dataclass(frozen=True)
class ClearPhotos:
    pass


@dataclass(frozen=True)
class GiveLocation:
    latitude: float
    longitude: float


@dataclass(frozen=True)
class UseHomePlace:
    """ "My compound/building": no pin; the profile's building (or the chosen compound)."""


@dataclass(frozen=True)
class ChooseAnonymous:
    anonymous: bool


@dataclass(frozen=True)
class SubmitReport:
    pass


@dataclass(frozen=True)
class EditStep:
    step: Step


Answer = (
    ChooseWho
    | EnterName
    | EnterPhone
    | ChooseCompound
    | ChooseCategory
    | SupportReport
    | FileAnyway
    | EnterDescription
    | GiveVoice
    | CaptionedPhoto
    | GivePhoto
    | PhotosDone
    | ClearPhotos
    | GiveLocation
    | UseHomePlace
    | ChooseAnonymous
    | SubmitReport
    | EditStep
    | GoBack[Step]
)

_ANSWER_STEPS: Final = AnswerSteps(
    {
        ChooseWho: Step.WHO,
        EnterName: Step.NAME,
        EnterPhone: Step.PHONE,
        ChooseCompound: Step.COMPOUND,
        ChooseCategory: Step.CATEGORY,
        SupportReport: Step.DUPLICATE,
        FileAnyway: Step.DUPLICATE,
        EnterDescription: Step.DESCRIPTION,
        GiveVoice: Step.DESCRIPTION,
        CaptionedPhoto: Step.DESCRIPTION,
        GivePhoto: Step.PHOTOS,
        PhotosDone: Step.PHOTOS,
        ClearPhotos: Step.PHOTOS,
        GiveLocation: Step.LOCATION,
        UseHomePlace: Step.LOCATION,
        ChooseAnonymous: Step.ANONYMOUS,
        SubmitReport: Step.PREVIEW,
        EditStep: Step.PREVIEW,
    }
)


def step_of(answer: Answer) -> Step:
    return _ANSWER_STEPS.of(answer)


class FileOutcome(StrEnum):
    """What an answer to the filing flow came to; every refusal has its own message."""

    MOVED = "moved"
    PHOTO_ADDED = "photo_added"
    """A photo was kept; the photos step goes on (more, or Done)."""
    CAPTION_ADDED = "caption_added"
    """A captioned photo was kept and its caption added to the description."""
    CAPTION_UNUSED = "caption_unused"
    """A captioned photo was kept, but the caption would make the description too long."""
    CAPTION_DESCRIBES = "caption_describes"
    """At the description step: the caption became the description, the photo was kept."""
    WRONG_STEP = "wrong_step"
    UNKNOWN_PLACE = "unknown_place"
    UNKNOWN_CATEGORY = "unknown_category"
    NAME_EMPTY = "name_empty"
    NAME_TOO_LONG = "name_too_long"
    NAME_INVALID = "name_invalid"
    """Line breaks or control characters: a name is one line."""
    PHONE_INVALID = "phone_invalid"
    DESCRIPTION_EMPTY = "description_empty"
    DESCRIPTION_TOO_LONG = "description_too_long"
    TOO_MANY_PHOTOS = "too_many_photos"
    BAD_LOCATION = "bad_location"
    SUPPORT = "support"
    """The pure step's "me too": the use case turns it into SUPPORTED or ALREADY_SUPPORTED."""
    SUPPORTED = "supported"
    ALREADY_SUPPORTED = "already_supported"
    """This person had said "me too" on that report before: nothing counted twice."""
    DUPLICATE_GONE = "duplicate_gone"
    """The report offered is no longer open (or no longer offered): the offer was refreshed."""
    CONFIRMED = "confirmed"
    """The pure step's "submit": the use case files the report (SUBMITTED)."""
    SUBMITTED = "submitted"
    NOT_ALLOWED = "not_allowed"
    """Filing on behalf, but the filer no longer works in that community."""
    NOT_REGISTERED = "not_registered"
    NO_FLOW = "no_flow"
    OTHER_MESSAGE = "other_message"
    REPLAYED = "replayed"

    @property
    def refused_input(self) -> bool:
        return self in _INPUT_REFUSALS


_INPUT_REFUSALS: Final = frozenset(
    {
        FileOutcome.NAME_EMPTY,
        FileOutcome.NAME_TOO_LONG,
        FileOutcome.NAME_INVALID,
        FileOutcome.PHONE_INVALID,
        FileOutcome.DESCRIPTION_EMPTY,
        FileOutcome.DESCRIPTION_TOO_LONG,
        FileOutcome.TOO_MANY_PHOTOS,
        FileOutcome.BAD_LOCATION,
    }
)


@dataclass(frozen=True)
class Transition:
    outcome: FileOutcome
    step: Step
    draft: ReportDraft


def clean_name(text: str) -> tuple[FileOutcome | None, str]:
    """A resident's name as staff typed it: one line, inner spaces collapsed, at most 30."""
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} for ch in text.strip()):
        return FileOutcome.NAME_INVALID, ""
    cleaned = " ".join(text.split())
    if not cleaned:
        return FileOutcome.NAME_EMPTY, ""
    if len(cleaned) > MAX_NAME_CHARS:
        return FileOutcome.NAME_TOO_LONG, cleaned
    return None, cleaned


def answer_step(
    step: Step, draft: ReportDraft, answer: Answer, places: Places, policy: FilingPolicy
) -> Transition:
    """Apply one answer to the filing flow at ``step``: the pure heart of filing.

    A refused answer leaves the step and the draft as they were: nothing
    entered is lost (an over-long description keeps the category and photos).
    """
    if step_of(answer) != step:
        return Transition(FileOutcome.WRONG_STEP, step, draft)
    match answer:
        case GoBack():
            previous = previous_step(step, draft, policy)
            if previous is None:
                return Transition(FileOutcome.WRONG_STEP, step, draft)
            return Transition(FileOutcome.MOVED, previous, replace(draft, editing=False))
        case EditStep(target):
            if target not in EDITABLE or not _applies(target, draft, policy):
                return Transition(FileOutcome.WRONG_STEP, step, draft)
            return Transition(FileOutcome.MOVED, target, replace(draft, editing=True))
        case ChooseWho(on_behalf):
            allowed = bool(draft.filer_communities) if on_behalf else draft.can_self
            if not allowed:
                return Transition(FileOutcome.WRONG_STEP, step, draft)
            draft = replace(draft, on_behalf=on_behalf)
            if not on_behalf:
                draft = draft.placed(draft.home_compound)
            elif draft.compound_code == draft.home_compound:
                draft = draft.placed(None)
        case EnterName(text):
            refused, name = clean_name(text)
            if refused is not None:
                return Transition(refused, step, draft)
            draft = replace(draft, reporter_name=name)
        case EnterPhone(text):
            phone = normalise_phone(text)
            if phone is None:
                return Transition(FileOutcome.PHONE_INVALID, step, draft)
            draft = replace(draft, reporter_phone=phone)
        case ChooseCompound(code):
            if all(c.code != code for c in compounds_for(draft, places)):
                return Transition(FileOutcome.UNKNOWN_PLACE, step, draft)
            draft = draft.placed(code)
        case ChooseCategory(code):
            if all(c.code != code for c in places.report_categories):
                return Transition(FileOutcome.UNKNOWN_CATEGORY, step, draft)
            if code != draft.category_code:
                draft = replace(
                    draft, category_code=code, duplicate_ids=(), duplicates_answered=False
                )
        case SupportReport(report_id):
            if report_id not in draft.duplicate_ids:
                return Transition(FileOutcome.DUPLICATE_GONE, step, draft)
            return Transition(FileOutcome.SUPPORT, step, draft)
        case FileAnyway():
            draft = replace(draft, duplicates_answered=True)
        case EnterDescription(text):
            problem = check_description(text, policy.description_max_chars)
            if problem is not None:
                return Transition(_DESCRIPTION_OUTCOMES[problem], step, draft)
            draft = replace(draft, description=text.strip())
        case GiveVoice(file_id, caption):
            if caption and caption.strip():
                problem = check_description(caption, policy.description_max_chars)
                if problem is not None:
                    return Transition(_DESCRIPTION_OUTCOMES[problem], step, draft)
                draft = replace(draft, description=caption.strip())
            draft = replace(draft, voice_file_id=file_id)
        case CaptionedPhoto(file_id, caption):
            problem = check_description(caption, policy.description_max_chars)
            if problem is not None:
                return Transition(_DESCRIPTION_OUTCOMES[problem], step, draft)
            draft = replace(draft, description=caption.strip())
            if len(draft.photos) < policy.max_photos and file_id not in draft.photos:
                draft = replace(draft, photos=(*draft.photos, file_id))
            moved_to = next_step(step, draft, policy)
            if moved_to is Step.PREVIEW:
                draft = replace(draft, editing=False)
            return Transition(FileOutcome.CAPTION_DESCRIBES, moved_to, draft)
        case GivePhoto(file_id, caption):
            if len(draft.photos) >= policy.max_photos:
                return Transition(FileOutcome.TOO_MANY_PHOTOS, step, draft)
            if file_id not in draft.photos:
                draft = replace(draft, photos=(*draft.photos, file_id))
            if caption is None or not caption.strip():
                return Transition(FileOutcome.PHOTO_ADDED, step, draft)
            added = with_caption(draft.description, caption)
            if check_description(added, policy.description_max_chars) is not None:
                return Transition(FileOutcome.CAPTION_UNUSED, step, draft)
            return Transition(FileOutcome.CAPTION_ADDED, step, replace(draft, description=added))
        case ClearPhotos():
            return Transition(FileOutcome.MOVED, step, replace(draft, photos=()))
        case PhotosDone():
            draft = replace(draft, photos_answered=True)
        case GiveLocation(latitude, longitude):
            if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
                return Transition(FileOutcome.BAD_LOCATION, step, draft)
            draft = replace(draft, latitude=latitude, longitude=longitude, location_answered=True)
        case UseHomePlace():
            draft = replace(draft, latitude=None, longitude=None, location_answered=True)
        case ChooseAnonymous(anonymous):
            draft = replace(draft, anonymous=anonymous)
        case SubmitReport():
            missing = first_missing(draft, policy)
            if missing is not None:
                return Transition(FileOutcome.MOVED, missing, draft)
            return Transition(FileOutcome.CONFIRMED, Step.DONE, replace(draft, editing=False))
    moved_to = next_step(step, draft, policy)
    if moved_to is Step.PREVIEW:
        draft = replace(draft, editing=False)
    return Transition(FileOutcome.MOVED, moved_to, draft)


def with_caption(description: str | None, caption: str) -> str:
    """The description with a photo's caption as a new line (the caption alone if none)."""
    caption = caption.strip()
    return f"{description}\n{caption}" if description else caption


_SAVED_OUTCOMES: Final = frozenset(
    {
        FileOutcome.MOVED,
        FileOutcome.PHOTO_ADDED,
        FileOutcome.CAPTION_ADDED,
        FileOutcome.CAPTION_UNUSED,
        FileOutcome.CAPTION_DESCRIBES,
    }
)
"""Outcomes that change the draft (the rest are refusals or handled on their own)."""

_DESCRIPTION_OUTCOMES: Final = {
    DescriptionProblem.EMPTY: FileOutcome.DESCRIPTION_EMPTY,
    DescriptionProblem.TOO_LONG: FileOutcome.DESCRIPTION_TOO_LONG,
}


# -- the report a draft makes ----------------------------------------------------------


def new_report(
    user_id: int,
    draft: ReportDraft,
    places: Places,
    policy: FilingPolicy,
    now: datetime,
    update_id: int,
) -> tuple[Report, Route]:
    """The report a submitted draft makes, routed and with its deadlines (not numbered yet)."""
    compound = _compound(places, draft.compound_code)
    category = next((c for c in places.report_categories if c.code == draft.category_code), None)
    if compound is None or category is None or not draft.has_description:
        raise ValueError("an incomplete draft cannot make a report")
    routed = route(category.code, compound, places, policy.rules)
    timezone = places.timezone_of(compound.community_code)
    deadlines = deadlines_at_submission(
        now, category.code, policy.deadlines, policy.calendar, timezone
    )
    if draft.on_behalf:
        if draft.reporter_name is None:
            raise ValueError("a report on someone's behalf names them")
        reporter = Reporter(name=draft.reporter_name, phone=draft.reporter_phone, filed_by=user_id)
        building = None
    else:
        reporter = Reporter(user_id=user_id)
        building = draft.home_building if draft.compound_code == draft.home_compound else None
    pinned = draft.latitude is not None and draft.longitude is not None
    report = Report(
        community_code=compound.community_code,
        compound_code=compound.code,
        category_code=category.code,
        category_type=category.type,
        description=draft.description or "",
        reporter=reporter,
        assignee=routed.assignee,
        created_at=now,
        accept_by=deadlines.accept_by,
        resolve_by=deadlines.resolve_by,
        building_code=None if pinned else building,
        latitude=draft.latitude,
        longitude=draft.longitude,
        anonymous=bool(draft.anonymous),
        updated_at=now,
        submit_update_id=update_id,
    )
    return report, routed


def local_year(now: datetime, places: Places, community_code: str) -> int:
    """The year a report is numbered in: the community's, so 00:30 on 1 January counts anew."""
    return now.astimezone(ZoneInfo(places.timezone_of(community_code))).year


# -- use cases --------------------------------------------------------------------------


class StartOutcome(StrEnum):
    STARTED = "started"
    RESUMED = "resumed"
    """A draft left with /cancel (or by a crash) goes on where it was."""
    NOT_REGISTERED = "not_registered"
    """Neither a resident nor staff: only residents report (staff for them)."""


@dataclass(frozen=True)
class StartResult:
    outcome: StartOutcome
    flow: Flow | None = None
    previous_message_id: int | None = None


async def start_report(
    uow: UnitOfWork,
    actor: Actor,
    places: Places,
    policy: FilingPolicy,
    now: datetime,
    update_id: int,
) -> StartResult:
    """``/report``: begin a report, or resume the draft (nothing entered is lost)."""
    user_id = actor.user_id
    async with uow:
        resident = await uow.residents.get(user_id)
        communities = filing_communities(actor)
        if resident is None and not communities:
            return StartResult(StartOutcome.NOT_REGISTERED)
        flow = await uow.flows.get(user_id, FILE)
        if flow is not None and flow.has_seen(update_id):
            return StartResult(StartOutcome.RESUMED, flow)
        resumed = resumable(flow)
        if resumed is not None:
            _, draft = current(resumed, places, policy)
        else:
            draft = ReportDraft()
        draft = replace(draft, filer_communities=communities).at_home(resident)
        if not draft.can_self:
            draft = replace(draft, on_behalf=True)
        if not communities and draft.on_behalf:  # no longer staff: their own report now
            draft = replace(draft, on_behalf=False).placed(draft.home_compound)
        draft = pruned(draft, places, policy)
        step = first_missing(draft, policy) or Step.PREVIEW
        if resumed is not None:
            stored = stored_step(resumed, Step, Step.DONE)
            if stored not in (Step.DONE, Step.PREVIEW) and _applies(stored, draft, policy):
                step = STEPS.resume_at(stored, first_missing(draft, policy))
        started = await enter_flow(
            uow, user_id, FILE, step.value, draft.to_json(), update_id=update_id, now=now
        )
        await uow.commit()
    return StartResult(
        StartOutcome.RESUMED if resumed else StartOutcome.STARTED,
        started,
        previous_message_id=resumed.message_id if resumed else None,
    )


@dataclass(frozen=True)
class FileResult:
    outcome: FileOutcome
    flow: Flow | None = None
    report: Report | None = None
    """The report filed (SUBMITTED, REPLAYED) or supported (SUPPORTED, ALREADY_SUPPORTED)."""
    routed: Route | None = None

    @property
    def draft(self) -> ReportDraft:
        return ReportDraft.from_json(self.flow.draft) if self.flow else ReportDraft()


async def answer_report(
    uow: UnitOfWork,
    actor: Actor,
    answer: Answer,
    places: Places,
    policy: FilingPolicy,
    now: datetime,
    update_id: int,
    message_id: int | None,
    desk_notices: DeskNotices | None = None,
) -> FileResult:
    """Apply a press, a text, a photo, a voice note or a pin to the person's filing flow.

    Choosing a category (or the compound) looks for open reports to support
    (:func:`likely_duplicates`); submitting files one report however often the
    update is delivered; "me too" counts once per person.
    """
    user_id = actor.user_id
    async with uow:
        gate = await gate_answer(uow, user_id, (FILE,), update_id, message_id)
        flow = gate.flow
        if gate.gate is Gate.REPLAYED and flow is not None:
            return await _replayed(uow, flow, update_id)
        if not gate.open or flow is None:
            return FileResult(FileOutcome(gate.gate.value), flow)
        resident = await uow.residents.get(user_id)
        draft0 = ReportDraft.from_json(flow.draft)
        if resident is None and not draft0.on_behalf:
            return FileResult(FileOutcome.NOT_REGISTERED, flow)
        step, draft = current(flow, places, policy)
        transition = answer_step(step, draft, answer, places, policy)
        outcome = transition.outcome
        if outcome is FileOutcome.SUPPORT and isinstance(answer, SupportReport):
            return await _support(
                uow, flow, draft, answer.report_id, user_id, policy, now, update_id
            )
        if outcome is FileOutcome.DUPLICATE_GONE:  # a button of an older offer: offer anew
            draft = await _offer(uow, draft, user_id, policy, now)
            step = Step.DUPLICATE if draft.duplicate_ids else next_step(step, draft, policy)
            return await _save(
                uow, flow, step, draft, now, update_id, message_id, FileOutcome.DUPLICATE_GONE
            )
        if outcome is FileOutcome.CONFIRMED:
            return await _submit(
                uow,
                actor,
                flow,
                transition.draft,
                resident,
                places,
                policy,
                now,
                update_id,
                desk_notices,
            )
        if outcome not in _SAVED_OUTCOMES:
            return FileResult(outcome, flow)
        moved_to, draft = transition.step, transition.draft
        if (
            isinstance(answer, ChooseCategory | ChooseCompound | ChooseWho)
            and not draft.duplicates_answered
            and not draft.duplicate_ids
        ):
            draft = await _offer(uow, draft, user_id, policy, now)
            if draft.duplicate_ids:
                moved_to = Step.DUPLICATE if draft.category_code else moved_to
        return await _save(uow, flow, moved_to, draft, now, update_id, message_id, outcome)


async def _save(
    uow: UnitOfWork,
    flow: Flow,
    step: Step,
    draft: ReportDraft,
    now: datetime,
    update_id: int,
    message_id: int | None,
    outcome: FileOutcome,
) -> FileResult:
    moved = flow.moved(
        step=step.value,
        draft=draft.to_json(),
        update_id=update_id,
        now=now,
        message_id=message_id,
    )
    await uow.flows.save(moved)
    await uow.commit()
    return FileResult(outcome, moved)


async def _offer(
    uow: UnitOfWork, draft: ReportDraft, user_id: int, policy: FilingPolicy, now: datetime
) -> ReportDraft:
    """The draft with the open reports "me too" may support (none on someone's behalf)."""
    if draft.on_behalf or draft.compound_code is None or draft.category_code is None:
        return replace(draft, duplicate_ids=())
    found = await likely_duplicates(
        uow, draft.compound_code, draft.category_code, user_id, policy, now
    )
    return replace(draft, duplicate_ids=tuple(r.id for r in found if r.id is not None))


async def likely_duplicates(
    uow: UnitOfWork,
    compound_code: str,
    category_code: str,
    user_id: int,
    policy: FilingPolicy,
    now: datetime,
) -> list[Report]:
    """Open reports of the compound and category in the window, not the person's own."""
    since = duplicate_window_start(now, policy.duplicate_window_days)
    found = await uow.reports.likely_duplicates(compound_code, category_code, since)
    return [r for r in found if r.reporter.user_id != user_id][:DUPLICATES_OFFERED]


async def offered_reports(uow: UnitOfWork, draft: ReportDraft) -> list[Report]:
    """The reports a draft's "me too" step shows (inside ``async with uow``), still open."""
    shown = []
    for report_id in draft.duplicate_ids:
        report = await uow.reports.get(report_id)
        if report is not None and report.is_open:
            shown.append(report)
    return shown


async def _support(
    uow: UnitOfWork,
    flow: Flow,
    draft: ReportDraft,
    report_id: int,
    user_id: int,
    policy: FilingPolicy,
    now: datetime,
    update_id: int,
) -> FileResult:
    """ "Me too" on an offered report: counted once per person; the flow ends (nothing filed).

    A report closed since it was offered leaves the offer (the person files
    anyway or picks another); one already supported by this person says so and
    the flow stays where it is.
    """
    report = await uow.reports.get(report_id)
    if report is None or not report.is_open:
        draft = replace(
            draft, duplicate_ids=tuple(i for i in draft.duplicate_ids if i != report_id)
        )
        step = Step.DUPLICATE if draft.duplicate_ids else next_step(Step.DUPLICATE, draft, policy)
        return await _save(uow, flow, step, draft, now, update_id, None, FileOutcome.DUPLICATE_GONE)
    if not await uow.reports.support(report_id, user_id, now):
        return FileResult(FileOutcome.ALREADY_SUPPORTED, flow, report)
    finished = flow.moved(
        step=Step.DONE.value,
        draft=replace(draft, supported_id=report_id, photos=(), voice_file_id=None).to_json(),
        update_id=update_id,
        now=now,
        active=False,
    )
    await uow.flows.save(finished)
    supported = await uow.reports.get(report_id) or report
    await uow.commit()
    return FileResult(FileOutcome.SUPPORTED, finished, supported)


async def _replayed(uow: UnitOfWork, flow: Flow, update_id: int) -> FileResult:
    """The update was applied already: show what it came to, change nothing."""
    report = await uow.reports.filed_by_update(update_id)
    if report is not None:
        return FileResult(FileOutcome.REPLAYED, flow, report)
    draft = ReportDraft.from_json(flow.draft)
    if flow.finished and draft.supported_id is not None:
        report = await uow.reports.get(draft.supported_id)
        return FileResult(FileOutcome.REPLAYED, flow, report)
    if flow.finished and draft.report_id is not None:
        report = await uow.reports.get(draft.report_id)
    return FileResult(FileOutcome.REPLAYED, flow, report)


async def _submit(
    uow: UnitOfWork,
    actor: Actor,
    flow: Flow,
    draft: ReportDraft,
    resident: Resident | None,
    places: Places,
    policy: FilingPolicy,
    now: datetime,
    update_id: int,
    desk_notices: DeskNotices | None = None,
) -> FileResult:
    """File the report; in the same unit of work, its deadline jobs and the desk's
    notice (:mod:`civic.reports_reminders`), so each exists exactly when the report does."""
    user_id = actor.user_id
    already = await uow.reports.filed_by_update(update_id)
    if already is not None:  # the flow row was lost, the report was not: never file twice
        return FileResult(FileOutcome.REPLAYED, flow, already)
    if not draft.on_behalf:
        homed = draft.at_home(resident)
        if homed.compound_code != draft.compound_code:  # moved house meanwhile: check again
            homed = await _offer(uow, homed, user_id, policy, now)
            step = first_missing(homed, policy) or Step.PREVIEW
            return await _save(uow, flow, step, homed, now, update_id, None, FileOutcome.MOVED)
        draft = homed
    else:
        compound = _compound(places, draft.compound_code)
        if compound is None or compound.community_code not in filing_communities(actor):
            return FileResult(FileOutcome.NOT_ALLOWED, flow)
    report, routed = new_report(user_id, draft, places, policy, now, update_id)
    number = await uow.reports.next_number(
        report.community_code, local_year(now, places, report.community_code)
    )
    report = await uow.reports.add(replace(report, number=number))
    assert report.id is not None
    event_id = await uow.reports.add_event(
        ReportEvent(
            report_id=report.id,
            kind=None,
            actor_role=ActorRole.STAFF if draft.on_behalf else ActorRole.REPORTER,
            at=now,
            to_state=ReportState.SUBMITTED,
            actor_id=user_id,
            assignee=report.assignee,
            update_id=update_id,
        )
    )
    files: list[tuple[str, AttachmentKind]] = [(p, AttachmentKind.PHOTO) for p in draft.photos]
    if draft.voice_file_id is not None:
        files.append((draft.voice_file_id, AttachmentKind.VOICE))
    for file_id, kind in files:
        await uow.reports.add_attachment(
            Attachment(report.id, file_id, kind, now, event_id=event_id, added_by=user_id)
        )
    if draft.on_behalf:
        await uow.audit.record(
            AuditEntry(
                at=now,
                actor_id=user_id,
                action=FILED_ON_BEHALF,
                community_code=report.community_code,
                details={"report": str(number), "compound": report.compound_code},
                update_id=update_id,
            )
        )
    await schedule_deadline_jobs(uow, report, now, places.timezone_of(report.community_code))
    if desk_notices is not None:
        await tell_desk(uow, report, event_id, desk_notices, now, actor_id=user_id)
    finished = flow.moved(
        step=Step.DONE.value,
        # The report holds the files now; the finished draft keeps no copy of their keys.
        draft=replace(draft, report_id=report.id, photos=(), voice_file_id=None).to_json(),
        update_id=update_id,
        now=now,
        active=False,
    )
    await uow.flows.save(finished)
    await uow.commit()
    return FileResult(FileOutcome.SUBMITTED, finished, report, routed)


# -- /myreports -------------------------------------------------------------------------


@dataclass(frozen=True)
class MyReports:
    reports: list[Report]
    more: bool
    """More than :data:`MY_REPORTS_SHOWN`: the list says so."""


async def my_reports(uow: UnitOfWork, user_id: int) -> MyReports:
    """The person's own reports, newest first (the first :data:`MY_REPORTS_SHOWN`)."""
    async with uow:
        found = await uow.reports.of_reporter(user_id, limit=MY_REPORTS_SHOWN + 1)
    return MyReports(found[:MY_REPORTS_SHOWN], len(found) > MY_REPORTS_SHOWN)
