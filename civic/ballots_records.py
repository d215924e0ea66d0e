"""Defensible ballot records: the hash-chained event log and masked voter lists (spec 04).

Hash chain
----------
"Every ballot event (announcement, amendment, vote, change, paper entry, close)
is appended to a hash-chained log, so any later edit of the stored records is
detectable." Each event's digest is SHA-256 over the previous event's digest
and the event's canonical form (:func:`canonical_event`: JSON with sorted keys,
no spaces, UTF-8, timezone-aware datetimes written in UTC), so changing,
removing, inserting or reordering any stored event changes every digest after
it. :func:`verify_chain` recomputes the chain from the first event and says
where it first breaks. The first event of a ballot chains from
:data:`GENESIS`, which names the ballot, so two ballots' chains can never be
spliced into each other.

This makes later edits *detectable*, not impossible: someone able to rewrite
the whole table can recompute every digest. The export of a ballot record
(spec 04, "an admin can export the whole record") carries the last digest, and
every published result shows it (the next session's choice of wording), so a
copy held outside the database pins the chain.

Masked voter lists
------------------
"Who voted (masked names and unit numbers, e.g. 张** 3栋2单元**室) may be
published; how each person voted is visible only to that person": the list of
voters is public, their choice is not. :func:`mask_name` keeps a name's first
character (the surname, in most Chinese names); :func:`mask_room` hides the
room number and keeps the building and entrance, so neighbours can check that
their own participation was recorded without learning who lives where.

No Telegram, no SQL, no clock.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any, Final

__all__ = [
    "MASK",
    "ChainedEvent",
    "canonical_event",
    "chain_digest",
    "genesis",
    "mask_name",
    "mask_room",
    "verify_chain",
]

MASK: Final = "**"


# -- the hash chain --------------------------------------------------------------------------


def genesis(ballot_id: int) -> str:
    """The digest the first event of ballot ``ballot_id`` chains from."""
    return hashlib.sha256(f"xieshang:ballot:{ballot_id}".encode()).hexdigest()


def _plain(value: Any) -> Any:
    """A value as canonical JSON can hold it: aware datetimes in UTC ISO, enums by value."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("ballot events record timezone-aware datetimes")
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return _plain(value.value)
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, frozenset | set):
        return sorted(_plain(item) for item in value)
    if isinstance(value, float):
        raise ValueError("no floats in ballot records: areas are integers of 0.01 m²")
    return value


def canonical_event(event: Mapping[str, Any]) -> bytes:
    """The bytes an event is hashed as: sorted keys, no spaces, UTF-8, UTC datetimes.

    Floats are refused: their text form is not unique across platforms, and
    nothing in a ballot needs one.
    """
    return json.dumps(
        _plain(event), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def chain_digest(previous: str, event: Mapping[str, Any]) -> str:
    """The digest of ``event`` chained after the event whose digest is ``previous``."""
    hasher = hashlib.sha256()
    hasher.update(previous.encode("ascii"))
    hasher.update(b"\n")
    hasher.update(canonical_event(event))
    return hasher.hexdigest()


@dataclass(frozen=True)
class ChainedEvent:
    """One stored event with the digest stored alongside it."""

    event: Mapping[str, Any]
    digest: str


def verify_chain(ballot_id: int, events: Sequence[ChainedEvent]) -> int | None:
    """The index of the first event whose stored digest does not match, or ``None``.

    ``events`` in the order they were appended (by their sequence number). An
    edited event breaks at its own index; a removed or inserted one at the
    first event after it whose predecessor changed.
    """
    previous = genesis(ballot_id)
    for index, stored in enumerate(events):
        expected = chain_digest(previous, stored.event)
        if stored.digest != expected:
            return index
        previous = expected
    return None


# -- masked voter lists ----------------------------------------------------------------------

_LAST_DIGITS: Final = re.compile(r"\d+(?!.*\d)")


def mask_name(name: str) -> str:
    """``张三丰`` → ``张**``: the first character, then the mask, whatever the length."""
    name = name.strip()
    return f"{name[:1]}{MASK}" if name else MASK


def mask_room(building: str | None, unit_label: str) -> str:
    """``3栋``, ``2单元301室`` → ``3栋2单元**室``: the last number of the label is hidden.

    The building and anything before the room number stay, so an owner can find
    their own entrance on the list. A label without digits is hidden whole.
    """
    masked, count = _LAST_DIGITS.subn(MASK, unit_label.strip(), count=1)
    if count == 0:
        masked = MASK
    return f"{(building or '').strip()}{masked}"
