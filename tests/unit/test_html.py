"""HTML helpers: user text is shown literally, builders escape, truncation stays valid HTML."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.html import bold, code, escape, italic, link, truncate, utf16_length

HOSTILE = [
    "<b>bold?</b>",
    "&lt;not an entity&gt;",
    '<a href="javascript:alert(1)">click</a>',
    "</code><i>",
    "a & b < c > d",
    "&amp;amp;",
]

TAG_OR_ENTITY = re.compile(r"<[^>]*>|&[^;\s]*;")


def displayed(fragment: str) -> str:
    """Return the text Telegram would display for an HTML fragment."""
    return html.unescape(re.sub(r"<[^>]*>", "", fragment))


@pytest.mark.parametrize("text", HOSTILE)
def test_escape_shows_hostile_text_literally(text: str) -> None:
    escaped = escape(text)
    assert "<" not in escaped
    assert ">" not in escaped
    assert displayed(escaped) == text


def test_escape_leaves_quotes_alone() -> None:
    assert escape("""He said "hi" and 'bye'""") == """He said "hi" and 'bye'"""


@given(st.text())
def test_escape_round_trips_any_text(text: str) -> None:
    assert html.unescape(escape(text)) == text
    assert "<" not in escape(text)


@pytest.mark.parametrize(
    ("builder", "tag"), [(bold, "b"), (italic, "i"), (code, "code")], ids=["b", "i", "code"]
)
@pytest.mark.parametrize("text", HOSTILE)
def test_builders_escape_what_they_wrap(builder: object, tag: str, text: str) -> None:
    assert callable(builder)
    built = builder(text)
    assert built == f"<{tag}>{escape(text)}</{tag}>"
    assert displayed(built) == text


def test_link_escapes_url_and_text() -> None:
    built = link('https://example.org/?a=1&b="x"', "<b>me</b>")
    assert built == (
        '<a href="https://example.org/?a=1&amp;b=&quot;x&quot;">&lt;b&gt;me&lt;/b&gt;</a>'
    )


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,x", "/relative", ""]
)
def test_link_refuses_urls_that_are_not_web_or_telegram(url: str) -> None:
    with pytest.raises(ValueError, match="scheme"):
        link(url, "x")


def test_link_accepts_telegram_deep_links() -> None:
    assert link("tg://user?id=1", "me") == '<a href="tg://user?id=1">me</a>'


def test_truncate_leaves_short_text_alone() -> None:
    assert truncate("a &amp; b", 5) == "a &amp; b"


def test_truncate_counts_an_entity_as_one_character() -> None:
    assert truncate(escape("a&b&c"), 5) == "a&amp;b&amp;c"
    assert truncate(escape("a&b&c"), 4) == "a&amp;b…"


def test_truncate_never_cuts_inside_an_entity() -> None:
    for limit in range(1, 12):
        cut = truncate(escape("&&&&&&&&&&&&&&"), limit)
        assert re.fullmatch(r"(&amp;)*…", cut), cut


def test_truncate_counts_astral_characters_as_two_units() -> None:
    text = "ab😀cd"
    assert utf16_length(text) == 6
    assert truncate(text, 6) == text
    assert truncate(text, 4) == "ab…"
    assert truncate(text, 5) == "ab😀…"


def test_truncate_keeps_accents_and_emoji_sequences_whole() -> None:
    assert truncate("cafe\u0301s", 5) == "caf…"
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert truncate("a" + family + "z", 7) == "a…"
    assert truncate("a" + family + "zz", 10) == "a" + family + "…"


def test_truncate_closes_tags_it_leaves_open() -> None:
    text = bold("abcdef") + italic("ghi")
    assert truncate(text, 4) == "<b>abc…</b>"
    assert truncate(text, 8) == "<b>abcdef</b><i>g…</i>"
    linked = link("https://example.org/?a&b", "label text")
    assert truncate(linked, 4) == '<a href="https://example.org/?a&amp;b">lab…</a>'


def test_truncate_refuses_a_limit_below_the_ellipsis() -> None:
    with pytest.raises(ValueError, match="no room"):
        truncate("abc", 0)


@given(st.text(min_size=0, max_size=60), st.integers(min_value=1, max_value=70))
def test_truncate_stays_within_the_limit_and_is_a_prefix(text: str, limit: int) -> None:
    cut = truncate(bold(text), limit)
    shown = displayed(cut)
    assert utf16_length(shown) <= limit
    if shown != text:
        assert shown.endswith("…")
        assert text.startswith(shown[:-1])
    assert cut.startswith("<b>")
    assert cut.endswith("</b>")
    for token in TAG_OR_ENTITY.findall(cut):
        assert token in {"<b>", "</b>", "&amp;", "&lt;", "&gt;"}
