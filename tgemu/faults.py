"""Fault injection: the unreliable network and servers a bot must survive.

Three independent knobs, all applied to Bot API calls *before* the method runs:

* ``fixed_delay_ms`` is added to every call (models the round trip to Telegram,
  e.g. 50 ms for benchmarks);
* with probability ``delay_rate`` a call is delayed by a uniform random
  ``0..delay_max_ms`` milliseconds;
* with probability ``error_rate`` a call fails with a 5xx status picked from
  ``error_statuses`` and a Telegram-style body; the method is then *not* performed.

``methods`` restricts the random faults (not the fixed delay) to some methods
(case-insensitive); ``seed`` makes the random draws reproducible.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Any

from tgemu.errors import ApiError

_STATUS_TEXT = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass(slots=True)
class FaultConfig:
    """What to inject; the all-zero default injects nothing."""

    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500, 502)
    delay_rate: float = 0.0
    delay_max_ms: float = 0.0
    fixed_delay_ms: float = 0.0
    methods: frozenset[str] | None = None
    seed: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "error_rate": self.error_rate,
            "error_statuses": list(self.error_statuses),
            "delay_rate": self.delay_rate,
            "delay_max_ms": self.delay_max_ms,
            "fixed_delay_ms": self.fixed_delay_ms,
            "methods": sorted(self.methods) if self.methods is not None else None,
            "seed": self.seed,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FaultConfig:
        """Build from a control-API body; raises ValueError with a readable reason."""
        known = {
            "error_rate",
            "error_statuses",
            "delay_rate",
            "delay_max_ms",
            "fixed_delay_ms",
            "methods",
            "seed",
        }
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}; known: {sorted(known)}")
        cfg = cls()
        cfg.error_rate = _rate(data.get("error_rate", 0.0), "error_rate")
        cfg.delay_rate = _rate(data.get("delay_rate", 0.0), "delay_rate")
        cfg.delay_max_ms = _non_negative(data.get("delay_max_ms", 0.0), "delay_max_ms")
        cfg.fixed_delay_ms = _non_negative(data.get("fixed_delay_ms", 0.0), "fixed_delay_ms")
        statuses = data.get("error_statuses", [500, 502])
        if not isinstance(statuses, list) or not statuses:
            raise ValueError("error_statuses must be a non-empty list of 5xx codes")
        for s in statuses:
            if not isinstance(s, int) or not 500 <= s <= 599:
                raise ValueError(f"error_statuses must be 5xx codes, got {s!r}")
        cfg.error_statuses = tuple(statuses)
        methods = data.get("methods")
        if methods is not None:
            if not isinstance(methods, list) or not all(isinstance(m, str) for m in methods):
                raise ValueError("methods must be a list of Bot API method names or null")
            cfg.methods = frozenset(m.lower() for m in methods)
        seed = data.get("seed")
        if seed is not None and not isinstance(seed, int):
            raise ValueError("seed must be an integer or null")
        cfg.seed = seed
        return cfg


def _rate(value: Any, name: str) -> float:
    if not isinstance(value, int | float) or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{name} must be a number between 0 and 1, got {value!r}")
    return float(value)


def _non_negative(value: Any, name: str) -> float:
    if not isinstance(value, int | float) or float(value) < 0:
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    return float(value)


class FaultInjector:
    """Applies a :class:`FaultConfig` to each Bot API call."""

    def __init__(self) -> None:
        self.config = FaultConfig()
        self._random = random.Random()  # noqa: S311 - test noise, not cryptography
        self.injected_errors = 0
        self.injected_delays = 0

    def configure(self, config: FaultConfig) -> None:
        self.config = config
        self._random = random.Random(config.seed)  # noqa: S311 - reproducible test noise

    def clear(self) -> None:
        self.configure(FaultConfig())

    def reset_counters(self) -> None:
        self.injected_errors = 0
        self.injected_delays = 0

    def _applies(self, method: str) -> bool:
        methods = self.config.methods
        return methods is None or method.lower() in methods

    async def before_call(self, method: str) -> None:
        """Sleep and/or raise as configured; returns normally when the call may proceed."""
        cfg = self.config
        delay = cfg.fixed_delay_ms
        applies = self._applies(method)
        if applies and cfg.delay_rate > 0 and self._random.random() < cfg.delay_rate:
            delay += self._random.uniform(0.0, cfg.delay_max_ms)
            self.injected_delays += 1
        fail_status: int | None = None
        if applies and cfg.error_rate > 0 and self._random.random() < cfg.error_rate:
            fail_status = self._random.choice(cfg.error_statuses)
        if delay > 0:
            await asyncio.sleep(delay / 1000.0)
        if fail_status is not None:
            self.injected_errors += 1
            raise ApiError(fail_status, _STATUS_TEXT.get(fail_status, "Internal Server Error"))
