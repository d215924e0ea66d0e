"""Configuration: ``config.toml`` validated by pydantic, plus the environment."""

from bot.config.models import AppConfig
from bot.config.places import places_from_config
from bot.config.problems import ConfigError, ConfigProblem
from bot.config.settings import (
    ClockSource,
    RunMode,
    Secrets,
    Settings,
    load_config_file,
    load_settings,
)

__all__ = [
    "AppConfig",
    "ClockSource",
    "ConfigError",
    "ConfigProblem",
    "RunMode",
    "Secrets",
    "Settings",
    "load_config_file",
    "load_settings",
    "places_from_config",
]
