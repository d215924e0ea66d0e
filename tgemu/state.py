"""The emulated world: bots, users, chats, messages, callback queries.

Everything lives in memory and is indexed by id, so each Bot API call or control
request touches a constant number of objects (benchmarks push 10,000-message
broadcasts through it).  Chats are kept *per bot* (a private chat has the user's id
as chat id for every bot, but its own message ids and history per bot).

What users receive is an append-only **event log per chat** (``sent``, ``edited``,
``deleted``) with a global, monotonically increasing ``seq``; readers long-poll it
through an ``asyncio.Event`` replaced on each append.
"""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from tgemu.clock import Clock
from tgemu.errors import ApiError, ControlError, bad_request, forbidden
from tgemu.files import FileStore
from tgemu.html_entities import render_html
from tgemu.stats import Stats
from tgemu.updates import UpdateQueue

JSON = dict[str, Any]


@dataclass(slots=True)
class User:
    """A human Telegram account driven by the control API."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    phone_number: str | None = None

    def to_api(self) -> JSON:
        d: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            d["last_name"] = self.last_name
        if self.username:
            d["username"] = self.username
        if self.language_code:
            d["language_code"] = self.language_code
        return d

    def private_chat(self) -> JSON:
        d: JSON = {"id": self.id, "first_name": self.first_name}
        if self.last_name:
            d["last_name"] = self.last_name
        if self.username:
            d["username"] = self.username
        d["type"] = "private"
        return d


@dataclass(slots=True)
class Group:
    """A basic group: a title and its human members (the bot is always a member)."""

    id: int
    title: str
    member_ids: set[int] = field(default_factory=set)

    def to_api(self) -> JSON:
        return {"id": self.id, "title": self.title, "type": "group"}


@dataclass(slots=True)
class WebhookConfig:
    url: str
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass(slots=True)
class Message:
    """A message in one chat, in its current state (edits applied)."""

    chat: Chat
    message_id: int
    date: int
    sender: JSON
    from_bot: bool
    seq: int
    received_at: float
    text: str | None = None
    entities: list[JSON] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[JSON] = field(default_factory=list)
    photo: list[JSON] | None = None
    document: JSON | None = None
    voice: JSON | None = None
    location: JSON | None = None
    contact: JSON | None = None
    reply_markup: JSON | None = None
    reply_to: Message | None = None
    edit_date: int | None = None
    edited_at: float | None = None
    deleted: bool = False

    @property
    def inline_keyboard(self) -> list[list[JSON]] | None:
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            kb = self.reply_markup["inline_keyboard"]
            return kb if isinstance(kb, list) else None
        return None

    @property
    def has_media(self) -> bool:
        return any(x is not None for x in (self.photo, self.document, self.voice))

    def to_api(self, *, nested: bool = False) -> JSON:
        """The Bot API ``Message`` object."""
        d: JSON = {
            "message_id": self.message_id,
            "from": self.sender,
            "chat": self.chat.info,
            "date": self.date,
        }
        if self.reply_to is not None and not nested:
            d["reply_to_message"] = self.reply_to.to_api(nested=True)
        if self.edit_date is not None:
            d["edit_date"] = self.edit_date
        if self.text is not None:
            d["text"] = self.text
            if self.entities:
                d["entities"] = self.entities
        if self.photo is not None:
            d["photo"] = self.photo
        if self.document is not None:
            d["document"] = self.document
        if self.voice is not None:
            d["voice"] = self.voice
        if self.caption is not None:
            d["caption"] = self.caption
            if self.caption_entities:
                d["caption_entities"] = self.caption_entities
        if self.location is not None:
            d["location"] = self.location
        if self.contact is not None:
            d["contact"] = self.contact
        if self.inline_keyboard is not None:
            d["reply_markup"] = self.reply_markup
        return d

    def view(self) -> JSON:
        """What the control API shows a test: the message as the user sees it now."""
        body = self.text if self.text is not None else self.caption
        body_entities = self.entities if self.text is not None else self.caption_entities
        return {
            "message_id": self.message_id,
            "chat_id": self.chat.id,
            "seq": self.seq,
            "received_at": self.received_at,
            "date": self.date,
            "edit_date": self.edit_date,
            "edited_at": self.edited_at,
            "deleted": self.deleted,
            "from_bot": self.from_bot,
            "text": self.text,
            "entities": self.entities,
            "caption": self.caption,
            "caption_entities": self.caption_entities,
            "html": render_html(body, body_entities) if body is not None else None,
            "reply_markup": self.reply_markup,
            "photo": self.photo,
            "document": self.document,
            "voice": self.voice,
            "location": self.location,
            "contact": self.contact,
            "reply_to_message_id": self.reply_to.message_id if self.reply_to else None,
        }


@dataclass(slots=True)
class ChatEvent:
    """One entry of a chat's log of what the bot did there."""

    seq: int
    kind: str  # "sent" | "edited" | "deleted"
    message: Message
    at: float

    def to_json(self) -> JSON:
        return {"seq": self.seq, "kind": self.kind, "at": self.at, "message": self.message.view()}


class Chat:
    """One chat as seen by one bot: messages, event log, current reply keyboard."""

    __slots__ = (
        "_changed",
        "blocked",
        "chat_instance",
        "events",
        "id",
        "info",
        "messages",
        "next_message_id",
        "opened",
        "reply_keyboard",
        "type",
    )

    def __init__(self, bot_id: int, info: JSON) -> None:
        self.id: int = info["id"]
        self.type: str = info["type"]
        self.info = info
        self.messages: dict[int, Message] = {}
        self.next_message_id = 1
        self.events: list[ChatEvent] = []
        self._changed = asyncio.Event()
        self.reply_keyboard: JSON | None = None
        self.opened = self.type != "private"
        self.blocked = False
        digest = hashlib.sha256(f"{bot_id}:{self.id}".encode()).digest()
        self.chat_instance = str(int.from_bytes(digest[:8], "big", signed=True))

    def changed(self) -> asyncio.Event:
        return self._changed

    def append_event(self, event: ChatEvent) -> None:
        self.events.append(event)
        old, self._changed = self._changed, asyncio.Event()
        old.set()

    def events_after(self, after_seq: int, limit: int) -> list[ChatEvent]:
        start = bisect.bisect_right(self.events, after_seq, key=lambda e: e.seq)
        return self.events[start : start + limit]

    def wake(self) -> None:
        old, self._changed = self._changed, asyncio.Event()
        old.set()


@dataclass(slots=True)
class CallbackRecord:
    """A button press and the bot's answer to it."""

    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    update_id: int | None
    answered: bool = False
    text: str | None = None
    show_alert: bool = False
    url: str | None = None
    cache_time: int | None = None
    answered_at: float | None = None
    event: asyncio.Event = field(default_factory=asyncio.Event)

    def to_json(self) -> JSON:
        return {
            "callback_query_id": self.id,
            "update_id": self.update_id,
            "user_id": self.user_id,
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "data": self.data,
            "answered": self.answered,
            "text": self.text,
            "show_alert": self.show_alert,
            "url": self.url,
            "cache_time": self.cache_time,
            "answered_at": self.answered_at,
        }


class BotAccount:
    """A registered bot: identity, update queue, chats, commands, webhook."""

    def __init__(self, token: str, bot_id: int, first_name: str, username: str) -> None:
        self.token = token
        self.id = bot_id
        self.first_name = first_name
        self.username = username
        self.queue = UpdateQueue()
        self.chats: dict[int, Chat] = {}
        self.callbacks: dict[str, CallbackRecord] = {}
        self.commands: dict[tuple[str, str], tuple[JSON, list[JSON]]] = {}
        self.webhook: WebhookConfig | None = None
        self.properties: dict[str, Any] = {}

    def user_api(self) -> JSON:
        return {
            "id": self.id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def get_me(self) -> JSON:
        return {
            **self.user_api(),
            "can_join_groups": True,
            # privacy mode off: the emulator delivers every group message to the bot
            "can_read_all_group_messages": True,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def to_json(self) -> JSON:
        return {
            **self.get_me(),
            "token": self.token,
            "webhook_url": self.webhook.url if self.webhook else None,
            "pending_update_count": self.queue.pending_count,
        }


def parse_token(token: str) -> int:
    """The bot id is the numeric prefix of its token (``123456:ABC...``)."""
    prefix, sep, secret = token.partition(":")
    if not sep or not prefix.isdigit() or not secret or int(prefix) <= 0:
        raise ValueError(f"not a bot token (expected <digits>:<secret>): {token!r}")
    return int(prefix)


class World:
    """All state of one emulator instance."""

    def __init__(self, clock: Clock, stats: Stats) -> None:
        self.clock = clock
        self.stats = stats
        self.files = FileStore()
        self.bots_by_token: dict[str, BotAccount] = {}
        self.bots: dict[int, BotAccount] = {}
        self.users: dict[int, User] = {}
        self.groups: dict[int, Group] = {}
        self._seq = itertools.count(1)
        self._user_ids = itertools.count(10_000_001)
        self._group_ids = itertools.count(1_000_001)
        self._callback_ids = itertools.count(1)

    # -- bots ---------------------------------------------------------------
    def register_bot(
        self, token: str, *, first_name: str | None = None, username: str | None = None
    ) -> BotAccount:
        bot_id = parse_token(token)
        existing = self.bots_by_token.get(token)
        if existing is not None:
            if first_name:
                existing.first_name = first_name
            if username:
                existing.username = username
            return existing
        if bot_id in self.bots:
            raise ValueError(f"another token is already registered for bot id {bot_id}")
        bot = BotAccount(
            token, bot_id, first_name or "Emulated Bot", username or f"emu{bot_id}_bot"
        )
        self.bots_by_token[token] = bot
        self.bots[bot_id] = bot
        return bot

    def bot_for_control(self, bot_id: int | None) -> BotAccount:
        """The bot a control request means: the given id, or the first registered."""
        if bot_id is None:
            if not self.bots:
                raise ControlError(
                    409, "no bot registered: start with --token or POST /control/bots"
                )
            return next(iter(self.bots.values()))
        bot = self.bots.get(bot_id)
        if bot is None:
            raise ControlError(404, f"no bot with id {bot_id}")
        return bot

    # -- users and groups ---------------------------------------------------
    def create_user(
        self,
        *,
        user_id: int | None = None,
        first_name: str = "Test",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        phone_number: str | None = None,
    ) -> User:
        if user_id is None:
            user_id = next(self._user_ids)
            while user_id in self.users or user_id in self.bots:
                user_id = next(self._user_ids)
        elif user_id <= 0:
            raise ControlError(400, "user id must be a positive integer")
        elif user_id in self.users or user_id in self.bots:
            raise ControlError(409, f"user id {user_id} already exists")
        if not first_name:
            raise ControlError(400, "first_name must not be empty")
        user = User(user_id, first_name, last_name, username, language_code, phone_number)
        self.users[user_id] = user
        return user

    def user(self, user_id: int) -> User:
        user = self.users.get(user_id)
        if user is None:
            raise ControlError(404, f"no user with id {user_id}")
        return user

    def create_group(self, title: str, member_ids: list[int], group_id: int | None = None) -> Group:
        if group_id is None:
            group_id = -next(self._group_ids)
        if group_id >= 0:
            raise ControlError(400, "group ids are negative")
        if group_id in self.groups:
            raise ControlError(409, f"group {group_id} already exists")
        for uid in member_ids:
            self.user(uid)
        group = Group(group_id, title, set(member_ids))
        self.groups[group_id] = group
        return group

    # -- chats --------------------------------------------------------------
    def chat(self, bot: BotAccount, chat_id: int) -> Chat | None:
        """The bot's chat with ``chat_id``, creating its record if the peer exists."""
        chat = bot.chats.get(chat_id)
        if chat is not None:
            return chat
        if chat_id in self.users:
            info = self.users[chat_id].private_chat()
        elif chat_id in self.groups:
            info = self.groups[chat_id].to_api()
        else:
            return None
        chat = Chat(bot.id, info)
        bot.chats[chat_id] = chat
        return chat

    def chat_for_bot(self, bot: BotAccount, chat_ref: int | str) -> Chat:
        """Resolve the ``chat_id`` of a Bot API call; 400/403 as Telegram answers."""
        chat_id: int | None = None
        if isinstance(chat_ref, int):
            chat_id = chat_ref
        elif chat_ref.startswith("@"):
            name = chat_ref[1:].lower()
            for user in self.users.values():
                if user.username and user.username.lower() == name:
                    chat_id = user.id
                    break
        else:
            try:
                chat_id = int(chat_ref)
            except ValueError:
                chat_id = None
        chat = self.chat(bot, chat_id) if chat_id is not None else None
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def check_can_send(self, chat: Chat) -> None:
        if chat.type == "private":
            if chat.blocked:
                raise forbidden("bot was blocked by the user")
            if not chat.opened:
                raise forbidden("bot can't initiate conversation with a user")

    # -- messages -----------------------------------------------------------
    def new_message(
        self, chat: Chat, sender: JSON, *, from_bot: bool, reply_to: Message | None = None
    ) -> Message:
        """A message with the next id in ``chat`` (not yet published)."""
        msg = Message(
            chat=chat,
            message_id=chat.next_message_id,
            date=self.clock.now_int(),
            sender=sender,
            from_bot=from_bot,
            seq=0,
            received_at=time.time(),
            reply_to=reply_to,
        )
        chat.next_message_id += 1
        return msg

    def publish_bot_message(self, msg: Message) -> None:
        """Store a message the bot sent and log it for readers."""
        msg.seq = next(self._seq)
        chat = msg.chat
        chat.messages[msg.message_id] = msg
        markup = msg.reply_markup
        if markup:
            if "keyboard" in markup:
                chat.reply_keyboard = markup
            elif markup.get("remove_keyboard"):
                chat.reply_keyboard = None
        self.stats.sends_per_chat[chat.id] += 1
        chat.append_event(ChatEvent(msg.seq, "sent", msg, msg.received_at))

    def publish_edit(self, msg: Message) -> None:
        msg.edit_date = self.clock.now_int()
        msg.edited_at = time.time()
        chat = msg.chat
        chat.append_event(ChatEvent(next(self._seq), "edited", msg, msg.edited_at))

    def publish_delete(self, msg: Message) -> None:
        msg.deleted = True
        chat = msg.chat
        chat.append_event(ChatEvent(next(self._seq), "deleted", msg, time.time()))

    def store_user_message(self, bot: BotAccount, msg: Message) -> int | None:
        """Store a message a user sent and queue the ``message`` update for the bot."""
        msg.seq = next(self._seq)
        msg.chat.messages[msg.message_id] = msg
        record = bot.queue.push("message", msg.to_api())
        if record is None:
            return None
        self.stats.updates_created += 1
        return record.update_id

    def find_message(self, chat: Chat, message_id: int) -> Message | None:
        msg = chat.messages.get(message_id)
        if msg is None or msg.deleted:
            return None
        return msg

    # -- callbacks ----------------------------------------------------------
    def new_callback(
        self, bot: BotAccount, user: User, msg: Message, data: str
    ) -> tuple[CallbackRecord, JSON]:
        n = next(self._callback_ids)
        query_id = str(bot.id * 1_000_000_000 + n)
        record = CallbackRecord(query_id, user.id, msg.chat.id, msg.message_id, data, None)
        bot.callbacks[query_id] = record
        body = {
            "id": query_id,
            "from": user.to_api(),
            "message": msg.to_api(),
            "chat_instance": msg.chat.chat_instance,
            "data": data,
        }
        return record, body

    # -- membership ---------------------------------------------------------
    def set_blocked(self, bot: BotAccount, user: User, blocked: bool) -> int | None:
        """Block or unblock the bot as ``user``; returns the my_chat_member update id."""
        chat = self.chat(bot, user.id)
        if chat is None:  # pragma: no cover - users always have a chat
            raise ApiError(500, "Internal Server Error")
        if chat.blocked == blocked:
            return None
        chat.blocked = blocked
        if not blocked:
            chat.opened = True
        old, new = ("member", "kicked") if blocked else ("kicked", "member")
        body: JSON = {
            "chat": chat.info,
            "from": user.to_api(),
            "date": self.clock.now_int(),
            "old_chat_member": _member(bot, old),
            "new_chat_member": _member(bot, new),
        }
        record = bot.queue.push("my_chat_member", body)
        if record is None:
            return None
        self.stats.updates_created += 1
        return record.update_id

    # -- reset --------------------------------------------------------------
    def reset(self) -> None:
        """Forget users, groups, chats, messages, files and updates; keep bots."""
        for bot in self.bots.values():
            for chat in bot.chats.values():
                chat.wake()
            bot.chats.clear()
            bot.callbacks.clear()
            bot.queue.clear()
        self.users.clear()
        self.groups.clear()
        self.files.clear()


def _member(bot: BotAccount, status: str) -> JSON:
    member: JSON = {"status": status, "user": bot.user_api()}
    if status == "kicked":
        member["until_date"] = 0
    return member
