"""Settings: ``config.toml`` plus the environment, checked together at start-up.

The environment overrides the file (``XIESHANG_DATABASE_URL``,
``TELEGRAM_API_URL``, ``XIESHANG_WEBHOOK_URL``, ``XIESHANG_DATA_DIR``,
``XIESHANG_CLOCK``) and is the only source of secrets (``TELEGRAM_BOT_TOKEN``,
``XIESHANG_WEBHOOK_SECRET``, ``XIESHANG_SIGNING_KEY``): a secret in a file ends up
in backups and version control (spec 01, Configuration).
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr, ValidationError

from bot.config.models import AppConfig
from bot.config.problems import ConfigError, ConfigProblem, problems_from_validation
from bot.config.references import check_references

DEFAULT_CONFIG_FILE = "config.toml"

SECRET_KEY_NAMES = {
    "token": "TELEGRAM_BOT_TOKEN",
    "bot_token": "TELEGRAM_BOT_TOKEN",
    "webhook_secret": "XIESHANG_WEBHOOK_SECRET",
    "secret_token": "XIESHANG_WEBHOOK_SECRET",
    "signing_key": "XIESHANG_SIGNING_KEY",
}
"""Keys that look like secrets, and the environment variable that must hold them instead."""

TOKEN_PATTERN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,}$")
WEBHOOK_SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
"""Telegram accepts 1-256 characters of ``A-Z a-z 0-9 _ -`` as a webhook secret token."""
OFFICIAL_API_URL = "https://api.telegram.org"
DATABASE_SCHEMES = {
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "sqlite": "sqlite+aiosqlite",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}


class RunMode(StrEnum):
    """How the bot meets Telegram; precedence webhook > polling > local (spec 01, Run modes)."""

    WEBHOOK = "webhook"
    POLLING = "polling"
    LOCAL = "local"


class ClockSource(StrEnum):
    """Where the bot's ``now`` comes from (:mod:`bot.clock`)."""

    SYSTEM = "system"
    EMULATOR = "emulator"
    """The emulator's clock: local mode, or tests that ask for it, on loopback only."""


@dataclass(frozen=True)
class Secrets:
    """Secrets from the environment, wrapped so that ``repr`` and logs never show them."""

    bot_token: SecretStr | None = None
    webhook_secret: SecretStr | None = None
    signing_key: SecretStr | None = None


@dataclass(frozen=True)
class Settings:
    """Everything the composition root needs to know, checked."""

    config: AppConfig
    config_path: Path
    data_dir: Path
    database_url: str
    api_url: str
    webhook_url: str | None
    mode: RunMode
    secrets: Secrets
    clock: ClockSource = ClockSource.SYSTEM


def load_settings(
    path: Path | str | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Read the configuration file and the environment; raise :class:`ConfigError` if wrong."""
    env = os.environ if environ is None else environ
    config_path = Path(path or env.get("XIESHANG_CONFIG") or DEFAULT_CONFIG_FILE).resolve()
    config = load_config_file(config_path)
    problems: list[ConfigProblem] = []

    data_dir = Path(env.get("XIESHANG_DATA_DIR") or config.storage.data_dir)
    if not data_dir.is_absolute():
        data_dir = config_path.parent / data_dir
    database_url = env.get("XIESHANG_DATABASE_URL") or config.storage.database_url
    if database_url is None:
        database_url = f"sqlite+aiosqlite:///{data_dir / 'xieshang.sqlite3'}"
    database_key = (
        "XIESHANG_DATABASE_URL" if env.get("XIESHANG_DATABASE_URL") else "storage.database_url"
    )
    database_url = _normalise_database_url(database_url, database_key, problems)

    secrets = Secrets(
        bot_token=_secret(env, "TELEGRAM_BOT_TOKEN"),
        webhook_secret=_secret(env, "XIESHANG_WEBHOOK_SECRET"),
        signing_key=_secret(env, "XIESHANG_SIGNING_KEY"),
    )
    webhook_url = env.get("XIESHANG_WEBHOOK_URL") or None
    api_url = (env.get("TELEGRAM_API_URL") or config.telegram.api_url).rstrip("/")
    mode = _run_mode(secrets, webhook_url, api_url, problems)
    return_settings = Settings(
        config=config,
        config_path=config_path,
        data_dir=data_dir,
        database_url=database_url,
        api_url=api_url,
        webhook_url=webhook_url,
        mode=mode,
        secrets=secrets,
        clock=_clock_source(env.get("XIESHANG_CLOCK", ""), mode, api_url, problems),
    )
    if problems:
        raise ConfigError("the environment", problems)
    return return_settings


def load_config_file(path: Path) -> AppConfig:
    """Parse and check one configuration file; raise :class:`ConfigError` listing every problem."""
    source = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            source,
            [
                ConfigProblem(
                    source,
                    "the file does not exist",
                    "copy the shipped config.toml there, or point XIESHANG_CONFIG at it",
                )
            ],
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(
            source, [ConfigProblem(source, f"not valid TOML: {error}", "correct the syntax there")]
        ) from None
    problems = _secrets_in_file(raw)
    if problems:
        raise ConfigError(source, problems)
    try:
        config = AppConfig.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(source, problems_from_validation(error, raw, AppConfig)) from None
    problems = check_references(config, raw)
    if problems:
        raise ConfigError(source, problems)
    return config


def _secrets_in_file(raw: Mapping[str, Any], prefix: str = "") -> list[ConfigProblem]:
    problems = []
    for key, value in raw.items():
        path = f"{prefix}{key}"
        if key in SECRET_KEY_NAMES:
            variable = SECRET_KEY_NAMES[key]
            problems.append(
                ConfigProblem(
                    path,
                    "secrets are read only from the environment",
                    f"remove {path} from the file and set {variable} instead",
                )
            )
        elif isinstance(value, Mapping):
            problems += _secrets_in_file(value, f"{path}.")
    return problems


def _secret(env: Mapping[str, str], name: str) -> SecretStr | None:
    value = env.get(name, "").strip()
    return SecretStr(value) if value else None


def _run_mode(
    secrets: Secrets, webhook_url: str | None, api_url: str, problems: list[ConfigProblem]
) -> RunMode:
    token = secrets.bot_token.get_secret_value() if secrets.bot_token else None
    if token is not None and not TOKEN_PATTERN.fullmatch(token):
        problems.append(
            ConfigProblem(
                "TELEGRAM_BOT_TOKEN",
                "does not look like a bot token",
                "copy the token @BotFather gave you, e.g. 123456:ABC-DEF…",
            )
        )
    secret = secrets.webhook_secret.get_secret_value() if secrets.webhook_secret else None
    if secret is not None and not WEBHOOK_SECRET_PATTERN.fullmatch(secret):
        problems.append(
            ConfigProblem(
                "XIESHANG_WEBHOOK_SECRET",
                "Telegram refuses this secret",
                "use 1-256 characters of A-Z, a-z, 0-9, '_' and '-'",
            )
        )
    if token is not None and secrets.signing_key is None:
        problems.append(
            ConfigProblem(
                "XIESHANG_SIGNING_KEY",
                "required when TELEGRAM_BOT_TOKEN is set",
                "set it to a long random string, and keep it: buttons already "
                "sent stop working when it changes",
            )
        )
    if webhook_url:
        if secret is None:
            problems.append(
                ConfigProblem(
                    "XIESHANG_WEBHOOK_SECRET",
                    "required when XIESHANG_WEBHOOK_URL is set",
                    "set it to a long random string, e.g. from "
                    "`python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`",
                )
            )
        if token is None:
            problems.append(
                ConfigProblem(
                    "TELEGRAM_BOT_TOKEN",
                    "required when XIESHANG_WEBHOOK_URL is set",
                    "set the token @BotFather gave you, or unset XIESHANG_WEBHOOK_URL",
                )
            )
        problem = _webhook_url_problem(webhook_url, api_url)
        if problem is not None:
            problems.append(problem)
        return RunMode.WEBHOOK
    if token is not None:
        return RunMode.POLLING
    return RunMode.LOCAL


def _webhook_url_problem(url: str, api_url: str) -> ConfigProblem | None:
    """What is wrong with a webhook URL, if anything.

    Telegram posts to ``https://`` only; a self-hosted Bot API server (``--local``)
    and the emulator also post to ``http://``, which a server on the same host and
    the tests rely on.
    """
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname and api_url != OFFICIAL_API_URL:
        return None
    if parts.scheme == "http" and parts.hostname:
        return ConfigProblem(
            "XIESHANG_WEBHOOK_URL",
            "Telegram delivers webhooks over HTTPS only",
            "use an https:// address that reaches this bot (http:// works only with "
            "another Bot API server named by TELEGRAM_API_URL)",
        )
    return ConfigProblem(
        "XIESHANG_WEBHOOK_URL",
        "not an http(s) address",
        "use an address such as https://bot.example.org/telegram",
    )


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` names a server on this machine (127.0.0.0/8, ::1 or localhost)."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return False
    if host is None:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _clock_source(
    value: str, mode: RunMode, api_url: str, problems: list[ConfigProblem]
) -> ClockSource:
    """The emulator's clock in local mode; in other modes only when asked, and on loopback.

    A fake clock in production would send reminders at the wrong moments, so
    ``XIESHANG_CLOCK=emulator`` is refused unless the Bot API server is on this
    machine (the emulator, in tests).
    """
    choice = value.strip().lower()
    if choice not in ("", *ClockSource):
        problems.append(
            ConfigProblem(
                "XIESHANG_CLOCK",
                f"unknown clock {value.strip()!r}",
                "leave it unset (the system clock; the emulator's in local mode), "
                "or set it to 'emulator' in tests against the emulator",
            )
        )
        return ClockSource.SYSTEM
    if mode is RunMode.LOCAL:
        return ClockSource.SYSTEM if choice == ClockSource.SYSTEM else ClockSource.EMULATOR
    if choice != ClockSource.EMULATOR:
        return ClockSource.SYSTEM
    if not is_loopback_url(api_url):
        problems.append(
            ConfigProblem(
                "XIESHANG_CLOCK",
                "the bot follows the emulator's clock only when the Bot API server is on "
                f"this machine, and TELEGRAM_API_URL is {api_url}",
                "unset XIESHANG_CLOCK (production always uses the system clock), or point "
                "TELEGRAM_API_URL at the emulator on 127.0.0.1",
            )
        )
        return ClockSource.SYSTEM
    return ClockSource.EMULATOR


def _normalise_database_url(url: str, key: str, problems: list[ConfigProblem]) -> str:
    scheme, separator, rest = url.partition("://")
    driver = DATABASE_SCHEMES.get(scheme)
    if not separator or driver is None:
        problems.append(
            ConfigProblem(
                key,
                f"unsupported database URL scheme {scheme!r}",
                "use sqlite+aiosqlite:///path/to/file.sqlite3 or "
                "postgresql+asyncpg://user:password@host/dbname",
            )
        )
        return url
    return f"{driver}://{rest}"
