"""One-time household codes, building-code rotation and verification by staff.

Spec 01: a resident is *verified* when staff confirm them, or by a one-time
household code; spec 04 wants "one-time verification codes per unit delivered on
paper door to door … single-use and expire" for the owners' register, so a code
is bound to a place as narrow as one unit and can later carry more meaning.

Codes, and why they look like this:

* **Typed from paper.** Eight characters from :data:`ALPHABET` (no ``0 O 1 I L``),
  printed as ``ABCD-2345``; typed in either case, with or without the dash or
  spaces, in full-width characters from a Chinese keyboard too
  (:func:`normalise_code`).
* **Unguessable.** Drawn with :mod:`secrets`: 31⁸ ≈ 8.5 × 10¹¹ codes. With even
  10 000 live codes a guess succeeds with a chance of about 1 in 85 million, and
  a person gets :data:`MAX_FAILURES` wrong guesses per hour, and the whole county
  ``[residents] household_code_wrong_per_hour`` (:func:`redeem_household_code`).
* **Never stored.** The table keeps only the SHA-256 of the normalised code
  (:func:`code_hash`), so a copy of the database verifies no one by reading it.
  An offline search of the whole space is possible for someone holding the
  database; a keyed hash would stop that, but would make every printed code
  depend on the bot's signing key never changing.
* **Single use, expiring** at the end of the day printed on the slip
  (``[residents] household_code_days`` after printing, in the community's time
  zone: :func:`expiry`), so the slip's date is true to the minute.

Failed attempts are counted in the database (``household_code_attempts``), not by
the per-user flood control: that one allows 20 messages per 10 s and lives in
memory, so a restart would reset it; a per-hour count that survives restarts is
what makes guessing hopeless. The rows outlive ``/deleteme`` (they hold only an
id and a time and age out within the hour): otherwise erasing one's data would
reset one's limit. A county-wide cap on wrong guesses per hour stops someone
spreading guesses over many accounts; once reached, only those who already typed
a wrong code this hour, and strangers, wait (:func:`_must_wait` says why): a
resident's first code of the hour is always checked, so nobody can stop honest
residents being verified by guessing wrong on purpose.

``/codes`` and ``/rotate`` are idempotent by Telegram ``update_id``: an update
handled again after a crash neither prints a second batch nor rotates twice (which
would void the QR code just sent, or one another member of staff rotated since).

Building codes (:func:`civic.residents.location_code`) carry a per-building
version: :func:`rotate_building_code` raises it, so a photographed QR code stops
locating people while the freshly printed one does.

No Telegram, no SQL, no clock: ``now`` and the places are passed in.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

from civic.audit import AuditEntry
from civic.outbox import OutgoingMessage
from civic.places import Places
from civic.residents import (
    DEFAULT_LANGUAGE,
    HouseholdPreset,
    Resident,
    StartResult,
    UnitCheck,
    VerificationLevel,
    check_unit,
    start_onboarding,
    verified_at,
)
from civic.roles import Action, Actor, Decision, decide

if TYPE_CHECKING:
    from civic.ports import UnitOfWork

ALPHABET: Final = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
"""Digits and capitals that cannot be mistaken for one another on paper (no 0 O 1 I L)."""
CODE_LENGTH: Final = 8
HOUSEHOLD_LINK_PREFIX: Final = "hc_"
"""``t.me/<bot>?start=hc_ABCD2345``: the deep link printed on each slip."""

MAX_CODES: Final = 200
"""Codes one ``/codes`` prints: a building's worth, a sheet a printer handles."""
MAX_FAILURES: Final = 5
"""Wrong codes a person may type per :data:`FAILURE_WINDOW` (then they wait)."""
FAILURE_WINDOW: Final = timedelta(hours=1)
COUNTY_FAILURES: Final = 200
"""Default of ``[residents] household_code_wrong_per_hour``: wrong codes the whole county
may type per :data:`FAILURE_WINDOW` (honest typos are a handful; more is someone guessing
with many accounts)."""
MAX_COUNT_DIGITS: Final = 4
"""``/codes``' COUNT is at most :data:`MAX_CODES`; longer digit strings are not converted."""

AUDIT_CODES_ISSUED: Final = "residents.codes_issued"
AUDIT_CODE_ROTATED: Final = "residents.code_rotated"
AUDIT_VERIFIED: Final = "residents.verified"


# -- codes ----------------------------------------------------------------------------


def generate_code(choice: Callable[[str], str] = secrets.choice) -> str:
    """A new code, normalised (``ABCD2345``); ``choice`` is :func:`secrets.choice`."""
    return "".join(choice(ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    """As printed and shown: ``ABCD-2345``."""
    half = CODE_LENGTH // 2
    return f"{code[:half]}-{code[half:]}"


def normalise_code(text: str) -> str | None:
    """The code someone typed, as stored (``ABCD2345``), or ``None`` if it cannot be one.

    Full-width characters become ASCII (NFKC), case is ignored, and spaces,
    dashes and the link prefix ``hc_`` are dropped, so ``abcd 2345``,
    ``ABCD－2345`` and ``hc_ABCD2345`` are the same code.
    """
    cleaned = unicodedata.normalize("NFKC", text).strip().upper()
    if cleaned.startswith(HOUSEHOLD_LINK_PREFIX.upper()):
        cleaned = cleaned[len(HOUSEHOLD_LINK_PREFIX) :]
    cleaned = "".join(ch for ch in cleaned if ch not in " -_\u2010\u2011\u2012\u2013\u2014")
    if len(cleaned) != CODE_LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned


def code_hash(code: str) -> str:
    """What the table stores of a normalised code: its SHA-256, in hex."""
    return hashlib.sha256(f"household:{code}".encode()).hexdigest()


def household_payload(code: str) -> str:
    """The deep-link payload of a slip: ``hc_ABCD2345``."""
    return f"{HOUSEHOLD_LINK_PREFIX}{code}"


def parse_count(text: str) -> int | None:
    """``/codes``' COUNT as typed: ASCII digits only (``"²".isdigit()`` is true but
    ``int("²")`` raises), few enough to convert cheaply; ``None`` if it is not a count."""
    cleaned = text.strip()
    if not cleaned.isascii() or not cleaned.isdigit() or len(cleaned) > MAX_COUNT_DIGITS:
        return None
    return int(cleaned)


def expiry(now: datetime, valid_days: int, timezone: str) -> tuple[date, datetime]:
    """The last day printed on a slip and the moment the code stops working.

    The slip shows only a date, so the code works until that day ends in the
    community's time zone: issued on 25 November at 20:00 for 30 days, it works
    all of 25 December and stops at midnight.
    """
    zone = ZoneInfo(timezone)
    last_day = (now.astimezone(zone) + timedelta(days=valid_days)).date()
    end = datetime.combine(last_day + timedelta(days=1), time(), tzinfo=zone)
    return last_day, end.astimezone(now.tzinfo)


def is_household_payload(payload: str | None) -> bool:
    """Whether a ``/start`` payload is a household code's link (``hc_...``)."""
    return payload is not None and payload[: len(HOUSEHOLD_LINK_PREFIX)].lower() == (
        HOUSEHOLD_LINK_PREFIX
    )


class CodeStatus(StrEnum):
    USABLE = "usable"
    USED = "used"
    EXPIRED = "expired"


@dataclass(frozen=True)
class HouseholdCode:
    """A printed code as the database holds it: its hash and the place it verifies."""

    code_hash: str
    community_code: str
    compound_code: str
    building_code: str | None
    unit_label: str | None
    issued_by: int | None
    issued_at: datetime
    expires_at: datetime
    used_by: int | None = None
    used_at: datetime | None = None
    """Kept when the user erases their data (``used_by`` emptied): the code stays used."""
    issue_update_id: int | None = None
    """The ``/codes`` update that printed it: that update never prints a second batch."""
    id: int | None = None

    def status(self, now: datetime) -> CodeStatus:
        if self.used_at is not None:
            return CodeStatus.USED
        if now >= self.expires_at:
            return CodeStatus.EXPIRED
        return CodeStatus.USABLE


@dataclass(frozen=True)
class IssuedCode:
    """A code just printed: the only moment its text exists, for the sheet."""

    code: str
    record: HouseholdCode


# -- places ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CodePlace:
    """A compound, or a building of it, that codes are printed for."""

    community_code: str
    compound_code: str
    building_code: str | None = None


def resolve_place(code: str, places: Places) -> CodePlace | None:
    """The compound or building ``code`` names (case ignored); ``None`` for anything else."""
    key = code.strip().upper()
    building = next((b for b in places.buildings if b.code.upper() == key), None)
    if building is not None:
        compound = next((c for c in places.compounds if c.code == building.compound_code), None)
        if compound is not None:
            return CodePlace(compound.community_code, compound.code, building.code)
    compound = next((c for c in places.compounds if c.code.upper() == key), None)
    if compound is not None:
        return CodePlace(compound.community_code, compound.code)
    return None


# -- issuing ------------------------------------------------------------------------------


class IssueOutcome(StrEnum):
    ISSUED = "issued"
    ALREADY_ISSUED = "already_issued"
    """This very update printed its batch before (handled again after a crash): the
    codes were sent then and cannot be shown again — only their hashes are kept."""
    REFUSED = "refused"
    """:attr:`IssueResult.decision` says why."""
    UNKNOWN_PLACE = "unknown_place"
    """Not a compound or building code (a community is too wide for a household)."""
    BAD_COUNT = "bad_count"
    """Not 1 to :data:`MAX_CODES` codes in all."""
    BAD_UNIT = "bad_unit"
    """A unit label that :func:`civic.residents.check_unit` refuses."""


@dataclass(frozen=True)
class IssueResult:
    outcome: IssueOutcome
    decision: Decision = Decision.ALLOWED
    place: CodePlace | None = None
    codes: tuple[IssuedCode, ...] = ()
    expires_at: datetime | None = None
    last_day: date | None = None
    """The date printed on the slips: the codes work until it ends (:func:`expiry`)."""
    bad_unit: str | None = None
    already: int = 0
    """For :attr:`IssueOutcome.ALREADY_ISSUED`: how many codes that batch had."""


def codes_wanted(count: int, units: Sequence[str]) -> int:
    """How many codes ``/codes PLACE COUNT [UNIT…]`` prints: ``count`` for each unit named."""
    return count * max(1, len(units))


async def issue_household_codes(
    uow: UnitOfWork,
    actor: Actor,
    place_code: str,
    count: int,
    units: Sequence[str],
    places: Places,
    now: datetime,
    valid_days: int,
    update_id: int | None = None,
    generate: Callable[[], str] = generate_code,
) -> IssueResult:
    """``/codes PLACE COUNT [UNIT…]``: print one-time codes for a compound or building.

    With units, ``count`` codes are printed for each unit (a household of
    several adults needs several); without, ``count`` codes for the place. The
    audit entry records how many and where — never the codes. The same
    ``update_id`` a second time prints nothing (:attr:`IssueOutcome.ALREADY_ISSUED`).
    """
    place = resolve_place(place_code, places)
    if place is None:
        return IssueResult(IssueOutcome.UNKNOWN_PLACE)
    decision = decide(actor, Action.ISSUE_HOUSEHOLD_CODES, place.community_code, places)
    if not decision.allowed:
        return IssueResult(IssueOutcome.REFUSED, decision, place)
    total = codes_wanted(count, units)
    if count < 1 or total > MAX_CODES:
        return IssueResult(IssueOutcome.BAD_COUNT, place=place)
    labels: list[str | None] = []
    for unit in units:
        check, cleaned = check_unit(unit)
        if check is not UnitCheck.OK:
            return IssueResult(IssueOutcome.BAD_UNIT, place=place, bad_unit=unit)
        labels.append(cleaned)
    if update_id is not None:
        async with uow:
            already = await uow.household_codes.issued_by_update(update_id)
        if already:
            return IssueResult(IssueOutcome.ALREADY_ISSUED, place=place, already=already)
    last_day, expires_at = expiry(now, valid_days, places.timezone_of(place.community_code))
    issued: list[IssuedCode] = []
    seen: set[str] = set()
    for label in labels or [None]:  # no units named: codes for the whole place
        for _ in range(count):
            code = generate()
            while code in seen:  # 200 draws from 8.5e11: astronomically rare, but cheap
                code = generate()
            seen.add(code)
            record = HouseholdCode(
                code_hash=code_hash(code),
                community_code=place.community_code,
                compound_code=place.compound_code,
                building_code=place.building_code,
                unit_label=label,
                issued_by=actor.user_id,
                issued_at=now,
                expires_at=expires_at,
                issue_update_id=update_id,
            )
            issued.append(IssuedCode(code, record))
    async with uow:
        await uow.household_codes.add_many([i.record for i in issued])
        await uow.audit.record(
            AuditEntry(
                at=now,
                actor_id=actor.user_id,
                action=AUDIT_CODES_ISSUED,
                community_code=place.community_code,
                details={
                    "count": len(issued),
                    "compound": place.compound_code,
                    "building": place.building_code,
                    "units": len(units),
                    "expires_at": expires_at.isoformat(),
                },
                update_id=update_id,
            )
        )
        await uow.commit()
    return IssueResult(
        IssueOutcome.ISSUED,
        place=place,
        codes=tuple(issued),
        expires_at=expires_at,
        last_day=last_day,
    )


# -- redeeming ------------------------------------------------------------------------------


class RedeemOutcome(StrEnum):
    VERIFIED = "verified"
    """The resident is verified now (building and unit set from the code, if it names them)."""
    REPEATED = "repeated"
    """This person used this very code before (a retry): nothing changes."""
    MALFORMED = "malformed"
    """Not eight characters of the code alphabet: a typo, nothing was looked up."""
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    OTHER_COMPOUND = "other_compound"
    """The code is for a compound the resident is not registered in: nobody is moved silently."""
    NOT_REGISTERED = "not_registered"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    """:data:`MAX_FAILURES` wrong codes in the last hour: try again at ``retry_at``."""
    COUNTY_BUSY = "county_busy"
    """The county's wrong codes this hour reached the cap: everyone waits until ``retry_at``."""


FAILURES: Final = frozenset(
    {
        RedeemOutcome.UNKNOWN,
        RedeemOutcome.USED,
        RedeemOutcome.EXPIRED,
        RedeemOutcome.OTHER_COMPOUND,
    }
)
"""Outcomes that count as a guess: the code looked up was not one this person may use."""


@dataclass(frozen=True)
class RedeemResult:
    outcome: RedeemOutcome
    resident: Resident | None = None
    code: HouseholdCode | None = None
    retry_at: datetime | None = None


async def _must_wait(
    uow: UnitOfWork, user_id: int, now: datetime, county_cap: int, *, registered: bool
) -> tuple[RedeemOutcome, datetime | None] | None:
    """Whether this person's code must wait, and until when; ``None`` to check it now.

    Their own limit first: :data:`MAX_FAILURES` wrong codes this hour, and they
    wait until the oldest of them ages out.

    The county's cap (``county_cap`` wrong codes by anyone this hour) pauses only
    residents who typed a wrong code themselves this hour, and strangers (a
    ``/start hc_…`` link from someone not registered). A registered resident with
    no wrong code this hour always has their code checked: otherwise anyone could
    stop the whole county being verified by code by typing wrong codes from a few
    dozen accounts. Guessing through that opening costs a registration — a resident
    whom their community's staff can see — per guess per hour once the cap is
    reached, instead of :data:`MAX_FAILURES` per account. Strangers wait because an
    account costs nothing else and leaves no trace; an honest newcomer loses
    nothing: they still join, and once registered their ``/code`` is checked.

    Someone who has guessed wrong may not have even the right code checked during
    the pause: answering "right" or "wrong" is exactly what the pause withholds.
    They are told to come back when their own last wrong code ages out (then they
    are checked whatever the county's count); ``None`` for a stranger with no wrong
    code (the link's notice names no time).
    """
    since = now - FAILURE_WINDOW
    mine = await uow.household_codes.failures_since(user_id, since)
    if len(mine) >= MAX_FAILURES:
        return RedeemOutcome.TOO_MANY_ATTEMPTS, mine[-MAX_FAILURES] + FAILURE_WINDOW
    if registered and not mine:
        return None
    if await uow.household_codes.count_failures_since(since) >= county_cap:
        return RedeemOutcome.COUNTY_BUSY, (mine[-1] + FAILURE_WINDOW) if mine else None
    return None


async def redeem_household_code(
    uow: UnitOfWork,
    user_id: int,
    text: str,
    now: datetime,
    county_cap: int = COUNTY_FAILURES,
) -> RedeemResult:
    """``/code ABCD-2345`` (or its deep link) from a registered resident.

    The attempt limits are checked before the code is looked up, so even the
    right code waits once a limit is reached: otherwise the limit would still
    answer guesses. The county's cap holds back only someone who typed a wrong
    code this hour (:func:`_must_wait`). A malformed text is not a guess and is
    not counted.
    ``county_cap`` is ``[residents] household_code_wrong_per_hour``.
    """
    code = normalise_code(text)
    async with uow:
        resident = await uow.residents.get(user_id)
        if resident is None:
            return RedeemResult(RedeemOutcome.NOT_REGISTERED)
        if code is None:
            return RedeemResult(RedeemOutcome.MALFORMED, resident)
        wait = await _must_wait(uow, user_id, now, county_cap, registered=True)
        if wait is not None:
            return RedeemResult(wait[0], resident, retry_at=wait[1])
        found = await uow.household_codes.find(code_hash(code))
        outcome = _redeem_outcome(resident, found, now)
        if outcome in FAILURES:
            await uow.household_codes.record_failure(user_id, now, now - FAILURE_WINDOW)
            await uow.commit()
            return RedeemResult(outcome, resident, found)
        if outcome is RedeemOutcome.REPEATED or found is None or found.id is None:
            return RedeemResult(outcome, resident, found)
        if not await uow.household_codes.claim(found.id, user_id, now):
            return RedeemResult(RedeemOutcome.USED, resident, found)  # taken a moment ago
        verified = verified_at(resident, found.building_code, found.unit_label, now)
        await uow.residents.update(verified)
        await uow.commit()
    return RedeemResult(RedeemOutcome.VERIFIED, verified, found)


def _redeem_outcome(resident: Resident, code: HouseholdCode | None, now: datetime) -> RedeemOutcome:
    if code is None:
        return RedeemOutcome.UNKNOWN
    status = code.status(now)
    if status is CodeStatus.USED:
        return RedeemOutcome.REPEATED if code.used_by == resident.user_id else RedeemOutcome.USED
    if status is CodeStatus.EXPIRED:
        return RedeemOutcome.EXPIRED
    if code.compound_code != resident.compound_code:
        return RedeemOutcome.OTHER_COMPOUND
    return RedeemOutcome.VERIFIED


class HouseholdStart(StrEnum):
    ONBOARDING = "onboarding"
    """Not registered: onboarding starts at the code's place and verifies at the end."""
    REDEEMED = "redeemed"
    """Registered: the link was taken as ``/code``; ``redeemed`` says how it went."""


@dataclass(frozen=True)
class HouseholdStartResult:
    kind: HouseholdStart
    start: StartResult | None = None
    redeemed: RedeemResult | None = None
    code_outcome: RedeemOutcome | None = None
    """For newcomers: why the code will not verify them (``None``: it will)."""


async def start_with_household_code(
    uow: UnitOfWork,
    user_id: int,
    payload: str,
    places: Places,
    now: datetime,
    update_id: int,
    county_cap: int = COUNTY_FAILURES,
) -> HouseholdStartResult:
    """``/start hc_ABCD2345``, the link printed on a slip.

    A resident redeems it as with ``/code``. A newcomer starts onboarding with
    the code's compound (and building, and unit) chosen; the code is remembered
    by its row id — never its text — in the onboarding draft and used when they
    confirm (:func:`civic.residents.answer_flow`). A code that cannot verify
    anyone still starts onboarding, without a place, and says why.
    """
    async with uow:
        registered = await uow.residents.get(user_id) is not None
    if registered:
        redeemed = await redeem_household_code(uow, user_id, payload, now, county_cap)
        return HouseholdStartResult(HouseholdStart.REDEEMED, redeemed=redeemed)
    code = normalise_code(payload)
    preset: HouseholdPreset | None = None
    why: RedeemOutcome | None = RedeemOutcome.MALFORMED
    if code is not None:
        async with uow:
            wait = await _must_wait(uow, user_id, now, county_cap, registered=False)
            found = None
            if wait is None:
                found = await uow.household_codes.find(code_hash(code))
            status = found.status(now) if found is not None else None
            if wait is not None:
                why = wait[0]
            elif found is None or status is None or found.id is None:
                why = RedeemOutcome.UNKNOWN
            elif status is CodeStatus.USED:
                why = RedeemOutcome.USED
            elif status is CodeStatus.EXPIRED:
                why = RedeemOutcome.EXPIRED
            else:
                why = None
                preset = HouseholdPreset(
                    code_id=found.id,
                    community_code=found.community_code,
                    compound_code=found.compound_code,
                    building_code=found.building_code,
                    unit_label=found.unit_label,
                )
            if why in FAILURES:
                await uow.household_codes.record_failure(user_id, now, now - FAILURE_WINDOW)
                await uow.commit()
    started = await start_onboarding(uow, user_id, None, places, now, update_id, household=preset)
    return HouseholdStartResult(HouseholdStart.ONBOARDING, start=started, code_outcome=why)


# -- building codes ------------------------------------------------------------------------


class RotateOutcome(StrEnum):
    ROTATED = "rotated"
    REFUSED = "refused"
    UNKNOWN_BUILDING = "unknown_building"


@dataclass(frozen=True)
class RotateResult:
    outcome: RotateOutcome
    decision: Decision = Decision.ALLOWED
    building_code: str | None = None
    community_code: str | None = None
    version: int = 0
    repeated: bool = False
    """This very update rotated before (handled again after a crash): ``version`` is the
    current one, not raised again — the code sent then, or the one someone rotated to
    since, keeps working."""


async def rotate_building_code(
    uow: UnitOfWork,
    actor: Actor,
    building_code: str,
    places: Places,
    now: datetime,
    update_id: int | None = None,
) -> RotateResult:
    """``/rotate BUILDING``: a new printed code for the building; the old one stops locating.

    An old code still pre-selects the building for whoever scans it (it is no
    secret where the notice hangs); it just proves nothing any more. The same
    ``update_id`` a second time does not rotate again: it answers with the current
    version. Whether this update rotated is read from the audit log (its entry is
    written in the rotation's own transaction), not from the building's row: the
    row remembers only the latest rotation, so after someone else's it would no
    longer recognise this update, and rotating again would void their new code.
    """
    place = resolve_place(building_code, places)
    if place is None or place.building_code is None:
        return RotateResult(RotateOutcome.UNKNOWN_BUILDING)
    decision = decide(actor, Action.ROTATE_BUILDING_CODES, place.community_code, places)
    if not decision.allowed:
        return RotateResult(
            RotateOutcome.REFUSED, decision, place.building_code, place.community_code
        )
    async with uow:
        if update_id is not None and await uow.audit.recorded_for_update(
            AUDIT_CODE_ROTATED, update_id
        ):
            return RotateResult(
                RotateOutcome.ROTATED,
                building_code=place.building_code,
                community_code=place.community_code,
                version=await uow.building_links.version(place.building_code),
                repeated=True,
            )
        version = await uow.building_links.rotate(place.building_code, actor.user_id, now)
        await uow.audit.record(
            AuditEntry(
                at=now,
                actor_id=actor.user_id,
                action=AUDIT_CODE_ROTATED,
                community_code=place.community_code,
                details={"building": place.building_code, "version": version},
                update_id=update_id,
            )
        )
        await uow.commit()
    return RotateResult(
        RotateOutcome.ROTATED,
        building_code=place.building_code,
        community_code=place.community_code,
        version=version,
    )


# -- verification by staff ---------------------------------------------------------------


class VerifyOutcome(StrEnum):
    VERIFIED = "verified"
    ALREADY = "already"
    REFUSED = "refused"
    """The actor may verify no one anywhere (:func:`may_verify_somewhere`)."""
    NOT_A_RESIDENT = "not_a_resident"
    """Not a resident of a community the actor may verify in: nobody registered, or
    registered elsewhere — deliberately the same answer, so ids cannot be probed."""


def may_verify_somewhere(actor: Actor, places: Places) -> Decision:
    """Whether ``actor`` may verify residents of any community at all.

    Asked before anyone is looked up, so that someone who may not verify learns
    nothing about who is registered; :attr:`Decision.POSITION` if they are staff
    in a position that may not, else :attr:`Decision.NOT_STAFF`.
    """
    decisions = {decide(actor, Action.VERIFY_RESIDENTS, c.code, places) for c in places.communities}
    if Decision.ALLOWED in decisions:
        return Decision.ALLOWED
    return Decision.POSITION if Decision.POSITION in decisions else Decision.NOT_STAFF


@dataclass(frozen=True)
class VerifyResult:
    outcome: VerifyOutcome
    decision: Decision = Decision.ALLOWED
    resident: Resident | None = None


ComposeVerified = Callable[[str], Mapping[str, Any]]
"""``language → Bot API payload`` of "staff verified you": the bot's catalogs word it."""


async def verify_resident(
    uow: UnitOfWork,
    actor: Actor,
    user_id: int,
    places: Places,
    now: datetime,
    compose: ComposeVerified,
    update_id: int | None = None,
) -> VerifyResult:
    """``/verify USER_ID``: staff of the resident's community confirm them by hand.

    The resident is told, in their language, through the outbox (in the same
    transaction as the change, keyed by the audit entry so it goes out once).
    Whether the actor may verify at all is decided before the person is looked up,
    and a resident of a community the actor does not serve gets the answer of an
    unknown id: otherwise any staff member, grid worker or liaison could learn
    who is registered, and where, by trying ids.
    """
    decision = may_verify_somewhere(actor, places)
    if not decision.allowed:
        return VerifyResult(VerifyOutcome.REFUSED, decision)
    async with uow:
        resident = await uow.residents.get(user_id)
        if (
            resident is None
            or not decide(actor, Action.VERIFY_RESIDENTS, resident.community_code, places).allowed
        ):
            return VerifyResult(VerifyOutcome.NOT_A_RESIDENT)
        if resident.level is VerificationLevel.VERIFIED:
            return VerifyResult(VerifyOutcome.ALREADY, resident=resident)
        verified = replace(resident, level=VerificationLevel.VERIFIED, updated_at=now)
        await uow.residents.update(verified)
        entry_id = await uow.audit.record(
            AuditEntry(
                at=now,
                actor_id=actor.user_id,
                action=AUDIT_VERIFIED,
                community_code=resident.community_code,
                target_user_id=user_id,
                details={"from": resident.level.value},
                update_id=update_id,
            )
        )
        message = OutgoingMessage(
            user_id,
            compose(resident.language or DEFAULT_LANGUAGE),
            dedupe_key=f"audit:{entry_id}:notify",
        )
        await uow.outbox.enqueue([message], now)
        await uow.commit()
    return VerifyResult(VerifyOutcome.VERIFIED, resident=verified)
