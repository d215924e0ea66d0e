"""Per-user flood control: slow down one resident who sends too much, politely.

Spec 01 ("Update processing"): a user who sends too much is slowed down politely,
without affecting others; quality bar S5: a user sending 100 messages in 10 s is
slowed down while everyone else is served as usual. Configured by ``[flood]
messages = 20, per_seconds = 10``.

The algorithm is a **sliding-window log**: for each user, the times of the
messages allowed within the last ``window_seconds``, at most ``limit`` of them.
It was chosen over a token bucket because it gives the exact guarantee residents
are promised and the property tests check: never more than ``limit`` messages
handled in any window of ``window_seconds``. A token bucket of the same capacity
would let through up to twice that (a full bucket, then its refill). The cost is
``limit`` floats per active user (20 by default), and each check is amortised
O(1): every timestamp enters and leaves the log once.

Decisions for a refused message:

* :attr:`FloodOutcome.WARN` for the first refused message: the handler answers
  once, "please slow down, try again in N s" (:meth:`FloodDecision.wait_seconds`).
* :attr:`FloodOutcome.DROP` for further refused ones within the same window: no
  answer, so that the warnings themselves cannot flood the chat. At most one
  warning per user per window.

Dropping means "not handled now", not "lost": the processing layer has already
stored the update in the inbox, so it is marked as refused there, never
discarded silently.

Pure domain code: ``now`` is a monotonic time in seconds passed in by the caller,
which must not go backwards (a smaller ``now`` is treated as the latest one seen).
Idle users are forgotten: memory is bounded by the users active in the last
window.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from enum import Enum

__all__ = ["FloodControl", "FloodDecision", "FloodOutcome"]


class FloodOutcome(Enum):
    """What to do with one incoming message."""

    ALLOW = "allow"
    """Handle it as usual."""
    WARN = "warn"
    """Do not handle it; tell the user once to slow down."""
    DROP = "drop"
    """Do not handle it and say nothing: the user has just been warned."""


@dataclass(frozen=True, slots=True)
class FloodDecision:
    """The outcome, and how long until this user may be handled again."""

    outcome: FloodOutcome
    retry_after: float = 0.0
    """Seconds until a message would be allowed; 0 for :attr:`FloodOutcome.ALLOW`."""

    @property
    def allowed(self) -> bool:
        """Tell whether the message is to be handled."""
        return self.outcome is FloodOutcome.ALLOW

    def wait_seconds(self) -> int:
        """Return :attr:`retry_after` in whole seconds for the warning text, at least 1."""
        return max(1, math.ceil(self.retry_after))


_ALLOW = FloodDecision(FloodOutcome.ALLOW)


@dataclass(slots=True)
class _UserWindow:
    """One user's recent history."""

    allowed: deque[float] = field(default_factory=deque)
    """Times of the messages allowed, oldest first, at most ``limit`` of them."""
    warned_at: float = -math.inf
    last_seen: float = -math.inf


class FloodControl:
    """At most ``limit`` messages per user in any ``window_seconds``; see the module doc."""

    def __init__(self, limit: int, window_seconds: float) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        if not window_seconds > 0:
            raise ValueError("window_seconds must be positive")
        self.limit = limit
        self.window = window_seconds
        self._users: OrderedDict[int, _UserWindow] = OrderedDict()
        self._latest = -math.inf

    def __len__(self) -> int:
        """Return how many users are remembered (for tests and health)."""
        return len(self._users)

    def check(self, user_id: int, now: float) -> FloodDecision:
        """Decide what to do with a message from ``user_id`` received at ``now``.

        An allowed message counts against the user's window; a refused one does
        not, so a user who keeps sending is let through again as soon as the
        window has room, at the configured pace.
        """
        now = self._advance(now)
        user = self._touch(user_id, now)
        while user.allowed and user.allowed[0] + self.window <= now:
            user.allowed.popleft()
        if len(user.allowed) < self.limit:
            user.allowed.append(now)
            return _ALLOW
        retry_after = user.allowed[0] + self.window - now
        if user.warned_at + self.window <= now:
            user.warned_at = now
            return FloodDecision(FloodOutcome.WARN, retry_after)
        return FloodDecision(FloodOutcome.DROP, retry_after)

    def prune(self, now: float) -> int:
        """Forget users idle for a whole window; return how many were forgotten.

        :meth:`check` already does this as it goes; call it from a periodic job
        to release memory after a burst of users when traffic stops.
        """
        now = self._advance(now)
        forgotten = 0
        while self._users:
            user_id, user = next(iter(self._users.items()))
            if user.last_seen + self.window > now:
                break
            del self._users[user_id]
            forgotten += 1
        return forgotten

    def _advance(self, now: float) -> float:
        """Return ``now``, never earlier than a time already seen."""
        self._latest = max(self._latest, now)
        return self._latest

    def _touch(self, user_id: int, now: float) -> _UserWindow:
        """Return the user's window, marked as seen now, after forgetting idle users.

        Users are kept in order of last activity, so the idle ones are at the front
        and forgetting them costs O(1) amortised. A user idle for a whole window
        has nothing in their log and no warning in effect: forgetting them is
        the same as remembering them.
        """
        self.prune(now)
        user = self._users.pop(user_id, None) or _UserWindow()
        user.last_seen = now
        self._users[user_id] = user
        return user
