"""What each update needs to know about its sender, kept in memory.

Every update's replies are in the sender's stored language (``/lang``), and
``/help`` differs for residents and newcomers, so the first handler of every
update asks who the sender is (:func:`handlers.residents.load_profile`). Asking
the database each time costs a read on every update, most of all on the many
from people who never registered (a tenth of the interactive throughput, P1).

So the bot loads every stored hint once, in the background at start-up
(:meth:`ProfileHints.load`), and from then on answers from memory: someone it
does not know has no stored language and is not registered. Until the load has
finished, what memory does not know is read from the database.

The database stays the source of truth, and this process is the only writer of
residents and their flows: code that changes a person's language or
registration must :meth:`ProfileHints.put` (or :meth:`ProfileHints.forget`)
after committing, as :mod:`handlers.residents` does. A county's residents fit
easily (about a hundred bytes each).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from civic.residents import ProfileHint

NOBODY: Final = ProfileHint(None, registered=False)
"""No stored language, not registered."""


class ProfileHints:
    """Telegram user id → :class:`ProfileHint` of everyone with something stored."""

    def __init__(self) -> None:
        self._hints: dict[int, ProfileHint] = {}
        self._complete = False

    @property
    def complete(self) -> bool:
        """Whether everything stored was loaded, so that a miss means :data:`NOBODY`."""
        return self._complete

    def get(self, user_id: int) -> ProfileHint | None:
        """The hint of ``user_id``; ``None`` when only the database can tell (not loaded yet)."""
        hint = self._hints.get(user_id)
        if hint is None and self._complete:
            return NOBODY
        return hint

    def put(self, user_id: int, hint: ProfileHint) -> None:
        """Remember what was just committed (or read)."""
        if hint == NOBODY:
            self._hints.pop(user_id, None)
        else:
            self._hints[user_id] = hint

    def forget(self, user_id: int) -> None:
        self._hints.pop(user_id, None)

    def load(self, stored: Mapping[int, ProfileHint]) -> None:
        """Take everything stored (read at start-up); what was put meanwhile is newer and stays."""
        for user_id, hint in stored.items():
            if hint != NOBODY:
                self._hints.setdefault(user_id, hint)
        self._complete = True

    def __len__(self) -> int:
        return len(self._hints)
