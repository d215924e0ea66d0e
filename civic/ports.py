"""What the domain's use cases need from storage, as protocols (ports).

The storage package implements them with SQLAlchemy; unit tests can use
hand-written fakes (Cosmic Python, ``unit_of_work.py``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self

from civic.audit import AuditEntry
from civic.flows import Flow
from civic.household_codes import HouseholdCode
from civic.jobs import DueJob
from civic.outbox import OutgoingMessage
from civic.places import Building, Community, Compound, Places, SyncResult
from civic.register_claims import Claim as RegisterClaim
from civic.register_claims import ClaimStatus as RegisterClaimStatus
from civic.register_claims import RejectReason as RegisterRejectReason
from civic.reports import Attachment, Feedback, Report, ReportEvent, ReportState, TrackingNumber
from civic.reports_routing import AssigneeKind
from civic.reports_stats import ReportHistory
from civic.residents import Resident
from civic.roles import Grant, Role, Tag


class PlacesRepository(Protocol):
    """Places as the database holds them; never commits."""

    async def sync(self, places: Places, now: datetime) -> SyncResult: ...

    async def load(self) -> Places: ...

    async def get_community(self, code: str) -> Community | None: ...

    async def get_compound(self, code: str) -> Compound | None: ...

    async def get_building(self, code: str) -> Building | None: ...


class DueJobsRepository(Protocol):
    """Work a service wants done at a moment (a reminder, a ballot's close); never commits.

    ``(kind, key)`` names a job: scheduling it again moves it while it is pending
    and leaves it alone once finished, so services may re-state their schedule
    freely. ``stale_after``: past it the job is skipped, not run late (R4).
    """

    async def schedule(
        self,
        kind: str,
        key: str,
        due_at: datetime,
        now: datetime,
        *,
        stale_after: datetime | None = None,
        payload: Mapping[str, Any] | None = None,
    ) -> bool: ...

    async def reschedule(
        self, kind: str, key: str, due_at: datetime, *, stale_after: datetime | None
    ) -> bool: ...

    async def cancel(self, kind: str, key: str, now: datetime) -> bool: ...

    async def get(self, kind: str, key: str) -> DueJob | None: ...


class ResidentsRepository(Protocol):
    """Residents by Telegram user id; never commits."""

    async def get(self, user_id: int) -> Resident | None: ...

    async def add(self, resident: Resident) -> bool:
        """Insert ``resident``; ``False`` (and nothing written) if the user id exists."""
        ...

    async def update(self, resident: Resident) -> None: ...

    async def set_language(self, user_id: int, language: str, now: datetime) -> bool:
        """Store the language of a resident; ``False`` if there is no such resident."""
        ...

    async def language_of(self, user_id: int) -> str | None:
        """The resident's language, or ``None`` if not registered (one indexed read)."""
        ...

    async def languages(self) -> list[tuple[int, str]]:
        """Every resident's user id and language."""
        ...


class FlowsRepository(Protocol):
    """Flow state and drafts, one row per person and flow name; never commits."""

    async def get(self, user_id: int, name: str) -> Flow | None: ...

    async def of_user(self, user_id: int) -> list[Flow]: ...

    async def active(self, user_id: int) -> Flow | None: ...

    async def unfinished(self, name: str) -> list[Flow]:
        """Every flow called ``name`` that is not done, active or not."""
        ...

    async def save(self, flow: Flow) -> None:
        """Insert or replace the row of ``(flow.user_id, flow.name)``."""
        ...

    async def deactivate_all(self, user_id: int, now: datetime) -> None:
        """Make none of the person's flows active (before another one starts)."""
        ...

    async def set_message(
        self, user_id: int, name: str, message_id: int, now: datetime
    ) -> None: ...


class PersonalDataRepository(Protocol):
    """One person's data across tables (``/mydata``, ``/deleteme``); never commits."""

    async def export(self, user_id: int) -> dict[str, Any]: ...

    async def erase(self, user_id: int) -> object: ...


class RolesRepository(Protocol):
    """Live role grants and resident tags; never commits."""

    async def of_user(self, user_id: int) -> list[Grant]:
        """The person's live grants."""
        ...

    async def add(self, grant: Grant) -> bool:
        """Grant it; ``False`` (nothing written) if the same live grant exists."""
        ...

    async def revoke(self, grant: Grant, by: int | None, now: datetime) -> bool:
        """End the live grant matching ``grant``'s person, role and scope; ``False`` if none."""
        ...

    async def in_community(self, community_code: str) -> list[Grant]:
        """Live grants whose scope lies in the community (staff, grid workers, owners)."""
        ...

    async def holders(self, role: Role) -> list[Grant]:
        """Every live grant of ``role`` (admins, liaisons: scopes wider than a community)."""
        ...

    async def tags_of(self, user_id: int) -> list[tuple[Tag, str]]:
        """The person's tags, each with the community it is held in."""
        ...

    async def add_tag(
        self, user_id: int, tag: Tag, community_code: str, by: int | None, now: datetime
    ) -> bool: ...

    async def remove_tag(self, user_id: int, tag: Tag, community_code: str) -> bool: ...

    async def tagged(self, community_code: str, tag: Tag | None = None) -> list[tuple[int, Tag]]:
        """People tagged in the community (with ``tag``, or any), for invitations."""
        ...


class AuditRepository(Protocol):
    """The audit log; append-only for services; never commits."""

    async def record(self, entry: AuditEntry) -> int:
        """Append ``entry``; returns its id."""
        ...

    async def recent(
        self, communities: frozenset[str] | None, limit: int, before_id: int | None = None
    ) -> list[AuditEntry]:
        """Newest first; ``communities=None`` for every entry (county admins)."""
        ...

    async def recorded_for_update(self, action: str, update_id: int) -> bool:
        """Whether this Telegram update already led to an entry of ``action``."""
        ...


class HouseholdCodesRepository(Protocol):
    """Printed household codes, by hash, and wrong guesses (:mod:`civic.household_codes`)."""

    async def add_many(self, codes: Sequence[HouseholdCode]) -> None: ...

    async def find(self, code_hash: str) -> HouseholdCode | None: ...

    async def get(self, code_id: int) -> HouseholdCode | None: ...

    async def claim(self, code_id: int, user_id: int, now: datetime) -> bool:
        """Mark it used by ``user_id`` if still unused and unexpired; ``False`` otherwise."""
        ...

    async def issued_by_update(self, update_id: int) -> int:
        """How many codes the ``/codes`` of this update printed (0: none yet)."""
        ...

    async def record_failure(self, user_id: int, now: datetime, forget_before: datetime) -> None:
        """Count one wrong code; drop everyone's guesses before ``forget_before``."""
        ...

    async def failures_since(self, user_id: int, since: datetime) -> list[datetime]:
        """When this person typed wrong codes after ``since``, oldest first."""
        ...

    async def count_failures_since(self, since: datetime) -> int:
        """How many wrong codes anyone in the county typed after ``since``."""
        ...


class BuildingLinksRepository(Protocol):
    """The version of each building's printed code (0 until rotated); never commits."""

    async def version(self, building_code: str) -> int: ...

    async def versions(self) -> dict[str, int]: ...

    async def rotate(self, building_code: str, by: int | None, now: datetime) -> int:
        """Raise the version by one; return the new one."""
        ...


class OutboxRepository(Protocol):
    """Messages to send later (notifications); never commits."""

    async def enqueue(self, messages: Sequence[OutgoingMessage], now: datetime) -> None:
        """Queue messages; one whose ``dedupe_key`` is already queued is left out."""
        ...

    async def discard_pending(self, dedupe_prefix: str) -> int:
        """Take back unsent messages whose ``dedupe_key`` starts with the prefix; how many."""
        ...


class RegisterClaimsRepository(Protocol):
    """Owner claims (:mod:`civic.register_claims`); never commits."""

    async def add(self, claim: RegisterClaim) -> int:
        """Insert a pending claim; returns its id."""
        ...

    async def get(self, claim_id: int) -> RegisterClaim | None: ...

    async def of_user(self, user_id: int) -> list[RegisterClaim]:
        """The person's claims, newest first."""
        ...

    async def pending_for(
        self, user_id: int, compound_code: str, building_code: str | None, unit_label: str
    ) -> RegisterClaim | None:
        """The person's pending claim to this unit, if any (one at a time)."""
        ...

    async def pending_in(
        self, community_code: str, limit: int, *, excluding: int | None = None
    ) -> list[RegisterClaim]:
        """The community's pending claims, oldest first; none of ``excluding``'s."""
        ...

    async def count_pending_in(self, community_code: str, *, excluding: int | None = None) -> int:
        """How many pending claims :meth:`pending_in` would list without a limit."""
        ...

    async def settle(
        self,
        claim_id: int,
        status: RegisterClaimStatus,
        *,
        by: int,
        now: datetime,
        reason_code: RegisterRejectReason | None = None,
        reason: str | None = None,
    ) -> bool:
        """Decide or withdraw a claim that is still pending; ``False`` (nothing written) if not."""
        ...


class ReportsRepository(Protocol):
    """Reports, their events, attachments, "me too"s and feedback (:mod:`civic.reports`);
    never commits."""

    async def next_number(self, community_code: str, year: int) -> TrackingNumber:
        """Raise the community's counter for ``year`` and return the new number (race-safe)."""
        ...

    async def add(self, report: Report) -> Report:
        """Store a numbered report; returns it with its id."""
        ...

    async def get(self, report_id: int) -> Report | None: ...

    async def get_by_number(self, number: TrackingNumber) -> Report | None: ...

    async def filed_by_update(self, update_id: int) -> Report | None:
        """The report this update filed, if any (a redelivered submit files nothing new)."""
        ...

    async def save(self, report: Report, expected_state: ReportState) -> bool:
        """Write the changeable fields if the report is still in ``expected_state``."""
        ...

    async def open_in_community(
        self, community_code: str, *, limit: int, offset: int = 0
    ) -> list[Report]:
        """Open reports of the community, oldest first."""
        ...

    async def open_for_assignee(
        self, kind: AssigneeKind, code: str, *, limit: int, offset: int = 0
    ) -> list[Report]:
        """Open reports on a grid's, township's or department's desk, oldest first."""
        ...

    async def count_open_in_community(self, community_code: str) -> int: ...

    async def of_reporter(self, user_id: int, *, limit: int) -> list[Report]:
        """The person's reports, newest first."""
        ...

    async def likely_duplicates(
        self, compound_code: str, category_code: str, since: datetime
    ) -> list[Report]:
        """Open reports of this compound and category filed since ``since``, oldest first."""
        ...

    async def add_event(self, event: ReportEvent) -> int: ...

    async def events(self, report_id: int) -> list[ReportEvent]:
        """The report's history, oldest first."""
        ...

    async def add_attachment(self, attachment: Attachment) -> int: ...

    async def attachments(self, report_id: int) -> list[Attachment]: ...

    async def support(self, report_id: int, user_id: int, now: datetime) -> bool:
        """Count a "me too" once per person; ``False`` if already counted."""
        ...

    async def has_supported(self, report_id: int, user_id: int) -> bool: ...

    async def add_feedback(self, feedback: Feedback) -> bool:
        """Store the answer to one resolution; ``False`` if already answered."""
        ...

    async def feedback(self, report_id: int) -> list[Feedback]: ...

    async def rate_feedback(self, resolve_event_id: int, rating: int) -> bool:
        """Set the 1-5 rating of one answered resolution once; ``False`` if it had one
        already or nobody answered it."""
        ...

    async def comment_feedback(self, resolve_event_id: int, comment: str) -> bool:
        """Set the comment of one answered resolution once; ``False`` if it had one
        already or nobody answered it."""
        ...

    async def open_taken_by(self, user_id: int, community_code: str) -> list[Report]:
        """Open reports of the community this person accepted (a revoke hands them over)."""
        ...

    async def in_period(
        self, community_code: str, start: datetime, end: datetime
    ) -> list[ReportHistory]:
        """The community's reports filed in ``[start, end)``, oldest first, with their
        events and feedback, in a few queries (``/stats`` and its exports)."""
        ...

    async def open_taken_anywhere(self, user_id: int) -> list[Report]:
        """Open reports this person accepted, in every community (a liaison's or an
        admin's revoke releases the ones they may no longer handle)."""
        ...

    async def photo_counts(self, report_ids: Collection[int]) -> dict[int, int]:
        """Photos per report in one query; reports without photos are absent."""
        ...

    async def latest_events(
        self, report_ids: Collection[int], per_report: int
    ) -> dict[int, list[ReportEvent]]:
        """The last ``per_report`` events of each report, oldest first, no attachments."""
        ...


class UnitOfWork(Protocol):
    """One transaction: ``async with uow: ...; await uow.commit()``; rolls back otherwise."""

    @property
    def places(self) -> PlacesRepository: ...

    @property
    def due_jobs(self) -> DueJobsRepository: ...

    @property
    def residents(self) -> ResidentsRepository: ...

    @property
    def flows(self) -> FlowsRepository: ...

    @property
    def personal_data(self) -> PersonalDataRepository: ...

    @property
    def roles(self) -> RolesRepository: ...

    @property
    def audit(self) -> AuditRepository: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def household_codes(self) -> HouseholdCodesRepository: ...

    @property
    def building_links(self) -> BuildingLinksRepository: ...

    @property
    def register_claims(self) -> RegisterClaimsRepository: ...

    @property
    def reports(self) -> ReportsRepository: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...
