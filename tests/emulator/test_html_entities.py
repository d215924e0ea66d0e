"""The strict parse_mode=HTML parser and its inverse."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tgemu.html_entities import EntityParseError, parse_html, render_html, utf16_len


def test_pre_with_a_language_becomes_one_pre_entity():
    text, entities = parse_html('<pre><code class="language-python">x = 1</code></pre>')
    assert text == "x = 1"
    assert entities == [{"type": "pre", "offset": 0, "length": 5, "language": "python"}]


def test_spoilers_quotes_and_custom_emoji_are_supported():
    src = (
        '<tg-spoiler>a</tg-spoiler><span class="tg-spoiler">b</span>'
        "<blockquote expandable>c</blockquote><blockquote>d</blockquote>"
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji><u>e</u><s>f</s>&#20013;&#x6587;'
    )
    text, entities = parse_html(src)
    assert text == "abcd👍ef中文"
    assert [e["type"] for e in entities] == [
        "spoiler",
        "spoiler",
        "expandable_blockquote",
        "blockquote",
        "custom_emoji",
        "underline",
        "strikethrough",
    ]
    assert entities[5]["offset"] == 6  # the emoji counts 2 UTF-16 units


@pytest.mark.parametrize(
    ("src", "reason"),
    [
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("x </b>", "Unexpected end tag at byte offset 2"),
        ("<br>", 'Unsupported start tag "br" at byte offset 0'),
        ("1 < 2", "Unexpected end of name token at byte offset 3"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
    ],
)
def test_invalid_markup_is_refused_with_telegrams_reason(src: str, reason: str):
    with pytest.raises(EntityParseError) as exc:
        parse_html(src)
    assert str(exc.value) == reason


def _escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@given(st.text())
def test_escaped_text_parses_back_to_itself_without_entities(s: str):
    assert parse_html(_escape(s)) == (s, [])


segment = st.text(
    alphabet=st.characters(exclude_characters="\x00", exclude_categories=("Cs",)),
    min_size=1,
    max_size=5,
)
tag = st.sampled_from(["b", "i", "u", "s", "code", "tg-spoiler", "blockquote"])


@st.composite
def markup(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        if depth < 2 and draw(st.booleans()):
            t = draw(tag)
            parts.append(f"<{t}>{draw(markup(depth + 1))}</{t}>")
        else:
            parts.append(_escape(draw(segment)))
    return "".join(parts)


@given(markup())
def test_rendering_parsed_markup_gives_equivalent_markup(src: str):
    text, entities = parse_html(src)
    assert all(e["offset"] + e["length"] <= utf16_len(text) for e in entities)
    assert parse_html(render_html(text, entities)) == (text, entities)
