"""Logging that never shows the bot token or other secrets (spec 01; quality bar S3).

httpx logs every request URL at INFO, and Bot API URLs contain the token
(telegram-facts.md): its logger is raised to WARNING, and every record that
still reaches a handler passes through a filter that masks anything shaped like
a bot token, plus the exact secrets of this process.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

TOKEN_SHAPE = re.compile(r"\d{5,20}:[A-Za-z0-9_-]{30,}")
MASK = "[redacted]"
NOISY_LOGGERS = ("httpx", "httpcore", "apscheduler", "alembic.runtime.migration")


class RedactingFilter(logging.Filter):
    """Replace secrets in a record's final message; arguments are merged first."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def add_secret(self, secret: str) -> None:
        if secret:
            self._secrets.append(secret)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return TOKEN_SHAPE.sub(MASK, text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


REDACTION = RedactingFilter()


def configure_logging(level: int = logging.INFO, secrets: Iterable[str] = ()) -> None:
    """Log to stderr through :data:`REDACTION`; quiet the loggers that print URLs."""
    for secret in secrets:
        REDACTION.add_secret(secret)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(REDACTION)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
