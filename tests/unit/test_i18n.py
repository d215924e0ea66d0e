"""The catalogs are complete and consistent, ids used in code exist, locales and formats."""

from __future__ import annotations

import ast
import logging
import re
import string
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.i18n import (
    DEFAULT_LOCALE,
    DOMAIN,
    MESSAGE_ID,
    SUPPORTED_LOCALES,
    Catalogs,
    Locale,
    catalog_path,
    format_date,
    format_datetime,
    format_number,
    format_time,
    placeholders,
    resolve_locale,
)

ROOT = Path(__file__).resolve().parents[2]

#: The packages whose code may show texts; tests and the emulator do not.
SOURCE_PACKAGES = ("bot", "handlers", "civic", "storage", "scheduler")

#: How code names a translator (see the module docstring of bot/i18n.py).
TRANSLATOR_FUNCTIONS = frozenset({"t", "_", "gettext", "N_"})
TRANSLATOR_METHODS = frozenset({"t"})

#: Catalog ids that may stay unused by code, with the reason. Keep it short.
UNUSED_ALLOWED: dict[str, str] = {}

#: While the skeleton is being written most ids have no caller yet, so unused ids
#: are reported as a skip (visible with ``pytest -rs``) instead of failing. Set to
#: True once the CLI and the first handlers use their ids.
UNUSED_IDS_FAIL = False


# -- reading the catalogs as files, independently of the loader ------------------------


def raw_catalog(locale: Locale) -> dict[str, tuple[str, bool]]:
    """Return ``{id: (text, fuzzy)}`` of one ``.po`` file, untranslated entries included."""
    with catalog_path(locale).open("rb") as po_file:
        catalog = read_po(po_file, locale=locale, domain=DOMAIN)
    return {
        str(message.id): (str(message.string), message.fuzzy) for message in catalog if message.id
    }


CATALOGS: dict[Locale, dict[str, tuple[str, bool]]] = {
    locale: raw_catalog(locale) for locale in SUPPORTED_LOCALES
}
ALL_IDS = sorted(set().union(*CATALOGS.values()))


# -- finding the ids used in code -------------------------------------------------------


def literal_ids(source: str, filename: str = "<source>") -> Iterator[tuple[int, str]]:
    """Yield ``(line, literal)`` for each translator call with a literal first argument."""
    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        function = node.func
        is_translator = (
            isinstance(function, ast.Name) and function.id in TRANSLATOR_FUNCTIONS
        ) or (isinstance(function, ast.Attribute) and function.attr in TRANSLATOR_METHODS)
        first = node.args[0]
        if is_translator and isinstance(first, ast.Constant) and isinstance(first.value, str):
            yield node.lineno, first.value


def source_files() -> Iterator[Path]:
    """Yield the Python files of the packages that may show texts."""
    for package in SOURCE_PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def ids_used_in_code() -> dict[str, list[str]]:
    """Return ``{literal: [file:line, ...]}`` for every translator call in the sources."""
    used: dict[str, list[str]] = {}
    for path in source_files():
        for line, literal in literal_ids(path.read_text(encoding="utf-8"), str(path)):
            used.setdefault(literal, []).append(f"{path.relative_to(ROOT)}:{line}")
    return used


def test_the_scanner_finds_every_kind_of_translator_call() -> None:
    source = """
t("reports.submit.done", number=n)
context.t("common.cancelled")
_("common.button.back")
gettext("app.name")
TABLE = {Outcome.OK: N_("topics.cosign_topic.done")}
t(message_id)
message.reply_text("common.not_a_translator_call")
print("cli.db.ready")
"""
    assert [literal for _, literal in literal_ids(source)] == [
        "reports.submit.done",
        "common.cancelled",
        "common.button.back",
        "app.name",
        "topics.cosign_topic.done",
    ]


def test_the_scanner_reads_the_project_sources() -> None:
    assert any(path.name == "i18n.py" for path in source_files())


# -- the catalogs themselves ------------------------------------------------------------


def test_both_catalogs_are_non_empty() -> None:
    for locale in SUPPORTED_LOCALES:
        assert CATALOGS[locale], f"{catalog_path(locale)} has no messages"


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_catalog_id_is_symbolic(locale: Locale) -> None:
    bad = [message_id for message_id in CATALOGS[locale] if not MESSAGE_ID.match(message_id)]
    assert bad == [], f"{catalog_path(locale)}: ids must look like 'capability.step.outcome'"


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_id_has_a_finished_translation(locale: Locale) -> None:
    empty = [message_id for message_id, (text, _) in CATALOGS[locale].items() if not text]
    fuzzy = [message_id for message_id, (_, is_fuzzy) in CATALOGS[locale].items() if is_fuzzy]
    assert empty == [], f"{catalog_path(locale)}: empty msgstr"
    assert fuzzy == [], f"{catalog_path(locale)}: fuzzy entries are not shown to anyone"


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_no_id_is_defined_twice_in_a_catalog(locale: Locale) -> None:
    # read_po silently keeps the first of two entries with the same id.
    lines = catalog_path(locale).read_text(encoding="utf-8").splitlines()
    ids = Counter(match[1] for line in lines if (match := re.match(r'^msgid "(.+)"$', line)))
    assert [message_id for message_id, count in ids.items() if count > 1] == []


def test_both_catalogs_have_the_same_ids() -> None:
    zh, en = (set(CATALOGS[locale]) for locale in SUPPORTED_LOCALES)
    assert sorted(zh - en) == [], "in the zh_CN catalog only"
    assert sorted(en - zh) == [], "in the en catalog only"


@pytest.mark.parametrize("message_id", ALL_IDS)
def test_placeholders_are_plain_names_and_the_same_in_both_languages(message_id: str) -> None:
    found = {}
    for locale in SUPPORTED_LOCALES:
        text, _ = CATALOGS[locale].get(message_id, ("", False))
        fields = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
        assert all(name.isidentifier() for name in fields), f"{locale}: {fields}"
        found[locale] = placeholders(text)
    assert found["zh_CN"] == found["en"]


def test_the_loader_reads_every_id_of_both_catalogs() -> None:
    catalogs = Catalogs.load(strict=True)
    for locale in SUPPORTED_LOCALES:
        assert set(catalogs.messages(locale)) == set(CATALOGS[locale])


# -- ids used in code ---------------------------------------------------------------------


def test_literal_arguments_of_translator_calls_are_symbolic_ids() -> None:
    bad = {
        literal: where
        for literal, where in ids_used_in_code().items()
        if not MESSAGE_ID.match(literal)
    }
    assert bad == {}, "translate symbolic ids, not text: add the text to the catalogs"


def test_every_id_used_in_code_is_in_both_catalogs() -> None:
    used = {
        literal: where for literal, where in ids_used_in_code().items() if MESSAGE_ID.match(literal)
    }
    for locale in SUPPORTED_LOCALES:
        missing = {
            message_id: where
            for message_id, where in used.items()
            if message_id not in CATALOGS[locale]
        }
        assert missing == {}, f"used in code but missing from {catalog_path(locale)}"


def test_every_catalog_id_is_used_in_code_or_allowlisted() -> None:
    unused = sorted(set(ALL_IDS) - set(ids_used_in_code()) - set(UNUSED_ALLOWED))
    if unused and not UNUSED_IDS_FAIL:
        pytest.skip(f"{len(unused)} catalog ids not used in code yet: {', '.join(unused)}")
    assert unused == [], "remove them from both catalogs, or allowlist them with a reason"


# -- choosing the language -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("preferred", "telegram", "expected"),
    [
        (None, None, "zh_CN"),
        (None, "", "zh_CN"),
        (None, "en", "en"),
        (None, "en-US", "en"),
        (None, "EN-gb", "en"),
        (None, "zh", "zh_CN"),
        (None, "zh-hans", "zh_CN"),
        (None, "zh-CN", "zh_CN"),
        (None, "zh-Hans-CN", "zh_CN"),
        (None, "zh-TW", "zh_CN"),
        (None, "zh-hant", "zh_CN"),
        (None, "ru", "zh_CN"),
        (None, "ug", "zh_CN"),
        ("en", "zh-hans", "en"),
        ("zh_CN", "en-US", "zh_CN"),
        ("fr", "en", "en"),  # an unsupported stored value is ignored
        ("fr", None, "zh_CN"),
    ],
)
def test_resolve_locale_prefers_the_stored_choice_then_telegram_then_chinese(
    preferred: str | None, telegram: str | None, expected: str
) -> None:
    assert resolve_locale(preferred, telegram) == expected


def test_the_default_locale_is_simplified_chinese() -> None:
    assert DEFAULT_LOCALE == "zh_CN"
    assert DEFAULT_LOCALE in SUPPORTED_LOCALES


# -- translating ----------------------------------------------------------------------------


def write_catalogs(directory: Path, messages: dict[Locale, dict[str, str]]) -> None:
    """Write minimal ``.po`` files for the loader, one per locale."""
    for locale, entries in messages.items():
        path = catalog_path(locale, directory)
        path.parent.mkdir(parents=True)
        body = "".join(f'msgid "{key}"\nmsgstr "{text}"\n\n' for key, text in entries.items())
        header = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        path.write_text(header + body, encoding="utf-8")


@pytest.fixture
def partial_catalogs(tmp_path: Path) -> Path:
    """Catalogs where ``only.chinese`` lacks its English text."""
    write_catalogs(
        tmp_path,
        {
            "zh_CN": {"greet.name": "你好，{name}！", "only.chinese": "只有中文"},
            "en": {"greet.name": "Hello, {name}!"},
        },
    )
    return tmp_path


def test_a_translator_formats_named_placeholders_in_its_language() -> None:
    catalogs = Catalogs.load(strict=True)
    assert catalogs.for_locale("en")("cli.backup.done", path="/tmp/b.db", rows=42) == (
        "Backup written to /tmp/b.db (42 rows)."
    )
    assert catalogs.for_locale("zh_CN")("cli.backup.done", path="/tmp/b.db", rows=42) == (
        "备份已写入 /tmp/b.db（共 42 行）。"
    )


def test_in_strict_mode_a_missing_id_raises_key_error(partial_catalogs: Path) -> None:
    t = Catalogs.load(partial_catalogs, strict=True).for_locale("en")
    with pytest.raises(KeyError, match=r"only\.chinese"):
        t("only.chinese")
    with pytest.raises(KeyError, match=r"no\.such_id"):
        t("no.such_id")


def test_in_strict_mode_a_missing_parameter_raises(partial_catalogs: Path) -> None:
    t = Catalogs.load(partial_catalogs, strict=True).for_locale("en")
    with pytest.raises(KeyError, match="name"):
        t("greet.name")


def test_in_production_a_missing_id_falls_back_to_the_other_language_and_logs_once(
    partial_catalogs: Path, caplog: pytest.LogCaptureFixture
) -> None:
    t = Catalogs.load(partial_catalogs).for_locale("en")
    with caplog.at_level(logging.ERROR, logger="bot.i18n"):
        assert t("only.chinese") == "只有中文"
        assert t("only.chinese") == "只有中文"
    assert [record.getMessage() for record in caplog.records] == [
        "message id 'only.chinese' is missing from the en catalog"
    ]


def test_in_production_an_id_missing_everywhere_shows_the_id(partial_catalogs: Path) -> None:
    t = Catalogs.load(partial_catalogs).for_locale("zh_CN")
    assert t("no.such_id") == "no.such_id"


def test_in_production_a_missing_parameter_shows_the_text_unformatted(
    partial_catalogs: Path, caplog: pytest.LogCaptureFixture
) -> None:
    t = Catalogs.load(partial_catalogs).for_locale("en")
    with caplog.at_level(logging.ERROR, logger="bot.i18n"):
        assert t("greet.name") == "Hello, {name}!"
    assert len(caplog.records) == 1


def test_an_unsupported_locale_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported locale"):
        Catalogs.load().for_locale("fr")  # type: ignore[arg-type]


# -- dates, times and numbers ----------------------------------------------------------------

SHANGHAI = "Asia/Shanghai"
# CLDR puts a narrow no-break space (U+202F) between an English time and AM/PM.
# 22:30 UTC on Thursday 5 March is 06:30 on Friday 6 March in Shanghai.
LATE_UTC = datetime(2026, 3, 5, 22, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("zh_CN", "2026年3月6日周五 06:30"), ("en", "Fri, Mar 6, 2026, 6:30\u202fAM")],
)
def test_format_datetime_shows_the_shanghai_day_and_time(locale: Locale, expected: str) -> None:
    assert format_datetime(LATE_UTC, locale, SHANGHAI) == expected


@pytest.mark.parametrize(
    ("locale", "day", "time"),
    [("zh_CN", "2026年3月6日周五", "06:30"), ("en", "Fri, Mar 6, 2026", "6:30\u202fAM")],
)
def test_format_date_and_time_use_the_community_time_zone(
    locale: Locale, day: str, time: str
) -> None:
    assert format_date(LATE_UTC, locale, SHANGHAI) == day
    assert format_time(LATE_UTC, locale, SHANGHAI) == time


def test_format_date_shows_a_plain_date_as_it_is() -> None:
    assert format_date(date(2026, 10, 1), "zh_CN", SHANGHAI) == "2026年10月1日周四"


def test_formatting_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        format_datetime(datetime(2026, 3, 5, 22, 30), "en", SHANGHAI)


@pytest.mark.parametrize(("locale", "expected"), [("zh_CN", "1,234,567.5"), ("en", "1,234,567.5")])
def test_format_number_groups_thousands(locale: Locale, expected: str) -> None:
    assert format_number(1234567.5, locale) == expected
