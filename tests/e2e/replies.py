"""Reading the bot's replies in end-to-end tests."""

from __future__ import annotations


def command_named_in(reply: str) -> str:
    """The command an unknown-command reply names (the first /word that is not /help)."""
    return next(w.rstrip(".。") for w in reply.split() if w.startswith("/") and w != "/help")
