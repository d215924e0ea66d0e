"""What each update needs to know about its sender, kept in memory between updates.

Every update's replies are in the sender's stored language (``/lang``), and
``/help`` differs for residents and newcomers, so the first handler of every
update asks who the sender is (:func:`handlers.residents.load_profile`). Asking
the database each time would add a read to every update, including the many
that need nothing else; this bounded cache answers instead after the first time.

The database stays the source of truth: an entry is only ever a copy of what
this process read or just committed (one bot process serves a database), and a
restart starts empty. Code that changes a person's language or registration
must :meth:`ProfileHints.put` (or :meth:`ProfileHints.forget`) after committing.
"""

from __future__ import annotations

from collections import OrderedDict

from civic.residents import ProfileHint

DEFAULT_CAPACITY = 50_000
"""About 5 MB at most; a county's active users in a day fit, the rest are read again."""


class ProfileHints:
    """A least-recently-used map from Telegram user id to :class:`ProfileHint`."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._capacity = capacity
        self._hints: OrderedDict[int, ProfileHint] = OrderedDict()

    def get(self, user_id: int) -> ProfileHint | None:
        hint = self._hints.get(user_id)
        if hint is not None:
            self._hints.move_to_end(user_id)
        return hint

    def put(self, user_id: int, hint: ProfileHint) -> None:
        self._hints[user_id] = hint
        self._hints.move_to_end(user_id)
        while len(self._hints) > self._capacity:
            self._hints.popitem(last=False)

    def forget(self, user_id: int) -> None:
        self._hints.pop(user_id, None)

    def __len__(self) -> int:
        return len(self._hints)
