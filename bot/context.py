"""The typed context every handler receives: services and the reader's language.

Handlers reach services through ``context.services`` rather than raw
``bot_data["..."]`` keys (STYLE.md 7); the locale is resolved once per update
(python-telegram-bot builds one context per update and reuses it across handler
groups).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.callbacks import CallbackCodec, Decoded
from bot.clock import Clock, SystemClock
from bot.config import Settings, places_from_config
from bot.i18n import Catalogs, Locale, Translator, resolve_locale
from bot.profiles import ProfileHints, RoleHolders
from bot.sender import OutboxSender
from civic.flood import FloodControl
from civic.places import Places
from storage.database import Database

SERVICES_KEY = "xieshang.services"


@dataclass
class Services:
    """What handlers may use; built once by the composition root."""

    settings: Settings
    database: Database
    catalogs: Catalogs
    sender: OutboxSender
    """Wake it after queueing outbox rows, so they go out at once."""
    buttons: CallbackCodec
    """Signs the callback data of every button the bot sends, and verifies presses."""
    flood: FloodControl
    """Per-user flood control (``[flood]``), checked by :mod:`handlers.guards`."""
    clock: Clock = field(default_factory=SystemClock)
    """Where ``now`` comes from: pass ``clock.now()`` to services, never read the time."""
    profiles: ProfileHints = field(default_factory=ProfileHints)
    """Each sender's stored language and registration, read once (:mod:`bot.profiles`)."""
    role_holders: RoleHolders = field(default_factory=RoleHolders)
    """Who holds a staff or admin role, so ``/help`` reads grants only for them."""
    location_key: bytes | None = None
    """Checks the proof in buildings' printed links (:func:`civic.residents.location_code`)."""

    @cached_property
    def places(self) -> Places:
        """The active places, as ``config.toml`` lists them (synced to the database at start)."""
        return places_from_config(self.settings.config)


def services_of(application: Application) -> Services:  # type: ignore[type-arg]
    """The services the composition root installed on ``application``."""
    services = application.bot_data[SERVICES_KEY]
    if not isinstance(services, Services):
        raise RuntimeError("the composition root did not install the services")
    return services


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """``CallbackContext`` with ``services``, ``locale`` and ``t`` (the translator)."""

    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self._locale: Locale | None = None
        self._language_code: str | None = None
        self._preferred: str | None = None
        self.button: Decoded | None = None
        """The verified callback data of this update's button press, if any."""

    @classmethod
    def from_update(cls, update: object, application: Application) -> BotContext:  # type: ignore[type-arg]
        context = super().from_update(update, application)
        user = getattr(update, "effective_user", None)
        context._language_code = getattr(user, "language_code", None)
        return context

    @property
    def services(self) -> Services:
        return services_of(self.application)

    @property
    def locale(self) -> Locale:
        if self._locale is None:
            self._locale = resolve_locale(self._preferred, self._language_code)
        return self._locale

    def prefer_language(self, language: str | None) -> None:
        """Use the sender's stored choice (``/lang``, onboarding) from now on in this update.

        :func:`handlers.residents.load_profile` calls it before any capability
        runs, and the handler that stores a new choice calls it again.
        """
        self._preferred = language
        self._locale = None

    @property
    def t(self) -> Translator:
        return self.services.catalogs.for_locale(self.locale)
