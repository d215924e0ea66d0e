"""The domain of xieshang: models, rules and use cases; no Telegram, no SQL, no clock reads."""
