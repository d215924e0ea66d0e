"""Telegram's flood limits as token buckets.

Telegram does not publish its algorithm, only the rates (Bot FAQ): about 30
messages per second overall, about 1 per second in one private chat (short bursts
tolerated) and 20 per minute in one group.  The emulator models each as a token
bucket that refills continuously on the monotonic clock:

* one **global** bucket per bot: rate 30/s, capacity 30;
* one bucket per **private chat**: rate 1/s, capacity 3;
* one bucket per **group**: rate 20/60 per second, capacity 20.

A send needs one token from the global bucket and one from its chat's bucket.  If
any of them is short, nothing is taken and the caller is told to retry after the
time the emptiest bucket needs to refill one token, rounded up to whole seconds
(at least 1), exactly what Telegram's ``retry_after`` promises.  ``scale``
multiplies every rate and capacity (benchmarks use it to go faster than Telegram).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LimitRates:
    """Rates in tokens per second and bucket capacities, before scaling."""

    global_rate: float = 30.0
    global_burst: float = 30.0
    private_rate: float = 1.0
    private_burst: float = 3.0
    group_rate: float = 20.0 / 60.0
    group_burst: float = 20.0


class TokenBucket:
    """A bucket of ``capacity`` tokens refilled at ``rate`` tokens per second."""

    __slots__ = ("capacity", "last", "rate", "tokens")

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.last = now

    def refill(self, now: float) -> None:
        elapsed = now - self.last
        if elapsed > 0:
            self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
            self.last = now

    def wait_time(self, now: float) -> float:
        """Seconds until one token is available (0 when one is available now)."""
        self.refill(now)
        if self.tokens >= 1.0:
            return 0.0
        return (1.0 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1.0


class RateLimiter:
    """All buckets of all bots; :meth:`acquire` is called once per send-like request."""

    def __init__(
        self, *, enabled: bool = True, scale: float = 1.0, rates: LimitRates | None = None
    ) -> None:
        self.rates = rates or LimitRates()
        self.enabled = enabled
        self.scale = scale
        self._buckets: dict[tuple[int, int | None], TokenBucket] = {}

    def configure(self, *, enabled: bool | None = None, scale: float | None = None) -> None:
        """Switch limits on/off or rescale them; buckets start full again."""
        if enabled is not None:
            self.enabled = enabled
        if scale is not None:
            if not scale > 0:
                raise ValueError("scale must be > 0")
            self.scale = scale
        self._buckets.clear()

    def reset(self) -> None:
        self._buckets.clear()

    def _bucket(self, bot_id: int, chat_id: int | None, chat_type: str, now: float) -> TokenBucket:
        key = (bot_id, chat_id)
        bucket = self._buckets.get(key)
        if bucket is None:
            r = self.rates
            if chat_id is None:
                rate, burst = r.global_rate, r.global_burst
            elif chat_type == "private":
                rate, burst = r.private_rate, r.private_burst
            else:
                rate, burst = r.group_rate, r.group_burst
            bucket = TokenBucket(rate * self.scale, max(1.0, burst * self.scale), now)
            self._buckets[key] = bucket
        return bucket

    def acquire(self, bot_id: int, chat_id: int, chat_type: str) -> int | None:
        """Take a token from the bot's global and the chat's bucket.

        Returns ``None`` when the send may proceed, else the ``retry_after`` in
        whole seconds (>= 1); in that case no token is taken.
        """
        if not self.enabled:
            return None
        now = time.monotonic()
        buckets = (
            self._bucket(bot_id, None, "global", now),
            self._bucket(bot_id, chat_id, chat_type, now),
        )
        wait = max(b.wait_time(now) for b in buckets)
        if wait > 0:
            return max(1, math.ceil(wait))
        for b in buckets:
            b.take()
        return None
