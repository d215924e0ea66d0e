"""Updates as Telegram sends them, for the intake tests."""

from __future__ import annotations

from typing import Any


def update_json(
    update_id: int, *, user_id: int = 10_000_001, text: str = "/help"
) -> dict[str, Any]:
    """A private text message update, as Telegram posts it to a webhook."""
    user = {"id": user_id, "is_bot": False, "first_name": "Ann", "language_code": "en"}
    message: dict[str, Any] = {
        "message_id": update_id,
        "from": user,
        "chat": {"id": user_id, "type": "private", "first_name": "Ann"},
        "date": 1_777_000_000,
        "text": text,
    }
    if text.startswith("/"):
        length = len(text.split()[0])
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return {"update_id": update_id, "message": message}
