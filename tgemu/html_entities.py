"""Telegram's ``parse_mode=HTML``: markup in, plain text plus entities out, and back.

Telegram accepts only a handful of tags and is strict about them: an unknown tag,
an unclosed tag or a bare ``<`` is refused with ``400 can't parse entities``.  A
lenient parser (``html.parser``) would let a bot pass tests that Telegram then
rejects, so this is a small strict tokenizer instead.

Entity offsets and lengths are counted in UTF-16 code units, as Telegram does (an
emoji outside the BMP counts 2).  :func:`render_html` is the inverse, used by the
control API to show test authors what the user would see.
"""

from __future__ import annotations

import re
from typing import Any

Entity = dict[str, Any]

_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]+);")
_NAME_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9-]*")
_ATTR_RE = re.compile(r"""\s*([a-zA-Z][a-zA-Z0-9_-]*)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>"']+))?""")


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def has_lone_surrogate(text: str) -> bool:
    """True for strings no UTF-8 request could carry (JSON ``"\\ud800"`` decodes to one)."""
    return _LONE_SURROGATE.search(text) is not None


class EntityParseError(ValueError):
    """Raised with Telegram's wording after ``Bad Request: can't parse entities: ``."""


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (Telegram's unit for offsets)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8", "surrogatepass"))


def _decode_entity(match: re.Match[str]) -> str | None:
    body = match.group(1)
    if body.startswith("#"):
        code = int(body[2:], 16) if body[1:2] in ("x", "X") else int(body[1:])
        if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
            return chr(code)
        return None
    return _NAMED_ENTITIES.get(body.lower())


def _unescape(value: str) -> str:
    def repl(m: re.Match[str]) -> str:
        decoded = _decode_entity(m)
        return m.group(0) if decoded is None else decoded

    return _ENTITY_RE.sub(repl, value)


class _Open:
    __slots__ = ("attrs", "entity", "name", "start")

    def __init__(self, name: str, start: int, entity: Entity | None, attrs: dict[str, str]):
        self.name = name
        self.start = start
        self.entity = entity
        self.attrs = attrs


def parse_html(source: str) -> tuple[str, list[Entity]]:
    """Parse Telegram HTML into ``(text, entities)``; raises :class:`EntityParseError`."""
    out: list[str] = []
    pos16 = 0  # current output length in UTF-16 units
    entities: list[Entity] = []
    stack: list[_Open] = []
    i = 0
    n = len(source)
    while i < n:
        lt = source.find("<", i)
        amp = source.find("&", i)
        nxt = min(x for x in (lt, amp, n) if x != -1)
        if nxt > i:
            chunk = source[i:nxt]
            out.append(chunk)
            pos16 += utf16_len(chunk)
            i = nxt
            continue
        if source[i] == "&":
            m = _ENTITY_RE.match(source, i)
            decoded = _decode_entity(m) if m else None
            if m and decoded is not None:
                out.append(decoded)
                pos16 += utf16_len(decoded)
                i = m.end()
            else:
                out.append("&")
                pos16 += 1
                i += 1
            continue
        # a tag
        tag_at = _byte_offset(source, i)
        if source.startswith("</", i):
            m = _NAME_RE.match(source, i + 2)
            close = source.find(">", i)
            if close == -1:
                raise EntityParseError(f"Unclosed end tag at byte offset {tag_at}")
            name = m.group(0).lower() if m else ""
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {tag_at}")
            top = stack[-1]
            if name != top.name or (m and source[m.end() : close].strip()):
                raise EntityParseError(
                    f'Unmatched end tag at byte offset {tag_at}, expected "</{top.name}>", '
                    f'found "{source[i : close + 1]}"'
                )
            stack.pop()
            if top.entity is not None:
                top.entity["length"] = pos16 - top.start
            i = close + 1
            continue
        m = _NAME_RE.match(source, i + 1)
        if not m:
            raise EntityParseError(
                f"Unexpected end of name token at byte offset {_byte_offset(source, i + 1)}"
            )
        name = m.group(0).lower()
        j = m.end()
        attrs: dict[str, str] = {}
        while True:
            if j >= n:
                raise EntityParseError(f"Unclosed start tag at byte offset {tag_at}")
            if source[j] == ">":
                j += 1
                break
            am = _ATTR_RE.match(source, j)
            if not am or am.end() == j:
                if source[j].isspace():
                    j += 1
                    continue
                raise EntityParseError(
                    f"Expected equal sign in declaration of an attribute of a start tag "
                    f"at byte offset {_byte_offset(source, j)}"
                )
            raw = am.group(2)
            if raw is not None and raw[:1] in ('"', "'"):
                raw = raw[1:-1]
            attrs[am.group(1).lower()] = _unescape(raw) if raw is not None else ""
            j = am.end()
        if name not in _SIMPLE_TAGS:
            raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {tag_at}')
        entity = _entity_for(name, attrs, stack, pos16, tag_at)
        if entity is not None:
            entities.append(entity)
        stack.append(_Open(name, pos16, entity, attrs))
        i = j
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    return "".join(out), [e for e in entities if e["length"] > 0]


def _entity_for(
    name: str, attrs: dict[str, str], stack: list[_Open], pos16: int, tag_at: int
) -> Entity | None:
    kind = _SIMPLE_TAGS[name]
    entity: Entity = {"type": kind, "offset": pos16, "length": 0}
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {tag_at}')
    if name == "a":
        href = attrs.get("href", "")
        if not href:
            return None
        user = re.fullmatch(r"tg://user\?id=(\d+)", href)
        if user:
            return {
                "type": "text_mention",
                "offset": pos16,
                "length": 0,
                "user": {"id": int(user.group(1)), "is_bot": False, "first_name": ""},
            }
        entity["url"] = href
    elif name == "code":
        parent = stack[-1] if stack else None
        lang = attrs.get("class", "")
        if parent is not None and parent.name == "pre" and parent.entity is not None:
            if lang.startswith("language-") and parent.start == pos16:
                parent.entity["language"] = lang[len("language-") :]
            return None  # code inside pre is part of the pre entity
    elif name == "blockquote":
        if "expandable" in attrs:
            entity["type"] = "expandable_blockquote"
    elif name == "tg-emoji":
        emoji_id = attrs.get("emoji-id")
        if not emoji_id:
            raise EntityParseError(
                f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {tag_at}'
            )
        entity["custom_emoji_id"] = emoji_id
    return entity


def _escape(text: str, quote: bool = False) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;") if quote else text


def _open_tag(e: Entity) -> str:
    kind = e.get("type")
    match kind:
        case "bold":
            return "<b>"
        case "italic":
            return "<i>"
        case "underline":
            return "<u>"
        case "strikethrough":
            return "<s>"
        case "spoiler":
            return "<tg-spoiler>"
        case "code":
            return "<code>"
        case "pre":
            lang = e.get("language")
            return f'<pre><code class="language-{_escape(lang, True)}">' if lang else "<pre>"
        case "text_link":
            return f'<a href="{_escape(str(e.get("url", "")), True)}">'
        case "text_mention":
            uid = (e.get("user") or {}).get("id", "")
            return f'<a href="tg://user?id={uid}">'
        case "blockquote":
            return "<blockquote>"
        case "expandable_blockquote":
            return "<blockquote expandable>"
        case "custom_emoji":
            return f'<tg-emoji emoji-id="{_escape(str(e.get("custom_emoji_id", "")), True)}">'
    return ""


def _close_tag(e: Entity) -> str:
    kind = e.get("type")
    match kind:
        case "bold":
            return "</b>"
        case "italic":
            return "</i>"
        case "underline":
            return "</u>"
        case "strikethrough":
            return "</s>"
        case "spoiler":
            return "</tg-spoiler>"
        case "code":
            return "</code>"
        case "pre":
            return "</code></pre>" if e.get("language") else "</pre>"
        case "text_link" | "text_mention":
            return "</a>"
        case "blockquote" | "expandable_blockquote":
            return "</blockquote>"
        case "custom_emoji":
            return "</tg-emoji>"
    return ""


def render_html(text: str, entities: list[Entity] | None) -> str:
    """Render ``text`` with ``entities`` as Telegram HTML (inverse of :func:`parse_html`).

    Entities without an HTML form (bot_command, url, mention...) render as plain
    text.  Properly nested entities round-trip exactly.
    """
    if not entities:
        return _escape(text)
    styled = [e for e in entities if _open_tag(e)]
    opens: dict[int, list[Entity]] = {}
    closes: dict[int, list[Entity]] = {}
    ordered = sorted(styled, key=lambda e: (e["offset"], -e["length"]))
    for e in ordered:
        opens.setdefault(e["offset"], []).append(e)
    for e in reversed(ordered):  # inner entities close first, even at equal keys
        closes.setdefault(e["offset"] + e["length"], []).append(e)
    parts: list[str] = []
    pos = 0
    for ch in text:
        if pos in closes:
            parts.extend(_close_tag(e) for e in closes.pop(pos))
        if pos in opens:
            parts.extend(_open_tag(e) for e in opens.pop(pos))
        parts.append(_escape(ch))
        pos += 2 if ord(ch) > 0xFFFF else 1
    for key in sorted(closes):
        parts.extend(_close_tag(e) for e in closes[key])
    return "".join(parts)
