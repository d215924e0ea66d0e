"""Every text the bot shows, in Simplified Chinese (the default) and English.

Texts live in gettext catalogs, one per language::

    bot/locales/zh_CN/LC_MESSAGES/xieshang.po
    bot/locales/en/LC_MESSAGES/xieshang.po

with **symbolic message ids** (``reports.submit.done``: capability, step,
outcome) rather than English source text, so that fixing an English sentence
never orphans the Chinese one, and an id says where it is used. Placeholders are
``str.format`` named fields (``{number}``), the same in both languages.

Usage, once per update::

    catalogs = Catalogs.load()                     # at start-up, in the composition root
    locale = resolve_locale(resident.language, update.effective_user.language_code)
    t = catalogs.for_locale(locale)
    t("reports.submit.done", number="HD-2026-0001")

Convention the catalog test relies on (``tests/unit/test_i18n.py``): a message
id appears in code as the **literal first argument** of a call to ``t(...)``,
``_(...)``, ``gettext(...)`` or an attribute ``.t(...)`` (e.g. ``context.t(...)``).
Where an id is chosen from a table instead (an outcome mapped to a message), wrap
the literal in :func:`N_` so the test still sees it; never build ids with
f-strings. ``.text`` is deliberately *not* part of the convention: Telegram
objects have ``.text`` attributes, and the scan must not guess.

To add a message: pick an id ``capability.step.outcome``, add it to **both**
``.po`` files with the same ``{placeholders}``, use it in code as above, and run
``pytest tests/unit/test_i18n.py``.

Why a plain dict instead of ``gettext.GNUTranslations``: gettext answers a
missing id with the id itself, silently; we want to know (``KeyError`` in tests
and development, a logged error and a fallback in production), and a dict needs
no ``.mo`` compilation step. The ``.po`` files are read with Babel at start-up;
no compiled ``.mo`` file is committed.

Missing ids and bad parameters, by mode:

* ``strict=True`` (tests, local development): ``KeyError`` for an id missing from
  the reader's language, and whatever ``str.format`` raises for a missing
  parameter: the mistake surfaces where it was made.
* ``strict=False`` (production): never crash a reply. Log an error once per
  language and id, then answer in the other language, and if no catalog has the
  id, answer with the id itself; a text whose parameters do not fit is logged
  and shown unformatted.

Dates, times and numbers are formatted with Babel in the reader's language and
the community's time zone; stored datetimes are aware and in UTC.
"""

from __future__ import annotations

import logging
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Final, Literal, get_args
from zoneinfo import ZoneInfo

from babel import Locale as BabelLocale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.messages.pofile import read_po

__all__ = [
    "DEFAULT_LOCALE",
    "DOMAIN",
    "LOCALES_DIR",
    "MESSAGE_ID",
    "N_",
    "SUPPORTED_LOCALES",
    "Catalogs",
    "Locale",
    "Translator",
    "catalog_path",
    "format_date",
    "format_datetime",
    "format_number",
    "format_time",
    "placeholders",
    "resolve_locale",
]

logger = logging.getLogger(__name__)

Locale = Literal["zh_CN", "en"]
"""A language the bot speaks; the only values a resident's preference may hold."""

SUPPORTED_LOCALES: Final[tuple[Locale, ...]] = get_args(Locale)
DEFAULT_LOCALE: Final[Locale] = "zh_CN"
DOMAIN: Final = "xieshang"
LOCALES_DIR: Final = Path(__file__).resolve().parent / "locales"

#: What a symbolic message id looks like: dotted lower-case words, at least two.
MESSAGE_ID: Final = re.compile(r"^[a-z_]+(\.[a-z0-9_]+)+$")

#: The Telegram language (the IETF tag's first subtag) each supported locale
#: answers to. Every ``zh`` variant, Traditional included, gets Simplified
#: Chinese: it is the only Chinese we have, and closer than English.
_LANGUAGE_TO_LOCALE: Final[Mapping[str, Locale]] = {"zh": "zh_CN", "en": "en"}


def resolve_locale(preferred: str | None, telegram_language_code: str | None) -> Locale:
    """Choose the language of one update's replies.

    A stored preference (``/lang``) wins; otherwise Telegram's ``language_code``
    of the user (``en``, ``en-US`` → ``en``; ``zh``, ``zh-hans``, ``zh-TW`` … →
    ``zh_CN``); anything else, or nothing, gives the default, Simplified Chinese.
    A preference that is not a supported locale (an old or corrupted value) is
    ignored rather than trusted.
    """
    return _match(preferred) or _match(telegram_language_code) or DEFAULT_LOCALE


def _match(code: str | None) -> Locale | None:
    """Map a locale or language tag (``zh_CN``, ``en-GB``, ``zh-Hans-CN``) to ours."""
    if not code:
        return None
    language = code.strip().replace("_", "-").split("-", 1)[0].lower()
    return _LANGUAGE_TO_LOCALE.get(language)


def N_(message_id: str) -> str:
    """Mark a literal as a message id used later, so the catalog test can find it.

    For tables such as ``{CosignOutcome.OK: N_("topics.cosign_topic.done")}``;
    returns its argument unchanged.
    """
    return message_id


def placeholders(text: str) -> frozenset[str]:
    """Return the ``{name}`` fields of a message text (raises ``ValueError`` if malformed)."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)


def catalog_path(locale: Locale, directory: Path = LOCALES_DIR) -> Path:
    """Return where the ``.po`` file of ``locale`` lives."""
    return directory / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def _read_messages(path: Path, locale: Locale) -> dict[str, str]:
    """Read one ``.po`` file into ``{id: text}``, leaving out what is not ready to show.

    Empty and fuzzy translations are left out, as ``msgfmt`` would, so they fall
    back instead of showing nothing; the catalog test fails on them anyway.
    Plural entries are refused: Chinese has no plural forms, so write a sentence
    that reads well with any number, or two ids.
    """
    with path.open("rb") as po_file:
        catalog = read_po(po_file, locale=locale, domain=DOMAIN, ignore_obsolete=True)
    messages: dict[str, str] = {}
    for message in catalog:
        if not message.id:
            continue  # the header entry
        if not isinstance(message.id, str) or not isinstance(message.string, str):
            raise ValueError(f"{path}:{message.lineno}: plural entries are not supported")
        if message.string and not message.fuzzy:
            messages[message.id] = message.string
    return messages


@dataclass(frozen=True)
class Translator:
    """The texts of one language: ``t("common.cancelled")``, ``t(id, name=value)``."""

    locale: Locale
    _catalogs: Catalogs = field(repr=False)

    def __call__(self, message_id: str, /, **params: object) -> str:
        """Return the text of ``message_id`` in this language, formatted with ``params``."""
        return self._catalogs.translate(self.locale, message_id, params)


class Catalogs:
    """All languages' texts, loaded once at start-up and shared by every update."""

    def __init__(
        self, messages: Mapping[Locale, Mapping[str, str]], *, strict: bool = False
    ) -> None:
        """Keep the texts; ``strict`` chooses between raising and falling back (module doc)."""
        missing = set(SUPPORTED_LOCALES) - messages.keys()
        if missing:
            raise ValueError(f"no catalog for {sorted(missing)}")
        self._messages = {locale: dict(messages[locale]) for locale in SUPPORTED_LOCALES}
        self.strict = strict
        self._reported: set[tuple[Locale, str]] = set()

    @classmethod
    def load(cls, directory: Path = LOCALES_DIR, *, strict: bool = False) -> Catalogs:
        """Read every supported language's ``.po`` file from ``directory``."""
        return cls(
            {
                locale: _read_messages(catalog_path(locale, directory), locale)
                for locale in SUPPORTED_LOCALES
            },
            strict=strict,
        )

    def for_locale(self, locale: Locale) -> Translator:
        """Return the translator of one language (see :func:`resolve_locale`)."""
        if locale not in self._messages:
            raise ValueError(f"unsupported locale {locale!r}: expected one of {SUPPORTED_LOCALES}")
        return Translator(locale, self)

    def messages(self, locale: Locale) -> Mapping[str, str]:
        """Return ``{id: text}`` of one language, for tests and tooling."""
        return self._messages[locale]

    def translate(self, locale: Locale, message_id: str, params: Mapping[str, object]) -> str:
        """Look ``message_id`` up in ``locale`` and format it; see the module doc for failures."""
        text = self._lookup(locale, message_id)
        try:
            return text.format_map(params)
        except (KeyError, IndexError, ValueError, AttributeError):
            if self.strict:
                raise
            logger.exception("message %r (%s) does not fit its parameters", message_id, locale)
            return text

    def _lookup(self, locale: Locale, message_id: str) -> str:
        """Return the raw text, or in production the best fallback for a missing id."""
        text = self._messages[locale].get(message_id)
        if text is not None:
            return text
        if self.strict:
            raise KeyError(f"message id {message_id!r} is missing from the {locale} catalog")
        self._report_missing(locale, message_id)
        for other in (DEFAULT_LOCALE, *SUPPORTED_LOCALES):
            fallback = self._messages[other].get(message_id)
            if fallback is not None:
                return fallback
        return message_id

    def _report_missing(self, locale: Locale, message_id: str) -> None:
        """Log a missing id once per language, not on every reply that needs it."""
        if (locale, message_id) in self._reported:
            return
        self._reported.add((locale, message_id))
        logger.error("message id %r is missing from the %s catalog", message_id, locale)


# -- dates, times and numbers ------------------------------------------------------

#: House style: the weekday helps residents place a meeting or a deadline.
_DATE_SKELETON: Final = "yMMMEd"  # 2026年3月5日周四 / Thu, Mar 5, 2026
_TIME_WIDTH: Final = "short"  # 14:30 / 2:30 PM


def _local(dt: datetime, tz: str) -> datetime:
    """Convert an aware datetime into the community's time zone."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("format an aware datetime (stored datetimes are UTC)")
    return dt.astimezone(ZoneInfo(tz))


def format_date(value: date | datetime, locale: Locale, tz: str) -> str:
    """Format a day, e.g. ``2026年3月5日周四`` / ``Thu, Mar 5, 2026``.

    An aware datetime is first converted into ``tz`` (the community's zone) so
    the day is the one residents live in; a plain ``date`` is already local and
    shown as it is.
    """
    day = _local(value, tz) if isinstance(value, datetime) else value
    return babel_dates.format_skeleton(_DATE_SKELETON, day, locale=locale)


def format_time(dt: datetime, locale: Locale, tz: str) -> str:
    """Format a time of day in ``tz``, e.g. ``14:30`` / ``2:30 PM``."""
    return babel_dates.format_time(_local(dt, tz), _TIME_WIDTH, locale=locale)


def format_datetime(dt: datetime, locale: Locale, tz: str) -> str:
    """Format a moment in ``tz``.

    E.g. ``2026年3月5日周四 14:30`` / ``Thu, Mar 5, 2026, 2:30 PM``: the locale's own
    way of joining a date and a time.
    """
    pattern = BabelLocale.parse(locale).datetime_formats["medium"]
    return (
        str(pattern)
        .replace("'", "")
        .replace("{0}", format_time(dt, locale, tz))
        .replace("{1}", format_date(dt, locale, tz))
    )


def format_number(value: int | float | Decimal, locale: Locale) -> str:
    """Format a number with the locale's grouping and decimal signs, e.g. ``1,234.5``."""
    return babel_numbers.format_decimal(value, locale=locale)
