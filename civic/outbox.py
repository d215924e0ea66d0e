"""Messages the bot sends later: what services ask for, before anything is sent.

Spec 01 ("Sending"): notifications and broadcasts go through a durable outbox
written before sending, and one sender paces everything by :class:`Priority`.
Services describe a message here; the storage package keeps it; the bot's
sender delivers it. Nothing in this module talks to Telegram or SQL.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any


class Priority(IntEnum):
    """Who waits for whom when sending: a lower value is served first."""

    REPLY = 0
    """A direct answer to what a user just did: they are watching the chat."""
    NOTIFICATION = 1
    """A personal notification from the outbox (a report answered, a deadline)."""
    BROADCAST = 2
    """One of many identical messages (a consultation opens): may take minutes."""


class MessageKind(StrEnum):
    """Which Bot API method delivers an outbox row."""

    TEXT = "text"
    PHOTO = "photo"
    DOCUMENT = "document"


class DeliveryStatus(StrEnum):
    """Where an outbox row stands."""

    PENDING = "pending"
    """Waiting to be sent (possibly not before a backoff or ``retry_after``)."""
    SENT = "sent"
    FAILED = "failed"
    """Telegram refused it (400): sending it again would fail again."""
    UNREACHABLE = "unreachable"
    """The chat blocked the bot or no longer exists (403); not retried."""


@dataclass(frozen=True)
class OutgoingMessage:
    """One message to one chat, as a service asks for it.

    ``payload`` holds the Bot API arguments besides ``chat_id`` (``text``,
    ``parse_mode``, ``reply_markup`` as a dict, ``photo`` as a file id, ...);
    a ``document`` the bot made itself travels in the row (:func:`inline_file`).
    ``dedupe_key`` makes enqueueing idempotent: a redelivered update or a re-run
    job that enqueues the same key again queues nothing (quality bar R5).
    """

    chat_id: int
    payload: Mapping[str, Any]
    kind: MessageKind = MessageKind.TEXT
    priority: Priority = Priority.NOTIFICATION
    dedupe_key: str | None = None

    def __post_init__(self) -> None:
        if self.priority is Priority.REPLY:
            raise ValueError("replies are sent directly, never through the outbox")
        if self.dedupe_key is not None and not 0 < len(self.dedupe_key) <= 160:
            raise ValueError("a dedupe key has 1 to 160 characters")


def retry_delay_seconds(attempts: int, *, base: float = 2.0, cap: float = 300.0) -> float:
    """Seconds to wait before the next try after ``attempts`` failed ones (5xx, network).

    Exponential (2, 4, 8, ... s) and capped at five minutes, so a Telegram outage
    costs few requests and delivery resumes within minutes of its end.
    """
    if attempts < 1:
        return 0.0
    return float(min(cap, base ** min(attempts, 32)))


MAX_INLINE_FILE_BYTES = 2 * 1024 * 1024
"""The largest file a row may carry itself: a monthly workbook is tens of kilobytes,
and every byte is kept in the database with the row."""


class BadInlineFile(ValueError):
    """A row's inline file cannot be read back: sending it again would fail again."""


def inline_file(data: bytes, filename: str) -> dict[str, str]:
    """A ``document`` argument that carries the file itself (base64) in the JSON payload.

    For files the bot makes (the monthly XLSX): Telegram has no file id for them
    yet, and a temporary file or URL would be gone after a crash, while the row
    survives it. The sender turns it back into an upload (:func:`read_inline_file`).
    """
    if len(data) > MAX_INLINE_FILE_BYTES:
        raise ValueError(f"an inline file has at most {MAX_INLINE_FILE_BYTES} bytes")
    if not filename or "/" in filename:
        raise ValueError("an inline file needs a plain file name")
    return {"base64": base64.b64encode(data).decode("ascii"), "filename": filename}


def sent_file(file_id: str, filename: str, size: int) -> dict[str, str | int]:
    """What a sent row keeps of its :func:`inline_file`: Telegram's file id, the name and size.

    Once Telegram holds the file, the row need not: a year of monthly workbooks in
    base64 would stay in the outbox (and in an admin's ``/mydata``) for nothing.
    """
    return {"file_id": file_id, "filename": filename, "bytes": size}


def read_inline_file(value: object) -> tuple[bytes, str] | None:
    """The bytes and file name of an :func:`inline_file` argument; ``None`` for a file id or URL.

    Raises :class:`BadInlineFile` when it is an inline file that cannot be decoded.
    """
    if not isinstance(value, Mapping) or "base64" not in value:
        return None
    try:
        data = base64.b64decode(str(value["base64"]), validate=True)
    except (binascii.Error, ValueError) as error:
        raise BadInlineFile(f"undecodable inline file: {error}") from error
    filename = value.get("filename")
    if not isinstance(filename, str) or not filename:
        raise BadInlineFile("an inline file without a file name")
    return data, filename
