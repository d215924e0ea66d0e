"""What time it is for the bot: the system clock, or the emulator's in local and test mode.

The domain never reads the clock (STYLE.md 5): handlers, services and the
scheduler take ``now`` from the :class:`Clock` in ``Services``. In local mode,
and in test mode when asked (``XIESHANG_CLOCK=emulator`` with a loopback Bot API
URL), that clock follows the emulator's offset (``GET /control/clock``), so a
test can jump to a reminder's moment instead of sleeping until it. Production
never follows a fake clock: :func:`bot.config.settings.load_settings` refuses
``XIESHANG_CLOCK=emulator`` for any Bot API server that is not on this machine.
"""

from __future__ import annotations

import asyncio
import logging
import math
from datetime import UTC, datetime, timedelta
from typing import Protocol

import aiohttp

from bot.config.settings import ClockSource, is_loopback_url

log = logging.getLogger(__name__)

REFRESH_SECONDS = 2.0
"""How often the emulator clock asks for the offset besides every scheduler tick."""
REQUEST_TIMEOUT_SECONDS = 2.0


class Clock(Protocol):
    """The bot's source of ``now``."""

    def now(self) -> datetime:
        """The current moment, timezone-aware, in UTC."""
        ...

    async def refresh(self) -> None:
        """Catch up with the clock's source (nothing to do for the system clock)."""
        ...

    async def aclose(self) -> None: ...


class SystemClock:
    """The machine's clock: what production uses."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def refresh(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


class EmulatorClock:
    """Wall time plus the emulator's offset, as the emulator itself computes it.

    The offset is read from ``{emulator_url}/control/clock`` on every
    :meth:`refresh` (each scheduler tick) and every ``refresh_seconds`` while
    :meth:`run` runs. If the emulator does not answer, the last offset is kept
    and a warning logged once until it answers again.
    """

    def __init__(
        self,
        emulator_url: str,
        *,
        refresh_seconds: float = REFRESH_SECONDS,
    ) -> None:
        if not is_loopback_url(emulator_url):
            raise ValueError(
                f"refusing to follow the clock of {emulator_url}: the emulator clock is for "
                "an emulator on this machine only (local and test mode)"
            )
        self.url = f"{emulator_url.rstrip('/')}/control/clock"
        self.refresh_seconds = refresh_seconds
        self.offset_seconds = 0.0
        self._session: aiohttp.ClientSession | None = None
        self._failing = False

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.offset_seconds)

    async def refresh(self) -> None:
        if self._session is None:
            timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS)
            self._session = aiohttp.ClientSession(timeout=timeout)
        try:
            async with self._session.get(self.url) as response:
                response.raise_for_status()
                body = await response.json()
            offset = float(body["result"]["offset_seconds"])
            if not math.isfinite(offset):
                raise ValueError(f"offset_seconds is {offset}")
        except (aiohttp.ClientError, TimeoutError, KeyError, TypeError, ValueError) as error:
            if not self._failing:
                log.warning(
                    "cannot read the emulator clock at %s, keeping offset %+.0f s: %s",
                    self.url,
                    self.offset_seconds,
                    error,
                )
            self._failing = True
            return
        if self._failing:
            log.info("the emulator clock answers again")
        self._failing = False
        if offset != self.offset_seconds:
            log.info("following the emulator clock: offset %+.0f s", offset)
        self.offset_seconds = offset

    async def run(self) -> None:
        """Refresh every ``refresh_seconds`` until cancelled."""
        while True:
            await self.refresh()
            await asyncio.sleep(self.refresh_seconds)

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def build_clock(source: ClockSource, emulator_url: str) -> Clock:
    """The clock the settings chose; ``emulator_url`` is the Bot API server in use."""
    if source is ClockSource.EMULATOR:
        return EmulatorClock(emulator_url)
    return SystemClock()
