"""Validating keyboards as Telegram does, and finding the button a user presses.

Telegram refuses malformed keyboards with 400s the bot must never see in
production (``BUTTON_DATA_INVALID`` for callback data outside 1–64 bytes is the
classic), so the emulator checks the same rules.  Markup is stored exactly as sent.
"""

from __future__ import annotations

from typing import Any

from tgemu.errors import bad_request

JSON = dict[str, Any]

_INLINE_ACTIONS = (
    "callback_data",
    "url",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
    "web_app",
)


def validate_reply_markup(markup: Any, *, inline_only: bool = False) -> JSON | None:
    """Check ``reply_markup``; returns it (or None) or raises Telegram's 400."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _validate_inline(markup["inline_keyboard"])
        return markup
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request('field "keyboard" must be an Array of Array')
        for row in rows:
            for button in row:
                text = button.get("text") if isinstance(button, dict) else button
                if not isinstance(text, str) or not text:
                    raise bad_request("can't parse keyboard button: Text must be non-empty")
        return markup
    if markup.get("remove_keyboard") or markup.get("force_reply"):
        return markup
    raise bad_request("can't parse reply keyboard markup JSON object")


def _validate_inline(rows: Any) -> None:
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    for row in rows:
        for button in row:
            if not isinstance(button, dict):
                raise bad_request(
                    "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
                )
            text = button.get("text")
            if not isinstance(text, str) or not text:
                raise bad_request("can't parse inline keyboard button: Text must be non-empty")
            if not any(k in button for k in _INLINE_ACTIONS):
                raise bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the "
                    "inline keyboard"
                )
            if "callback_data" in button:
                data = button["callback_data"]
                if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
                    raise bad_request("BUTTON_DATA_INVALID")
            if "url" in button:
                url = button["url"]
                if not isinstance(url, str) or not url:
                    raise bad_request("BUTTON_URL_INVALID")


def inline_buttons(markup: JSON | None) -> list[JSON]:
    """All inline buttons of ``markup``, row by row."""
    if not markup or "inline_keyboard" not in markup:
        return []
    return [b for row in markup["inline_keyboard"] for b in row if isinstance(b, dict)]


def reply_button(markup: JSON | None, text: str) -> JSON | None:
    """The reply-keyboard button whose text is ``text`` (strings become ``{"text": s}``)."""
    if not markup or "keyboard" not in markup:
        return None
    for row in markup["keyboard"]:
        for button in row:
            b = {"text": button} if isinstance(button, str) else button
            if isinstance(b, dict) and b.get("text") == text:
                return b
    return None
