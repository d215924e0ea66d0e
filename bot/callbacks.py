"""Callback data for inline buttons: short, versioned and signed.

Telegram hands a button's ``callback_data`` back verbatim when it is pressed, but
any client can send any string up to 64 bytes as callback data: the bot cannot
trust it. Spec 01 ("Update processing") asks that a button from an old message,
or forged data, gets a message and never an action. So every button carries::

    <version><action>|<arg>|<arg>~<signature>

* ``version``: one character, :data:`CURRENT_VERSION` for new buttons. When the
  format or the meaning of arguments changes, a new version character is chosen;
  the old one stays in the accepted set for a while (old buttons keep working),
  then moves to the retired set (old buttons get the "stale" message).
* ``action``: the use case's verb_noun name (``cosign_topic``), ``[a-z_]{1,16}``.
* ``args``: printable ASCII without the separators ``|`` and ``~`` (ids, codes).
* ``signature``: HMAC-SHA256 with ``XIESHANG_SIGNING_KEY`` over everything before
  ``~``, truncated to 8 bytes and written as 11 characters of unpadded base64url.
  64 bits is enough: a forger gets no feedback but "refused" and must send each
  guess through Telegram's own flood limits (about one per second per chat), so
  2^63 expected tries is out of reach, while a button is worth little (the
  handlers still check permissions: the signature proves the bot made the button,
  not that the presser may use it). Every byte of signature is a byte less for
  arguments, so a longer MAC would cost more than it buys.

The signature is compared as text, not as decoded bytes: the last base64
character carries two padding bits, and comparing decoded bytes would accept
four spellings of one signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "ACCEPTED_VERSIONS",
    "CURRENT_VERSION",
    "MAX_BYTES",
    "RETIRED_VERSIONS",
    "SIGNATURE_BYTES",
    "CallbackCodec",
    "Decoded",
    "RejectReason",
    "Rejected",
]

MAX_BYTES = 64
"""Telegram's limit on ``callback_data``, in bytes of UTF-8 (Bot API, InlineKeyboardButton)."""

SIGNATURE_BYTES = 8
"""Bytes of HMAC kept; see the module docstring for why 64 bits."""

_SIGNATURE_CHARS = 11
"""Length of :data:`SIGNATURE_BYTES` in unpadded base64url."""

CURRENT_VERSION = "1"
"""The version character new buttons carry."""

ACCEPTED_VERSIONS = frozenset({CURRENT_VERSION})
"""Versions whose buttons still act (current plus those kept during a migration)."""

RETIRED_VERSIONS: frozenset[str] = frozenset()
"""Versions once in use whose buttons now get the "stale button" message."""

ARG_SEPARATOR = "|"
SIGNATURE_SEPARATOR = "~"

_ACTION = re.compile(r"[a-z_]{1,16}")
_ARG = re.compile(r"[\x20-\x7b\x7d]*")
"""Printable ASCII except ``|`` (0x7c) and ``~`` (0x7e)."""
_VERSION = re.compile(r"[0-9A-Za-z]")
_SIGNATURE = re.compile(r"[A-Za-z0-9_-]{%d}" % _SIGNATURE_CHARS)  # noqa: UP031 - regex braces


class RejectReason(StrEnum):
    """Why callback data was refused; each gets its own message to the presser."""

    STALE = "stale"
    """Made by an earlier version of the bot: "this button is out of date"."""
    FORGED = "forged"
    """Bad signature, malformed, or an unknown version: "this button is not valid"."""


@dataclass(frozen=True, slots=True)
class Decoded:
    """Verified callback data: the action to run and its arguments."""

    action: str
    args: tuple[str, ...]

    def int_arg(self, index: int) -> int:
        """Return argument ``index`` as an int.

        The data is signed, so a non-integer here is a bug in the code that built
        the button, not user input: ``ValueError``/``IndexError`` propagate.
        """
        return int(self.args[index])

    def int_args(self) -> tuple[int, ...]:
        """Return every argument as an int (for actions whose arguments are all ids)."""
        return tuple(int(arg) for arg in self.args)


@dataclass(frozen=True, slots=True)
class Rejected:
    """Callback data that must not be acted on, and why."""

    reason: RejectReason


class CallbackCodec:
    """Encode and verify callback data with one signing key.

    ``current``, ``accepted`` and ``retired`` default to the module constants; they
    are parameters so that a format change can be rehearsed in tests (a codec of
    the next version decoding this version's buttons).
    """

    def __init__(
        self,
        key: bytes,
        *,
        current: str = CURRENT_VERSION,
        accepted: Iterable[str] = ACCEPTED_VERSIONS,
        retired: Iterable[str] = RETIRED_VERSIONS,
    ) -> None:
        if len(key) < 16:
            raise ValueError("the signing key must be at least 16 bytes")
        self._key = key
        self._current = current
        self._accepted = frozenset(accepted)
        self._retired = frozenset(retired)
        if not _VERSION.fullmatch(current) or current not in self._accepted:
            raise ValueError(f"current version {current!r} must be one accepted character")
        if self._accepted & self._retired:
            raise ValueError("a version cannot be both accepted and retired")

    def encode(self, action: str, *args: str | int) -> str:
        """Return signed callback data for ``action`` with ``args``.

        Raises ``ValueError`` when the action or an argument is not allowed, or when
        the result would exceed :data:`MAX_BYTES`: a keyboard builder that hits the
        limit fails in its unit test, not in production.
        """
        if not _ACTION.fullmatch(action):
            raise ValueError(f"action {action!r} must match [a-z_]{{1,16}}")
        payload = ARG_SEPARATOR.join([action, *(_arg_text(arg) for arg in args)])
        body = self._current + payload
        data = body + SIGNATURE_SEPARATOR + self._sign(body)
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(
                f"callback data for {action!r} is {len(data.encode())} bytes, over {MAX_BYTES}"
            )
        return data

    def decode(self, data: str) -> Decoded | Rejected:
        """Verify ``data`` from a button press and return what it asks for."""
        if not data or len(data.encode("utf-8", "surrogatepass")) > MAX_BYTES:
            return Rejected(RejectReason.FORGED)
        version = data[0]
        if version in self._retired:
            return Rejected(RejectReason.STALE)
        if version not in self._accepted:
            return Rejected(RejectReason.FORGED)
        body, separator, signature = data.rpartition(SIGNATURE_SEPARATOR)
        if not separator or not _SIGNATURE.fullmatch(signature):
            return Rejected(RejectReason.FORGED)
        if not hmac.compare_digest(signature.encode(), self._sign(body).encode()):
            return Rejected(RejectReason.FORGED)
        action, *args = body[1:].split(ARG_SEPARATOR)
        if not _ACTION.fullmatch(action):
            return Rejected(RejectReason.FORGED)
        return Decoded(action, tuple(args))

    def _sign(self, body: str) -> str:
        digest = hmac.new(self._key, body.encode("utf-8", "surrogatepass"), hashlib.sha256)
        return base64.urlsafe_b64encode(digest.digest()[:SIGNATURE_BYTES]).decode().rstrip("=")


def _arg_text(arg: str | int) -> str:
    """Return ``arg`` as it is written in callback data, or raise ``ValueError``."""
    if isinstance(arg, bool):
        raise TypeError("a bool argument is ambiguous; pass 0/1 or a word")
    text = str(arg)
    if not _ARG.fullmatch(text):
        raise ValueError(f"argument {text!r} must be printable ASCII without '|' or '~'")
    return text


LOCATION_PURPOSE = "located"
"""The purpose of the key that signs buildings' printed codes."""


def derived_key(signing_key: str, purpose: str) -> bytes:
    """A key for one purpose, derived from ``XIESHANG_SIGNING_KEY``.

    Buttons and printed building codes are both signed with the one secret the
    operator keeps, but never with the same key, so a signature made for one use
    is never valid for the other.
    """
    return hmac.new(signing_key.encode(), f"xieshang:{purpose}".encode(), hashlib.sha256).digest()
