"""The emulator's clock: wall time plus an adjustable offset.

Tests jump to a reminder's time by moving this clock instead of sleeping.  Message
``date`` fields follow it, and a bot running in local or test mode reads it through
``GET /control/clock``.  Rate limits and long-poll timeouts deliberately use the
monotonic clock instead, so jumping the clock never refills buckets or ends waits.
"""

from __future__ import annotations

import time


class Clock:
    """Unix time shifted by ``offset_seconds``."""

    def __init__(self, offset_seconds: float = 0.0) -> None:
        self.offset_seconds = offset_seconds

    def now(self) -> float:
        """Current emulated unix time, with sub-second precision."""
        return time.time() + self.offset_seconds

    def now_int(self) -> int:
        """Current emulated unix time in whole seconds, as Telegram's ``date`` fields."""
        return int(self.now())

    def set_offset(self, offset_seconds: float) -> None:
        self.offset_seconds = float(offset_seconds)

    def advance(self, seconds: float) -> None:
        self.offset_seconds += float(seconds)
