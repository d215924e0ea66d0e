"""The Bot API methods: validation, Telegram's error texts, and their effects.

Each handler takes the calling bot and its :class:`~tgemu.params.Params` and returns
the ``result`` of the JSON answer, or raises :class:`~tgemu.errors.ApiError`.  Checks
run in the order Telegram's observable behaviour suggests: the chat (400 chat not
found), whether the bot may write there (403), the content (400), then the flood
limits (429); a refused request changes nothing.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from tgemu.errors import ApiError, bad_request, conflict
from tgemu.files import StoredFile
from tgemu.html_entities import EntityParseError, has_lone_surrogate, parse_html, utf16_len
from tgemu.limits import RateLimiter
from tgemu.markup import validate_reply_markup
from tgemu.params import Params
from tgemu.state import JSON, BotAccount, Chat, Message, WebhookConfig, World
from tgemu.webhook import WebhookManager

Handler = Callable[[BotAccount, Params], Awaitable[Any]]

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_POLL_TIMEOUT = 50.0
NO_MESSAGE_ID = "message identifier is not specified"
WEBHOOK_ACTIVE = (
    "can't use getUpdates method while webhook is active; use deleteWebhook to delete "
    "the webhook first"
)
POLL_TERMINATED = (
    "terminated by other getUpdates request; make sure that only one bot instance is running"
)
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
SCOPE_TYPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")


def format_text(text: str, parse_mode: str | None, raw_entities: Any) -> tuple[str, list[JSON]]:
    """Apply ``parse_mode`` (HTML only) or explicit ``entities`` to ``text``."""
    if has_lone_surrogate(text):
        raise bad_request("strings must be encoded in UTF-8")
    if parse_mode:
        mode = parse_mode.lower()
        if mode == "html":
            try:
                return parse_html(text)
            except EntityParseError as exc:
                raise bad_request(f"can't parse entities: {exc}") from None
        if mode in ("markdown", "markdownv2"):
            raise bad_request(
                f"can't parse entities: parse_mode {parse_mode} is not supported by the "
                "emulator; use HTML or entities"
            )
        raise bad_request(f"unsupported parse_mode {parse_mode}")
    if raw_entities is None:
        return text, []
    if not isinstance(raw_entities, list):
        raise bad_request("can't parse entities JSON object")
    total = utf16_len(text)
    for e in raw_entities:
        if (
            not isinstance(e, dict)
            or not isinstance(e.get("type"), str)
            or not isinstance(e.get("offset"), int)
            or not isinstance(e.get("length"), int)
        ):
            raise bad_request("can't parse MessageEntity: type, offset and length are required")
        if e["offset"] < 0 or e["length"] < 0 or e["offset"] + e["length"] > total:
            raise bad_request("can't parse entities: entity beyond the end of the text")
    return text, [e for e in raw_entities if e["length"] > 0]


def scope_key(scope: Any) -> tuple[str, JSON]:
    """Canonical key and normalised value of a ``BotCommandScope``."""
    if scope is None:
        scope = {"type": "default"}
    if not isinstance(scope, dict) or scope.get("type") not in SCOPE_TYPES:
        raise bad_request("can't parse BotCommandScope: unsupported type")
    kind = scope["type"]
    if kind in ("chat", "chat_administrators", "chat_member") and "chat_id" not in scope:
        raise bad_request("can't parse BotCommandScope: chat_id is required")
    if kind == "chat_member" and "user_id" not in scope:
        raise bad_request("can't parse BotCommandScope: user_id is required")
    normal: JSON = {"type": kind}
    for k in ("chat_id", "user_id"):
        if k in scope:
            normal[k] = int(scope[k]) if str(scope[k]).lstrip("-").isdigit() else scope[k]
    return json.dumps(normal, sort_keys=True), normal


class BotApi:
    """Dispatch table of Bot API methods (lower-cased names, as Telegram matches them)."""

    #: Methods that consume flood-limit tokens (see docs/emulator-api.md).
    LIMITED = frozenset(
        {
            "sendmessage",
            "sendphoto",
            "senddocument",
            "sendvoice",
            "sendlocation",
            "sendcontact",
            "editmessagetext",
            "editmessagecaption",
            "editmessagereplymarkup",
        }
    )

    def __init__(self, world: World, limiter: RateLimiter, webhooks: WebhookManager) -> None:
        self.world = world
        self.limiter = limiter
        self.webhooks = webhooks
        self.closing = False
        handlers: dict[str, Handler] = {
            "getMe": self.get_me,
            "logOut": self.trivial,
            "close": self.trivial,
            "getUpdates": self.get_updates,
            "setWebhook": self.set_webhook,
            "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "sendMessage": self.send_message,
            "sendPhoto": self.send_photo,
            "sendDocument": self.send_document,
            "sendVoice": self.send_voice,
            "sendLocation": self.send_location,
            "sendContact": self.send_contact,
            "sendChatAction": self.send_chat_action,
            "editMessageText": self.edit_message_text,
            "editMessageCaption": self.edit_message_caption,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "deleteMessage": self.delete_message,
            "answerCallbackQuery": self.answer_callback_query,
            "getFile": self.get_file,
            "getChat": self.get_chat,
            "setMyCommands": self.set_my_commands,
            "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "setMyDescription": self.set_property("description"),
            "setMyShortDescription": self.set_property("short_description"),
            "setMyName": self.set_property("name"),
            "setChatMenuButton": self.set_property("menu_button"),
        }
        self.names = {name.lower(): name for name in handlers}
        self.handlers = {name.lower(): fn for name, fn in handlers.items()}

    # -- helpers ------------------------------------------------------------
    def _chat(self, bot: BotAccount, p: Params) -> Chat:
        ref = p.raw("chat_id")
        if ref is None or ref == "":
            raise bad_request("chat_id is empty")
        if isinstance(ref, bool) or not isinstance(ref, int | str):
            raise bad_request("chat not found")
        return self.world.chat_for_bot(bot, ref)

    def _limit(self, bot: BotAccount, chat: Chat) -> None:
        retry = self.limiter.acquire(bot.id, chat.id, chat.type)
        if retry is not None:
            raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})

    def _reply_to(self, chat: Chat, p: Params) -> Message | None:
        target = p.get_int("reply_to_message_id")
        allow_missing = p.get_bool("allow_sending_without_reply")
        params = p.get_json("reply_parameters")
        if isinstance(params, dict) and params.get("message_id") is not None:
            target = int(params["message_id"])
            allow_missing = bool(params.get("allow_sending_without_reply", allow_missing))
        if target is None:
            return None
        msg = self.world.find_message(chat, target)
        if msg is None and not allow_missing:
            raise bad_request("message to be replied not found")
        return msg

    def _caption(self, p: Params) -> tuple[str | None, list[JSON]]:
        caption = p.get_str("caption")
        if caption is None:
            return None, []
        text, entities = format_text(
            caption, p.get_str("parse_mode"), p.get_json("caption_entities")
        )
        if utf16_len(text) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        return (text, entities) if text else (None, [])

    def _input_file(self, p: Params, name: str, kind: str) -> StoredFile:
        upload = p.uploads.get(name)
        value = None if upload is not None else p.get_str(name)
        if upload is None and value and value.startswith("attach://"):
            attach = value[len("attach://") :]
            upload = p.uploads.get(attach)
            if upload is None:
                raise bad_request(f'can\'t find attached file "{attach}"')
        if upload is not None:
            if not upload.data:
                raise bad_request("file must be non-empty")
            return self.world.files.add(
                kind,
                upload.data,
                file_name=upload.filename if kind != "photo" else None,
                mime_type=upload.content_type if kind != "photo" else None,
                duration=p.get_int("duration") if kind == "voice" else None,
            )
        if not value:
            raise bad_request(f"there is no {name} in the request")
        if value.startswith(("http://", "https://")):
            raise bad_request("failed to get HTTP URL content")
        stored = self.world.files.get(value)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if kind == "photo" and stored.kind != "photo":
            raise bad_request(f"can't use file of type {stored.kind.capitalize()} as Photo")
        return stored

    def _bot_message(self, bot: BotAccount, chat: Chat, reply_to: Message | None) -> Message:
        """A new message from the bot; call only after the limits let the send through."""
        return self.world.new_message(chat, bot.user_api(), from_bot=True, reply_to=reply_to)

    def _publish(self, msg: Message) -> JSON:
        self.world.publish_bot_message(msg)
        return msg.to_api()

    # -- identity and lifecycle --------------------------------------------
    async def get_me(self, bot: BotAccount, p: Params) -> JSON:
        return bot.get_me()

    async def trivial(self, bot: BotAccount, p: Params) -> bool:
        return True

    def set_property(self, name: str) -> Handler:
        async def handler(bot: BotAccount, p: Params) -> bool:
            bot.properties[name] = dict(p.values)
            return True

        return handler

    # -- updates ------------------------------------------------------------
    async def get_updates(self, bot: BotAccount, p: Params) -> list[JSON]:
        if bot.webhook is not None:
            raise conflict(WEBHOOK_ACTIVE)
        offset = p.get_int("offset")
        limit = p.get_int("limit")
        limit = 100 if limit is None else max(1, min(100, limit))
        timeout = p.get_float("timeout") or 0.0
        timeout = max(0.0, min(MAX_POLL_TIMEOUT, timeout))
        allowed = p.get_json("allowed_updates")
        queue = bot.queue
        queue.poll_generation += 1
        generation = queue.poll_generation
        queue.notify()  # an older long poll wakes up and learns it was superseded
        if isinstance(allowed, list):
            queue.set_allowed_updates([str(a) for a in allowed])
        queue.confirm(offset)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            changed = queue.changed()
            records = queue.take(limit)
            if records:
                return [r.payload for r in records]
            remaining = deadline - loop.time()
            if remaining <= 0 or self.closing:
                return []
            try:
                async with asyncio.timeout(remaining):
                    await changed.wait()
            except TimeoutError:
                return []
            if queue.poll_generation != generation:
                raise conflict(POLL_TERMINATED)
            if bot.webhook is not None:
                raise conflict(WEBHOOK_ACTIVE)

    async def set_webhook(self, bot: BotAccount, p: Params) -> bool:
        url = p.get_str("url") or ""
        if p.get_bool("drop_pending_updates"):
            bot.queue.drop_pending()
        if not url:
            await self.webhooks.disable(bot)
            return True
        if not url.startswith(("http://", "https://")):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = p.get_str("secret_token")
        if secret is not None and not _SECRET_RE.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
        max_connections = p.get_int("max_connections") or 40
        if not 1 <= max_connections <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100")
        allowed = p.get_json("allowed_updates")
        if isinstance(allowed, list):
            bot.queue.set_allowed_updates([str(a) for a in allowed])
        config = WebhookConfig(
            url=url,
            secret_token=secret or None,
            max_connections=max_connections,
            allowed_updates=[str(a) for a in allowed] if isinstance(allowed, list) else None,
        )
        await self.webhooks.enable(bot, config)
        return True

    async def delete_webhook(self, bot: BotAccount, p: Params) -> bool:
        if p.get_bool("drop_pending_updates"):
            bot.queue.drop_pending()
        await self.webhooks.disable(bot)
        return True

    async def get_webhook_info(self, bot: BotAccount, p: Params) -> JSON:
        info: JSON = {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": bot.queue.pending_count,
        }
        hook = bot.webhook
        if hook is not None:
            info["url"] = hook.url
            info["max_connections"] = hook.max_connections
            if hook.allowed_updates is not None:
                info["allowed_updates"] = hook.allowed_updates
            if hook.last_error_date is not None:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
        return info

    # -- sending ------------------------------------------------------------
    async def send_message(self, bot: BotAccount, p: Params) -> JSON:
        chat = self._chat(bot, p)
        self.world.check_can_send(chat)
        raw = p.get_str("text")
        if raw is None or not raw.strip():
            raise bad_request("message text is empty")
        text, entities = format_text(raw, p.get_str("parse_mode"), p.get_json("entities"))
        if not text.strip():
            raise bad_request("message text is empty")
        if utf16_len(text) > MAX_TEXT:
            raise bad_request("message is too long")
        markup = validate_reply_markup(p.get_json("reply_markup"))
        reply_to = self._reply_to(chat, p)
        self._limit(bot, chat)
        msg = self._bot_message(bot, chat, reply_to)
        msg.text, msg.entities, msg.reply_markup = text, entities, markup
        return self._publish(msg)

    async def _send_file(self, bot: BotAccount, p: Params, kind: str) -> JSON:
        chat = self._chat(bot, p)
        self.world.check_can_send(chat)
        caption, caption_entities = self._caption(p)
        markup = validate_reply_markup(p.get_json("reply_markup"))
        reply_to = self._reply_to(chat, p)
        stored = self._input_file(p, kind, kind)
        self._limit(bot, chat)
        msg = self._bot_message(bot, chat, reply_to)
        if kind == "photo":
            msg.photo = stored.photo_sizes()
        elif kind == "voice":
            msg.voice = stored.voice()
        else:
            msg.document = stored.document()
        msg.caption, msg.caption_entities, msg.reply_markup = caption, caption_entities, markup
        return self._publish(msg)

    async def send_photo(self, bot: BotAccount, p: Params) -> JSON:
        return await self._send_file(bot, p, "photo")

    async def send_document(self, bot: BotAccount, p: Params) -> JSON:
        return await self._send_file(bot, p, "document")

    async def send_voice(self, bot: BotAccount, p: Params) -> JSON:
        return await self._send_file(bot, p, "voice")

    async def send_location(self, bot: BotAccount, p: Params) -> JSON:
        chat = self._chat(bot, p)
        self.world.check_can_send(chat)
        lat = p.get_float("latitude", required=True)
        lon = p.get_float("longitude", required=True)
        assert lat is not None
        assert lon is not None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise bad_request("wrong latitude or longitude")
        markup = validate_reply_markup(p.get_json("reply_markup"))
        reply_to = self._reply_to(chat, p)
        self._limit(bot, chat)
        msg = self._bot_message(bot, chat, reply_to)
        msg.location = {"latitude": lat, "longitude": lon}
        msg.reply_markup = markup
        return self._publish(msg)

    async def send_contact(self, bot: BotAccount, p: Params) -> JSON:
        chat = self._chat(bot, p)
        self.world.check_can_send(chat)
        phone = p.get_str("phone_number", required=True, missing="phone number is empty")
        first = p.get_str("first_name", required=True, missing="first name is empty")
        markup = validate_reply_markup(p.get_json("reply_markup"))
        reply_to = self._reply_to(chat, p)
        self._limit(bot, chat)
        msg = self._bot_message(bot, chat, reply_to)
        contact: JSON = {"phone_number": phone, "first_name": first}
        if p.get_str("last_name"):
            contact["last_name"] = p.get_str("last_name")
        msg.contact, msg.reply_markup = contact, markup
        return self._publish(msg)

    async def send_chat_action(self, bot: BotAccount, p: Params) -> bool:
        chat = self._chat(bot, p)
        self.world.check_can_send(chat)
        if p.get_str("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    # -- editing ------------------------------------------------------------
    def _editable(self, bot: BotAccount, p: Params) -> Message:
        if p.has("inline_message_id"):
            raise bad_request("inline messages are not supported by the emulator")
        chat = self._chat(bot, p)
        message_id = p.get_int("message_id", required=True, missing=NO_MESSAGE_ID)
        assert message_id is not None
        msg = self.world.find_message(chat, message_id)
        if msg is None:
            raise bad_request("message to edit not found")
        if not msg.from_bot:
            raise bad_request("message can't be edited")
        self.world.check_can_send(chat)
        return msg

    async def edit_message_text(self, bot: BotAccount, p: Params) -> JSON:
        msg = self._editable(bot, p)
        if msg.text is None:
            raise bad_request("there is no text in the message to edit")
        raw = p.get_str("text")
        if raw is None or not raw.strip():
            raise bad_request("message text is empty")
        text, entities = format_text(raw, p.get_str("parse_mode"), p.get_json("entities"))
        if not text.strip():
            raise bad_request("message text is empty")
        if utf16_len(text) > MAX_TEXT:
            raise bad_request("message is too long")
        markup = validate_reply_markup(p.get_json("reply_markup"), inline_only=True)
        current_markup = msg.reply_markup if msg.inline_keyboard is not None else None
        if text == msg.text and entities == msg.entities and markup == current_markup:
            raise bad_request(NOT_MODIFIED)
        self._limit(bot, msg.chat)
        msg.text, msg.entities, msg.reply_markup = text, entities, markup
        self.world.publish_edit(msg)
        return msg.to_api()

    async def edit_message_caption(self, bot: BotAccount, p: Params) -> JSON:
        msg = self._editable(bot, p)
        if not msg.has_media:
            raise bad_request("there is no caption in the message to edit")
        caption, entities = self._caption(p)
        markup = validate_reply_markup(p.get_json("reply_markup"), inline_only=True)
        current_markup = msg.reply_markup if msg.inline_keyboard is not None else None
        if caption == msg.caption and entities == msg.caption_entities and markup == current_markup:
            raise bad_request(NOT_MODIFIED)
        self._limit(bot, msg.chat)
        msg.caption, msg.caption_entities, msg.reply_markup = caption, entities, markup
        self.world.publish_edit(msg)
        return msg.to_api()

    async def edit_message_reply_markup(self, bot: BotAccount, p: Params) -> JSON:
        msg = self._editable(bot, p)
        markup = validate_reply_markup(p.get_json("reply_markup"), inline_only=True)
        current_markup = msg.reply_markup if msg.inline_keyboard is not None else None
        if markup == current_markup:
            raise bad_request(NOT_MODIFIED)
        self._limit(bot, msg.chat)
        msg.reply_markup = markup
        self.world.publish_edit(msg)
        return msg.to_api()

    async def delete_message(self, bot: BotAccount, p: Params) -> bool:
        chat = self._chat(bot, p)
        message_id = p.get_int("message_id", required=True, missing=NO_MESSAGE_ID)
        assert message_id is not None
        msg = self.world.find_message(chat, message_id)
        if msg is None:
            raise bad_request("message to delete not found")
        self.world.publish_delete(msg)
        return True

    # -- callbacks, files, chats, commands ---------------------------------
    async def answer_callback_query(self, bot: BotAccount, p: Params) -> bool:
        query_id = p.get_str("callback_query_id") or ""
        record = bot.callbacks.get(query_id)
        if record is None or record.answered:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = p.get_str("text")
        if text is not None and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        record.answered = True
        record.text = text
        record.show_alert = p.get_bool("show_alert")
        record.url = p.get_str("url")
        record.cache_time = p.get_int("cache_time")
        record.answered_at = self.world.clock.now()
        record.event.set()
        return True

    async def get_file(self, bot: BotAccount, p: Params) -> JSON:
        file_id = p.get_str("file_id") or ""
        stored = self.world.files.get(file_id)
        if stored is None:
            raise bad_request("invalid file_id")
        return stored.file_object()

    async def get_chat(self, bot: BotAccount, p: Params) -> JSON:
        chat = self._chat(bot, p)
        return {**chat.info, "accent_color_id": 0, "max_reaction_count": 11}

    async def set_my_commands(self, bot: BotAccount, p: Params) -> bool:
        commands = p.get_json("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("too many commands specified")
        clean: list[JSON] = []
        for c in commands:
            if not isinstance(c, dict):
                raise bad_request("can't parse BotCommand JSON object")
            name, desc = c.get("command"), c.get("description")
            if not isinstance(name, str) or not _COMMAND_RE.fullmatch(name.lstrip("/")):
                raise bad_request("BOT_COMMAND_INVALID")
            if not isinstance(desc, str) or not 1 <= len(desc) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            clean.append({"command": name.lstrip("/"), "description": desc})
        key, scope = scope_key(p.get_json("scope"))
        lang = p.get_str("language_code") or ""
        if clean:
            bot.commands[(key, lang)] = (scope, clean)
        else:
            bot.commands.pop((key, lang), None)
        return True

    async def get_my_commands(self, bot: BotAccount, p: Params) -> list[JSON]:
        key, _ = scope_key(p.get_json("scope"))
        entry = bot.commands.get((key, p.get_str("language_code") or ""))
        return list(entry[1]) if entry else []

    async def delete_my_commands(self, bot: BotAccount, p: Params) -> bool:
        key, _ = scope_key(p.get_json("scope"))
        bot.commands.pop((key, p.get_str("language_code") or ""), None)
        return True
