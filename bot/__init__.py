"""The bot application: entry point, configuration, i18n, composition root, run modes."""
