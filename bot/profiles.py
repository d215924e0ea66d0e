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

from collections.abc import Iterable, Mapping
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


class RoleHolders:
    """Who holds a role with staff or admin commands: so ``/help`` reads grants only for them.

    ``/help`` lists the commands of the person's roles, and reading their grants
    on every ``/help`` costs the interactive throughput about a tenth (P1a).
    Nearly everyone holds no such role, so the bot keeps the set of those who do,
    loaded with the command menus at start-up and kept current by every change
    this process makes (:func:`handlers.roles.set_chat_menu` runs after each
    grant, revoke, language change and erasure). Someone in the set is still
    read from the database, which decides; someone outside it is answered from
    memory. A role granted by the operator's ``xieshang grant`` (another
    process) shows in that person's ``/help`` and menu after the next start;
    their commands work at once, because permissions are always read.
    """

    def __init__(self) -> None:
        self._ids: set[int] | None = None

    def load(self, user_ids: Iterable[int]) -> None:
        self._ids = set(user_ids)

    def surely_none(self, user_id: int) -> bool:
        """Whether ``user_id`` is known to hold no staff or admin role (loaded, and absent)."""
        return self._ids is not None and user_id not in self._ids

    def set(self, user_id: int, *, holds: bool) -> None:
        """After committing a change of the person's roles (before the load: nothing to do)."""
        if self._ids is None:
            return
        if holds:
            self._ids.add(user_id)
        else:
            self._ids.discard(user_id)
