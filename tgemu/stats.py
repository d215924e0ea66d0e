"""Counters a test or benchmark reads to check what the bot actually did.

Kept apart from the world state so that ``reset`` semantics stay obvious: the
control API can clear the counters without touching bots, users or messages.
"""

from __future__ import annotations

from collections import Counter
from typing import Any


class Stats:
    """Request counts per method, 429s, other error answers, sends per chat."""

    def __init__(self) -> None:
        self.methods: Counter[str] = Counter()
        self.too_many_requests = 0
        self.errors_by_status: Counter[int] = Counter()
        self.sends_per_chat: Counter[int] = Counter()
        self.updates_created = 0
        self.webhook_deliveries = 0
        self.webhook_failures = 0

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]

    def to_json(self, injected_errors: int, injected_delays: int) -> dict[str, Any]:
        return {
            "methods": dict(sorted(self.methods.items())),
            "total_requests": sum(self.methods.values()),
            "too_many_requests": self.too_many_requests,
            "injected_errors": injected_errors,
            "injected_delays": injected_delays,
            "errors_by_status": {str(k): v for k, v in sorted(self.errors_by_status.items())},
            "sends_per_chat": {str(k): v for k, v in self.sends_per_chat.items()},
            "updates_created": self.updates_created,
            "webhook_deliveries": self.webhook_deliveries,
            "webhook_failures": self.webhook_failures,
        }
