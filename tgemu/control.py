"""The control API (``/control/...``): how tests, benchmarks and local mode drive the world.

It plays the humans (users who write, press buttons, block the bot), reads what
they received (long-polling a per-chat event log), and turns the emulator's knobs
(faults, limits, clock, redelivery).  JSON in, JSON out, always wrapped as
``{"ok": true, "result": ...}`` or ``{"ok": false, "error": "..."}`` with a 4xx
status, so a failing test says what was wrong.  Every route is documented with an
example in ``docs/emulator-api.md``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from tgemu.clock import Clock
from tgemu.errors import ApiError, ControlError
from tgemu.faults import FaultConfig, FaultInjector
from tgemu.html_entities import has_lone_surrogate, utf16_len
from tgemu.limits import RateLimiter
from tgemu.markup import inline_buttons, reply_button
from tgemu.params import Params, read_params
from tgemu.state import JSON, BotAccount, Chat, Message, User, World
from tgemu.stats import Stats

Route = Callable[[web.Request], Awaitable[web.StreamResponse]]

MAX_WAIT = 60.0
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,64})?(?=\s|$)")
DEFAULT_LOCATION = (39.9042, 116.4074)


def ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ControlError(400, f"{name} must be an integer, got {value!r}") from None


def _float(value: Any, name: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ControlError(400, f"{name} must be a number, got {value!r}") from None


def _b64(value: Any, name: str) -> bytes:
    if not isinstance(value, str):
        raise ControlError(400, f"{name} must be base64 text (or a multipart file part)")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ControlError(400, f"{name} is not valid base64") from None


class ControlApi:
    """Route handlers of the control API over one :class:`World`."""

    def __init__(
        self,
        world: World,
        clock: Clock,
        stats: Stats,
        limiter: RateLimiter,
        faults: FaultInjector,
        on_reset: Callable[[], None],
    ) -> None:
        self.world = world
        self.clock = clock
        self.stats = stats
        self.limiter = limiter
        self.faults = faults
        self.on_reset = on_reset
        self.closing = False

    def routes(self) -> list[web.RouteDef]:
        w = self._wrap
        return [
            web.get("/control/health", w(self.health)),
            web.get("/control/bots", w(self.list_bots)),
            web.post("/control/bots", w(self.create_bot)),
            web.get("/control/bots/{bot_id}/commands", w(self.bot_commands)),
            web.get("/control/users", w(self.list_users)),
            web.post("/control/users", w(self.create_user)),
            web.get("/control/users/{user_id}", w(self.get_user)),
            web.post("/control/users/{user_id}/send", w(self.user_send)),
            web.post("/control/users/{user_id}/press", w(self.user_press)),
            web.post("/control/users/{user_id}/press-reply", w(self.user_press_reply)),
            web.post("/control/users/{user_id}/block", w(self.user_block)),
            web.post("/control/users/{user_id}/unblock", w(self.user_unblock)),
            web.get("/control/users/{user_id}/messages", w(self.user_messages)),
            web.get("/control/users/{user_id}/chat", w(self.user_chat)),
            web.post("/control/groups", w(self.create_group)),
            web.get("/control/chats/{chat_id}", w(self.chat_state)),
            web.get("/control/chats/{chat_id}/messages", w(self.chat_messages)),
            web.get("/control/callbacks/{callback_id}", w(self.callback)),
            web.get("/control/updates", w(self.list_updates)),
            web.post("/control/updates/{update_id}/redeliver", w(self.redeliver)),
            web.get("/control/files/{file_id}", w(self.download)),
            web.get("/control/faults", w(self.get_faults)),
            web.post("/control/faults", w(self.set_faults)),
            web.delete("/control/faults", w(self.clear_faults)),
            web.get("/control/limits", w(self.get_limits)),
            web.post("/control/limits", w(self.set_limits)),
            web.get("/control/clock", w(self.get_clock)),
            web.post("/control/clock", w(self.set_clock)),
            web.get("/control/stats", w(self.get_stats)),
            web.post("/control/stats/reset", w(self.reset_stats)),
            web.post("/control/reset", w(self.reset)),
        ]

    @staticmethod
    def _wrap(handler: Callable[[web.Request, Params], Awaitable[Any]]) -> Route:
        async def route(request: web.Request) -> web.StreamResponse:
            try:
                params = await read_params(request)
                result = await handler(request, params)
            except ControlError as exc:
                return web.json_response({"ok": False, "error": exc.message}, status=exc.status)
            except ApiError as exc:
                return web.json_response({"ok": False, "error": exc.description}, status=exc.status)
            if isinstance(result, web.StreamResponse):
                return result
            return ok(result)

        return route

    # -- helpers ------------------------------------------------------------
    def _bot(self, p: Params) -> BotAccount:
        raw = p.raw("bot_id")
        return self.world.bot_for_control(None if raw in (None, "") else _int(raw, "bot_id"))

    def _user(self, request: web.Request) -> User:
        return self.world.user(_int(request.match_info["user_id"], "user id"))

    def _chat_of(self, bot: BotAccount, chat_id: int) -> Chat:
        chat = self.world.chat(bot, chat_id)
        if chat is None:
            raise ControlError(404, f"no user or group with id {chat_id}")
        return chat

    def _user_chat(self, bot: BotAccount, user: User, p: Params) -> Chat:
        """The chat a user acts in: the private chat, or the group given as chat_id."""
        raw = p.raw("chat_id")
        if raw in (None, "") or _int(raw, "chat_id") == user.id:
            chat = self._chat_of(bot, user.id)
            if chat.blocked:
                raise ControlError(
                    409,
                    f"user {user.id} has blocked the bot; "
                    f"POST /control/users/{user.id}/unblock first",
                )
            return chat
        group_id = _int(raw, "chat_id")
        group = self.world.groups.get(group_id)
        if group is None:
            raise ControlError(404, f"no group with id {group_id}")
        if user.id not in group.member_ids:
            raise ControlError(403, f"user {user.id} is not a member of group {group_id}")
        return self._chat_of(bot, group_id)

    def _send(
        self, bot: BotAccount, user: User, chat: Chat, fill: Callable[[Message], None], p: Params
    ) -> JSON:
        reply_to: Message | None = None
        if p.has("reply_to_message_id"):
            reply_to = self.world.find_message(
                chat, _int(p.raw("reply_to_message_id"), "reply_to_message_id")
            )
            if reply_to is None:
                raise ControlError(404, "reply_to_message_id: no such message in this chat")
        msg = self.world.new_message(chat, user.to_api(), from_bot=False, reply_to=reply_to)
        fill(msg)
        chat.opened = True
        update_id = self.world.store_user_message(bot, msg)
        return {"message": msg.to_api(), "update_id": update_id}

    @staticmethod
    def _text_filler(text: str) -> Callable[[Message], None]:
        if not text:
            raise ControlError(400, "text must not be empty")
        if has_lone_surrogate(text):
            raise ControlError(400, "text contains a lone UTF-16 surrogate")
        if utf16_len(text) > 4096:
            raise ControlError(400, "text longer than 4096 characters")

        def fill(msg: Message) -> None:
            msg.text = text
            m = _COMMAND_RE.match(text)
            if m:
                msg.entities = [
                    {"type": "bot_command", "offset": 0, "length": utf16_len(m.group(0))}
                ]

        return fill

    @staticmethod
    def _location_filler(lat: float, lon: float) -> Callable[[Message], None]:
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ControlError(400, "latitude must be within ±90 and longitude within ±180")

        def fill(msg: Message) -> None:
            msg.location = {"latitude": lat, "longitude": lon}

        return fill

    @staticmethod
    def _contact_filler(contact: JSON) -> Callable[[Message], None]:
        if not contact.get("phone_number") or not contact.get("first_name"):
            raise ControlError(400, "contact needs phone_number and first_name")

        def fill(msg: Message) -> None:
            msg.contact = contact

        return fill

    def _file_bytes(self, p: Params, name: str) -> tuple[bytes, str | None, str | None]:
        upload = p.uploads.get(name)
        if upload is not None:
            return upload.data, upload.filename, upload.content_type
        return _b64(p.raw(name), name), None, None

    async def _wait(self, event: asyncio.Event, seconds: float) -> bool:
        if seconds <= 0 or self.closing:
            return False
        try:
            async with asyncio.timeout(min(seconds, MAX_WAIT)):
                await event.wait()
        except TimeoutError:
            return False
        return not self.closing

    # -- bots ---------------------------------------------------------------
    async def health(self, request: web.Request, p: Params) -> JSON:
        return {"bots": len(self.world.bots), "users": len(self.world.users)}

    async def list_bots(self, request: web.Request, p: Params) -> list[JSON]:
        return [bot.to_json() for bot in self.world.bots.values()]

    async def create_bot(self, request: web.Request, p: Params) -> JSON:
        token = p.get_str("token")
        if not token:
            raise ControlError(400, "token is required")
        try:
            bot = self.world.register_bot(
                token, first_name=p.get_str("first_name"), username=p.get_str("username")
            )
        except ValueError as exc:
            raise ControlError(400, str(exc)) from None
        return bot.to_json()

    async def bot_commands(self, request: web.Request, p: Params) -> list[JSON]:
        bot = self.world.bot_for_control(_int(request.match_info["bot_id"], "bot id"))
        scope_type = p.get_str("scope_type")
        lang = p.get_str("language_code")
        out = []
        for (_, language), (scope, commands) in bot.commands.items():
            if scope_type is not None and scope["type"] != scope_type:
                continue
            if lang is not None and language != lang:
                continue
            out.append({"scope": scope, "language_code": language, "commands": commands})
        return out

    # -- users --------------------------------------------------------------
    async def list_users(self, request: web.Request, p: Params) -> list[JSON]:
        return [u.to_api() for u in self.world.users.values()]

    async def create_user(self, request: web.Request, p: Params) -> JSON:
        raw_id = p.raw("id")
        user = self.world.create_user(
            user_id=None if raw_id in (None, "") else _int(raw_id, "id"),
            first_name=p.get_str("first_name") or "Test",
            last_name=p.get_str("last_name"),
            username=p.get_str("username"),
            language_code=p.get_str("language_code"),
            phone_number=p.get_str("phone_number"),
        )
        return user.to_api()

    async def get_user(self, request: web.Request, p: Params) -> JSON:
        user = self._user(request)
        chat = self.world.chat(self._bot(p), user.id)
        assert chat is not None
        return {**user.to_api(), "has_chat": chat.opened, "blocked": chat.blocked}

    async def user_send(self, request: web.Request, p: Params) -> JSON:
        bot, user = self._bot(p), self._user(request)
        chat = self._user_chat(bot, user, p)
        caption = p.get_str("caption")
        if caption is not None and has_lone_surrogate(caption):
            raise ControlError(400, "caption contains a lone UTF-16 surrogate")
        if caption is not None and utf16_len(caption) > 1024:
            raise ControlError(400, "caption longer than 1024 characters")
        files = self.world.files
        if p.has("text"):
            fill = self._text_filler(p.get_str("text") or "")
        elif p.has("photo") or "photo" in p.uploads:
            data, _, _ = self._file_bytes(p, "photo")
            stored = files.add("photo", data)

            def fill(msg: Message) -> None:
                msg.photo, msg.caption = stored.photo_sizes(), caption

        elif p.has("document") or "document" in p.uploads:
            data, name, ctype = self._file_bytes(p, "document")
            stored = files.add(
                "document",
                data,
                file_name=p.get_str("file_name") or name or "document.bin",
                mime_type=p.get_str("mime_type") or ctype or "application/octet-stream",
            )

            def fill(msg: Message) -> None:
                msg.document, msg.caption = stored.document(), caption

        elif p.has("voice") or "voice" in p.uploads:
            data, _, ctype = self._file_bytes(p, "voice")
            stored = files.add(
                "voice",
                data,
                mime_type=p.get_str("mime_type") or "audio/ogg",
                duration=_int(p.raw("duration") or 1, "duration"),
            )

            def fill(msg: Message) -> None:
                msg.voice, msg.caption = stored.voice(), caption

        elif p.has("location") or p.has("latitude"):
            loc = p.get_json("location") if p.has("location") else p.values
            if not isinstance(loc, dict):
                raise ControlError(400, "location must be {latitude, longitude}")
            fill = self._location_filler(
                _float(loc.get("latitude"), "latitude"), _float(loc.get("longitude"), "longitude")
            )
        elif p.has("contact"):
            contact = p.get_json("contact")
            if not isinstance(contact, dict):
                raise ControlError(400, "contact must be an object")
            fill = self._contact_filler(dict(contact))
        else:
            raise ControlError(
                400, "nothing to send: give text, photo, document, voice, location or contact"
            )
        return self._send(bot, user, chat, fill, p)

    async def user_press(self, request: web.Request, p: Params) -> JSON:
        bot, user = self._bot(p), self._user(request)
        chat = self._user_chat(bot, user, p)
        if not p.has("message_id"):
            raise ControlError(400, "message_id is required")
        message_id = _int(p.raw("message_id"), "message_id")
        msg = self.world.find_message(chat, message_id)
        if msg is None:
            raise ControlError(
                404, f"message {message_id} not found (or deleted) in chat {chat.id}"
            )
        buttons = inline_buttons(msg.reply_markup)
        available = [b["callback_data"] for b in buttons if "callback_data" in b]
        data = p.get_str("callback_data")
        if data is None:
            text = p.get_str("text")
            if text is None:
                raise ControlError(400, "give callback_data or text")
            match = [b for b in buttons if b.get("text") == text and "callback_data" in b]
            if not match:
                texts = [b.get("text") for b in buttons]
                raise ControlError(400, f"no callback button {text!r} in the keyboard: {texts}")
            data = str(match[0]["callback_data"])
        elif p.get_bool("forge"):
            if not 1 <= len(data.encode("utf-8")) <= 64:
                raise ControlError(400, "forged callback_data must be 1-64 bytes, as Telegram's")
        elif data not in available:
            raise ControlError(
                400, f"callback_data {data!r} is not in the message's current keyboard: {available}"
            )
        record, body = self.world.new_callback(bot, user, msg, data)
        update = bot.queue.push("callback_query", body)
        if update is not None:
            record.update_id = update.update_id
            self.stats.updates_created += 1
        return record.to_json()

    async def user_press_reply(self, request: web.Request, p: Params) -> JSON:
        bot, user = self._bot(p), self._user(request)
        chat = self._user_chat(bot, user, p)
        text = p.get_str("text")
        if not text:
            raise ControlError(400, "text (the button's label) is required")
        keyboard = chat.reply_keyboard
        button = reply_button(keyboard, text)
        if button is None or keyboard is None:
            labels = [
                b if isinstance(b, str) else b.get("text")
                for row in (keyboard or {}).get("keyboard", [])
                for b in row
            ]
            raise ControlError(400, f"no button {text!r} in the current reply keyboard: {labels}")
        if button.get("request_location"):
            lat = _float(p.raw("latitude") or DEFAULT_LOCATION[0], "latitude")
            lon = _float(p.raw("longitude") or DEFAULT_LOCATION[1], "longitude")
            fill = self._location_filler(lat, lon)
        elif button.get("request_contact"):
            contact: JSON = {
                "phone_number": p.get_str("phone_number")
                or user.phone_number
                or f"+86138{user.id % 100_000_000:08d}",
                "first_name": user.first_name,
                "user_id": user.id,
            }
            if user.last_name:
                contact["last_name"] = user.last_name
            fill = self._contact_filler(contact)
        else:
            fill = self._text_filler(text)
        if keyboard.get("one_time_keyboard"):
            chat.reply_keyboard = None
        return self._send(bot, user, chat, fill, p)

    async def _set_blocked(self, request: web.Request, p: Params, blocked: bool) -> JSON:
        bot, user = self._bot(p), self._user(request)
        update_id = self.world.set_blocked(bot, user, blocked)
        return {"user_id": user.id, "blocked": blocked, "update_id": update_id}

    async def user_block(self, request: web.Request, p: Params) -> JSON:
        return await self._set_blocked(request, p, True)

    async def user_unblock(self, request: web.Request, p: Params) -> JSON:
        return await self._set_blocked(request, p, False)

    async def _events(self, chat: Chat, p: Params) -> JSON:
        after = _int(p.raw("after_seq") or 0, "after_seq")
        timeout = _float(p.raw("timeout") or 0, "timeout")
        limit = max(1, min(10_000, _int(p.raw("limit") or 1000, "limit")))
        kinds_raw = p.get_str("kinds")
        kinds = set(kinds_raw.split(",")) if kinds_raw else None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(max(timeout, 0.0), MAX_WAIT)
        while True:
            changed = chat.changed()
            events = chat.events_after(after, limit)
            if events:
                after = events[-1].seq
                selected = [e for e in events if kinds is None or e.kind in kinds]
                if selected:
                    return {"events": [e.to_json() for e in selected], "last_seq": after}
                continue
            if not await self._wait(changed, deadline - loop.time()):
                return {"events": [], "last_seq": after}

    async def user_messages(self, request: web.Request, p: Params) -> JSON:
        bot, user = self._bot(p), self._user(request)
        return await self._events(self._chat_of(bot, user.id), p)

    async def chat_messages(self, request: web.Request, p: Params) -> JSON:
        chat = self._chat_of(self._bot(p), _int(request.match_info["chat_id"], "chat id"))
        return await self._events(chat, p)

    @staticmethod
    def _chat_json(chat: Chat) -> JSON:
        return {
            "chat": chat.info,
            "opened": chat.opened,
            "blocked": chat.blocked,
            "reply_keyboard": chat.reply_keyboard,
            "messages": [m.view() for m in chat.messages.values() if m.from_bot],
        }

    async def user_chat(self, request: web.Request, p: Params) -> JSON:
        bot, user = self._bot(p), self._user(request)
        return self._chat_json(self._chat_of(bot, user.id))

    async def chat_state(self, request: web.Request, p: Params) -> JSON:
        chat = self._chat_of(self._bot(p), _int(request.match_info["chat_id"], "chat id"))
        return self._chat_json(chat)

    async def create_group(self, request: web.Request, p: Params) -> JSON:
        members = p.get_json("member_ids") or []
        if not isinstance(members, list):
            raise ControlError(400, "member_ids must be a list of user ids")
        raw_id = p.raw("id")
        group = self.world.create_group(
            p.get_str("title") or "Test group",
            [_int(m, "member id") for m in members],
            None if raw_id in (None, "") else _int(raw_id, "id"),
        )
        return {**group.to_api(), "member_ids": sorted(group.member_ids)}

    # -- callbacks and updates ---------------------------------------------
    async def callback(self, request: web.Request, p: Params) -> JSON:
        bot = self._bot(p)
        record = bot.callbacks.get(request.match_info["callback_id"])
        if record is None:
            raise ControlError(404, "no such callback query")
        if not record.answered:
            await self._wait(record.event, _float(p.raw("timeout") or 0, "timeout"))
        return record.to_json()

    async def list_updates(self, request: web.Request, p: Params) -> list[JSON]:
        bot = self._bot(p)
        limit = _int(p.raw("limit") or 100, "limit")
        return [r.to_json() for r in bot.queue.history(limit, p.get_str("type"))]

    async def redeliver(self, request: web.Request, p: Params) -> JSON:
        bot = self._bot(p)
        update_id = _int(request.match_info["update_id"], "update id")
        try:
            record = bot.queue.redeliver(update_id)
        except KeyError:
            raise ControlError(404, f"no update {update_id} in the history") from None
        except ValueError as exc:
            raise ControlError(409, str(exc)) from None
        return record.to_json()

    async def download(self, request: web.Request, p: Params) -> web.Response:
        stored = self.world.files.get(request.match_info["file_id"])
        if stored is None:
            raise ControlError(404, "no such file_id")
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    # -- knobs --------------------------------------------------------------
    async def get_faults(self, request: web.Request, p: Params) -> JSON:
        return self.faults.config.to_json()

    async def set_faults(self, request: web.Request, p: Params) -> JSON:
        try:
            config = FaultConfig.from_json({k: v for k, v in p.values.items() if k != "bot_id"})
        except ValueError as exc:
            raise ControlError(400, str(exc)) from None
        self.faults.configure(config)
        return config.to_json()

    async def clear_faults(self, request: web.Request, p: Params) -> JSON:
        self.faults.clear()
        return self.faults.config.to_json()

    def _limits_json(self) -> JSON:
        r = self.limiter.rates
        s = self.limiter.scale
        return {
            "enabled": self.limiter.enabled,
            "scale": s,
            "global_per_second": r.global_rate * s,
            "global_burst": r.global_burst * s,
            "private_chat_per_second": r.private_rate * s,
            "private_chat_burst": r.private_burst * s,
            "group_per_minute": r.group_rate * 60 * s,
            "group_burst": r.group_burst * s,
        }

    async def get_limits(self, request: web.Request, p: Params) -> JSON:
        return self._limits_json()

    async def set_limits(self, request: web.Request, p: Params) -> JSON:
        scale = p.raw("scale")
        value = None if scale is None else _float(scale, "scale")
        if value is not None and value <= 0:
            raise ControlError(400, "scale must be > 0")
        enabled = p.get_bool("enabled") if p.has("enabled") else None
        self.limiter.configure(enabled=enabled, scale=value)
        return self._limits_json()

    async def get_clock(self, request: web.Request, p: Params) -> JSON:
        return {"now": self.clock.now(), "offset_seconds": self.clock.offset_seconds}

    async def set_clock(self, request: web.Request, p: Params) -> JSON:
        if p.has("offset_seconds"):
            self.clock.set_offset(_float(p.raw("offset_seconds"), "offset_seconds"))
        elif p.has("advance_seconds"):
            self.clock.advance(_float(p.raw("advance_seconds"), "advance_seconds"))
        else:
            raise ControlError(400, "give offset_seconds or advance_seconds")
        return {"now": self.clock.now(), "offset_seconds": self.clock.offset_seconds}

    async def get_stats(self, request: web.Request, p: Params) -> JSON:
        return self.stats.to_json(self.faults.injected_errors, self.faults.injected_delays)

    async def reset_stats(self, request: web.Request, p: Params) -> JSON:
        self.stats.reset()
        self.faults.reset_counters()
        return self.stats.to_json(0, 0)

    async def reset(self, request: web.Request, p: Params) -> JSON:
        self.on_reset()
        return {"bots": [b.id for b in self.world.bots.values()]}
