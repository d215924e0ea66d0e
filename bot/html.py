"""Safe HTML for Telegram's ``parse_mode=HTML``: escape user text, build tags, truncate.

Every message the bot sends uses HTML parse mode, and much of it quotes residents
(report descriptions, topic titles, names). Telegram rejects a message whose text
has a ``<``, ``>`` or ``&`` that is not part of a supported tag or entity (400 "can't
parse entities"), and a resident who types ``<b>`` or ``<a href=...>`` must see
those characters, not formatting or a link (spec 01, "All user text rendered in
HTML parse mode is escaped"). So user text only ever reaches a message through
:func:`escape` or one of the builders below, which escape what they wrap.

Only the tags produced here are assumed by :func:`truncate`; other tags pass
through it untouched but are not validated.
"""

from __future__ import annotations

import html
import re
import unicodedata
from urllib.parse import urlsplit

__all__ = [
    "LINK_SCHEMES",
    "bold",
    "code",
    "escape",
    "italic",
    "link",
    "truncate",
    "utf16_length",
]

LINK_SCHEMES = frozenset({"http", "https", "tg"})
"""URL schemes :func:`link` accepts. Telegram would turn others into dead links at
best; ``javascript:`` and ``data:`` have no business in a message either."""

_TOKEN = re.compile(r"<[^>]*>|&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z]+);|.", re.DOTALL)
"""One unit :func:`truncate` never splits: a tag, an entity, or one code point."""

_CLOSING_TAG = re.compile(r"</\s*([A-Za-z-]+)\s*>")
_OPENING_TAG = re.compile(r"<\s*([A-Za-z-]+)[^>]*>")

_ZERO_WIDTH_JOINER = "\u200d"


def escape(text: str) -> str:
    """Escape ``<``, ``>`` and ``&`` so that Telegram shows ``text`` literally.

    Quotes are left alone (``quote=False``): outside a tag they have no meaning in
    Telegram's HTML and escaping them would only make messages longer and harder to
    read in logs. Attribute values are a different context: :func:`link` escapes
    quotes in the URL it puts inside ``href="..."``.
    """
    return html.escape(text, quote=False)


def bold(text: str) -> str:
    """Return ``text`` escaped and in bold."""
    return f"<b>{escape(text)}</b>"


def italic(text: str) -> str:
    """Return ``text`` escaped and in italics."""
    return f"<i>{escape(text)}</i>"


def code(text: str) -> str:
    """Return ``text`` escaped and monospaced (codes, ids a resident may copy)."""
    return f"<code>{escape(text)}</code>"


def link(url: str, text: str) -> str:
    """Return a link to ``url`` showing ``text``, both escaped.

    Raises ``ValueError`` for a URL whose scheme is not in :data:`LINK_SCHEMES`
    (``javascript:``, ``data:``, relative URLs): links are built by the bot from
    configuration or its own routes, so anything else is a bug or an injection.
    """
    scheme = urlsplit(url.strip()).scheme.lower()
    if scheme not in LINK_SCHEMES:
        raise ValueError(f"refusing to link to a URL with scheme {scheme!r}")
    return f'<a href="{html.escape(url, quote=True)}">{escape(text)}</a>'


def utf16_length(text: str) -> int:
    """Return the length of ``text`` in UTF-16 code units, the unit Telegram counts in.

    A character outside the Basic Multilingual Plane (most emoji, rare CJK
    ideographs in Extension B and beyond) is one Python character but two units
    (a surrogate pair) for Telegram.
    """
    return len(text.encode("utf-16-le")) // 2


def truncate(text: str, limit: int, *, ellipsis: str = "…") -> str:
    """Shorten HTML ``text`` so that what Telegram displays is at most ``limit`` units.

    ``text`` is HTML as this module produces it (escaped text, possibly wrapped in
    tags). Length is measured as Telegram measures a message: after parsing, in
    UTF-16 code units (see :func:`utf16_length`), so tags count nothing and an entity
    such as ``&amp;`` counts as the one character it stands for. The cut never
    falls inside a tag, an entity or a surrogate pair, never separates a combining
    mark, variation selector or zero-width joiner from the character before it,
    and closes the tags it leaves open. When anything is cut, ``ellipsis`` is
    appended (it counts towards ``limit``).

    Grapheme clusters are not fully modelled: a long ZWJ emoji sequence is cut
    before its first member, which is what a reader expects.
    """
    ellipsis_length = utf16_length(ellipsis)
    if limit < ellipsis_length:
        raise ValueError(f"limit {limit} leaves no room for the ellipsis {ellipsis!r}")
    tokens = _TOKEN.findall(text)
    if _displayed_length(tokens) <= limit:
        return text
    kept = _keep_within(tokens, limit - ellipsis_length)
    return "".join(kept) + escape(ellipsis) + _closing_tags(kept)


def _token_length(token: str) -> int:
    """Return how many UTF-16 units ``token`` displays as (0 for a tag)."""
    if token.startswith("<"):
        return 0
    if token.startswith("&") and len(token) > 1:
        return utf16_length(html.unescape(token))
    return utf16_length(token)


def _displayed_length(tokens: list[str]) -> int:
    return sum(_token_length(token) for token in tokens)


def _keep_within(tokens: list[str], budget: int) -> list[str]:
    """Return the longest clean prefix of ``tokens`` that displays within ``budget`` units."""
    kept: list[str] = []
    used = 0
    for token in tokens:
        length = _token_length(token)
        if used + length > budget:
            return _without_dangling_base(kept, token)
        kept.append(token)
        used += length
    return kept


def _is_extender(token: str) -> bool:
    """Tell whether ``token`` belongs to the character before it.

    Combining marks, variation selectors, emoji skin-tone modifiers and the
    zero-width joiner all change or join the preceding character; shown alone they
    are noise or a replacement box.
    """
    if len(token) != 1:
        return False
    return (
        token == _ZERO_WIDTH_JOINER
        or unicodedata.category(token) in {"Mn", "Me", "Mc"}
        or "\ufe00" <= token <= "\ufe0f"
        or "\U0001f3fb" <= token <= "\U0001f3ff"
    )


def _without_dangling_base(kept: list[str], following: str) -> list[str]:
    """Drop the trailing characters that the cut would separate from their extenders.

    ``following`` is the first token cut off. While it extends the last kept
    character, or the last kept character is a joiner, that character goes too, so
    an accented letter or an emoji sequence is kept whole or not at all.
    """
    while (
        kept
        and not kept[-1].startswith("<")
        and (_is_extender(following) or kept[-1] == _ZERO_WIDTH_JOINER)
    ):
        following = kept.pop()
    return kept


def _closing_tags(tokens: list[str]) -> str:
    """Return the closing tags for the tags ``tokens`` leave open, innermost first."""
    open_tags: list[str] = []
    for token in tokens:
        if not token.startswith("<"):
            continue
        closing = _CLOSING_TAG.fullmatch(token)
        if closing:
            name = closing.group(1).lower()
            if name in open_tags:
                del open_tags[len(open_tags) - 1 - open_tags[::-1].index(name)]
            continue
        opening = _OPENING_TAG.fullmatch(token)
        if opening:
            open_tags.append(opening.group(1).lower())
    return "".join(f"</{name}>" for name in reversed(open_tags))
