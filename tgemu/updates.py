"""One bot's update queue: Telegram's confirmation and redelivery semantics.

* Updates wait in ``pending`` (ordered by ``update_id``) until *confirmed*: a
  ``getUpdates`` call with ``offset`` greater than their id (or a 2xx answer to the
  webhook POST).  Unconfirmed updates are delivered again on the next call.
* **Redelivery** (control API) puts an already delivered, possibly confirmed update
  back, with the same ``update_id``, to simulate a bot that crashed before its
  confirmation took effect.  Such an update is dropped only after it has been
  delivered again *and then* confirmed: an ``offset`` that was already past it
  before the redelivery does not confirm it.
* A bounded history of recent updates (by id) lets tests look updates up and
  redeliver them.
* Waiters (long polls, the webhook sender) are woken through an ``asyncio.Event``
  that is replaced on every change, so waiting costs nothing per update.
"""

from __future__ import annotations

import asyncio
import bisect
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any

# Types Telegram delivers when allowed_updates is empty/unset (ours are all of them).
DEFAULT_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
    }
)
HISTORY_SIZE = 100_000


@dataclass(slots=True)
class UpdateRecord:
    """An update and what happened to it so far."""

    update_id: int
    kind: str
    payload: dict[str, Any]
    deliveries: int = 0
    confirmed: bool = False
    redelivery_pending: bool = False
    redelivery_sent: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "update_id": self.update_id,
            "type": self.kind,
            "deliveries": self.deliveries,
            "confirmed": self.confirmed,
            "redelivery_pending": self.redelivery_pending,
            "update": self.payload,
        }


class UpdateQueue:
    """Pending updates of one bot plus the long-poll bookkeeping."""

    def __init__(self, first_update_id: int = 100_001) -> None:
        self._next_id = first_update_id
        self._pending: deque[UpdateRecord] = deque()
        self._redeliver: list[UpdateRecord] = []  # sorted by update_id
        self._history: OrderedDict[int, UpdateRecord] = OrderedDict()
        self._changed = asyncio.Event()
        self.allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self.poll_generation = 0

    # -- waking -------------------------------------------------------------
    def changed(self) -> asyncio.Event:
        """The event the next change will set (grab it before checking the queue)."""
        return self._changed

    def notify(self) -> None:
        """Wake everyone waiting for a change."""
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    # -- producing ----------------------------------------------------------
    def continue_after(self, update_id: int) -> None:
        """Number the next updates after ``update_id``.

        Telegram's update ids keep increasing across a bot's restarts; an emulator
        started afresh would give out ids the bot has already stored (and ignores
        as redeliveries), so local mode tells it where the bot's last run ended.
        """
        self._next_id = max(self._next_id, update_id + 1)

    def push(self, kind: str, body: dict[str, Any]) -> UpdateRecord | None:
        """Append an update of ``kind`` (``body`` without update_id); None if filtered."""
        if kind not in self.allowed_updates:
            return None
        update_id = self._next_id
        self._next_id += 1
        payload = {"update_id": update_id, kind: body}
        record = UpdateRecord(update_id, kind, payload)
        self._pending.append(record)
        self._history[update_id] = record
        if len(self._history) > HISTORY_SIZE:
            self._history.popitem(last=False)
        self.notify()
        return record

    def set_allowed_updates(self, allowed: list[str] | None) -> None:
        """Telegram semantics: None keeps the setting, [] restores the default."""
        if allowed is None:
            return
        self.allowed_updates = frozenset(allowed) if allowed else DEFAULT_UPDATE_TYPES

    # -- consuming ----------------------------------------------------------
    def confirm(self, offset: int | None) -> None:
        """Apply a getUpdates ``offset``: forget everything below it (see module doc)."""
        if offset is None or offset == 0:
            return
        if offset < 0:
            keep = -offset
            while len(self._pending) > keep:
                self._pending.popleft().confirmed = True
            return
        while self._pending and self._pending[0].update_id < offset:
            self._pending.popleft().confirmed = True
        if self._redeliver:
            kept = []
            for record in self._redeliver:
                if record.redelivery_sent and record.update_id < offset:
                    record.confirmed = True
                    record.redelivery_pending = False
                else:
                    kept.append(record)
            self._redeliver = kept

    def take(self, limit: int) -> list[UpdateRecord]:
        """The next ``limit`` unconfirmed updates in id order (marked as delivered)."""
        if self._redeliver:
            merged = sorted(
                [*self._redeliver, *_head(self._pending, limit)], key=lambda r: r.update_id
            )[:limit]
        else:
            merged = _head(self._pending, limit)
        for record in merged:
            record.deliveries += 1
            if record.redelivery_pending:
                record.redelivery_sent = True
        return merged

    def peek(self) -> UpdateRecord | None:
        """The next update for the webhook sender, or None."""
        candidates = []
        if self._redeliver:
            candidates.append(self._redeliver[0])
        if self._pending:
            candidates.append(self._pending[0])
        return min(candidates, key=lambda r: r.update_id) if candidates else None

    def acknowledge(self, record: UpdateRecord) -> None:
        """The webhook receiver answered 2xx for ``record``: it is confirmed."""
        record.confirmed = True
        if record.redelivery_pending:
            record.redelivery_pending = False
            if record in self._redeliver:
                self._redeliver.remove(record)
        elif self._pending and self._pending[0] is record:
            self._pending.popleft()

    def drop_pending(self) -> int:
        """``drop_pending_updates``: confirm everything waiting; returns how many."""
        dropped = len(self._pending) + len(self._redeliver)
        for record in self._pending:
            record.confirmed = True
        for record in self._redeliver:
            record.confirmed = True
            record.redelivery_pending = False
        self._pending.clear()
        self._redeliver.clear()
        return dropped

    def clear(self) -> None:
        """Forget pending updates and history; ids keep increasing (offsets stay valid)."""
        self._pending.clear()
        self._redeliver.clear()
        self._history.clear()
        self.allowed_updates = DEFAULT_UPDATE_TYPES
        self.notify()

    @property
    def pending_count(self) -> int:
        return len(self._pending) + len(self._redeliver)

    # -- redelivery and history ---------------------------------------------
    def redeliver(self, update_id: int) -> UpdateRecord:
        """Put a delivered update back in the queue; raises KeyError/ValueError."""
        record = self._history[update_id]
        if record.redelivery_pending:
            return record
        if not record.confirmed:
            if record.deliveries == 0:
                raise ValueError(f"update {update_id} was never delivered yet")
            return record  # still pending: the next call delivers it again anyway
        record.confirmed = False
        record.redelivery_pending = True
        record.redelivery_sent = False
        ids = [r.update_id for r in self._redeliver]
        self._redeliver.insert(bisect.bisect(ids, update_id), record)
        self.notify()
        return record

    def get(self, update_id: int) -> UpdateRecord | None:
        return self._history.get(update_id)

    def history(self, limit: int = 100, kind: str | None = None) -> list[UpdateRecord]:
        """The most recent ``limit`` updates, oldest first."""
        out: list[UpdateRecord] = []
        for record in reversed(self._history.values()):
            if kind is None or record.kind == kind:
                out.append(record)
                if len(out) >= limit:
                    break
        out.reverse()
        return out


def _head(queue: deque[UpdateRecord], limit: int) -> list[UpdateRecord]:
    out: list[UpdateRecord] = []
    for record in queue:
        if len(out) >= limit:
            break
        out.append(record)
    return out
