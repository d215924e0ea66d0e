"""An async Python client for the control API, for tests and benchmarks.

    async with EmulatorClient(emu.url) as emu_client:
        user = await emu_client.create_user(first_name="王芳", language_code="zh-hans")
        await user.send_text("/start HD-01")
        msg = await user.next_message(timeout=5)
        press = await user.press(msg, text="中文")
        answer = await press.answer()
        edited = await user.wait_for(lambda m: m.message_id == msg.message_id and m.edited)

Each :class:`EmulatorUser` keeps a *cursor* in its chat's event log, like reading a
conversation: :meth:`EmulatorUser.next_message` returns the next message the bot
sent after the cursor, :meth:`EmulatorUser.wait_for` the first event after the
cursor whose message matches; both move the cursor past what they return.  Messages
are always shown in their current state (edits applied, ``deleted`` flagged).
"""

# The waits below are long polls served by the emulator, which needs the duration
# as a request parameter; asyncio.timeout() around the call could not pass it on.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import aiohttp

JSON = dict[str, Any]


def _present(**fields: Any) -> JSON:
    """The fields that were given: optional arguments left out of a request body."""
    return {key: value for key, value in fields.items() if value is not None}


class EmulatorError(Exception):
    """The control API refused a request (status and the emulator's reason)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    """A message the bot sent, as the user sees it (``raw`` is the control-API view)."""

    raw: JSON
    event: str = "sent"  # the log event this was read from: sent | edited | deleted

    @property
    def message_id(self) -> int:
        return int(self.raw["message_id"])

    @property
    def chat_id(self) -> int:
        return int(self.raw["chat_id"])

    @property
    def seq(self) -> int:
        return int(self.raw["seq"])

    @property
    def text(self) -> str | None:
        return self.raw.get("text")

    @property
    def caption(self) -> str | None:
        return self.raw.get("caption")

    @property
    def html(self) -> str | None:
        """Text (or caption) rendered back to Telegram HTML."""
        return self.raw.get("html")

    @property
    def entities(self) -> list[JSON]:
        return list(self.raw.get("entities") or [])

    @property
    def reply_markup(self) -> JSON | None:
        return self.raw.get("reply_markup")

    @property
    def photo(self) -> list[JSON] | None:
        return self.raw.get("photo")

    @property
    def document(self) -> JSON | None:
        return self.raw.get("document")

    @property
    def location(self) -> JSON | None:
        return self.raw.get("location")

    @property
    def date(self) -> int:
        return int(self.raw["date"])

    @property
    def received_at(self) -> float:
        """Wall-clock unix time the emulator accepted the send (sub-second)."""
        return float(self.raw["received_at"])

    @property
    def edited(self) -> bool:
        return self.raw.get("edit_date") is not None

    @property
    def deleted(self) -> bool:
        return bool(self.raw.get("deleted"))

    @property
    def buttons(self) -> list[JSON]:
        """Inline keyboard buttons, row by row (empty without an inline keyboard)."""
        markup = self.reply_markup or {}
        return [b for row in markup.get("inline_keyboard", []) for b in row]

    @property
    def button_texts(self) -> list[str]:
        return [str(b.get("text")) for b in self.buttons]

    @property
    def keyboard(self) -> list[list[str]]:
        """Labels of a reply keyboard sent with this message (empty otherwise)."""
        markup = self.reply_markup or {}
        return [
            [b if isinstance(b, str) else str(b.get("text")) for b in row]
            for row in markup.get("keyboard", [])
        ]

    def button(self, text: str) -> JSON:
        """The inline button labelled ``text``; KeyError if absent."""
        for b in self.buttons:
            if b.get("text") == text:
                return b
        raise KeyError(f"no button {text!r}; buttons: {self.button_texts}")

    def __str__(self) -> str:
        body = self.text if self.text is not None else self.caption
        return f"#{self.message_id}[{self.event}] {body!r} buttons={self.button_texts}"


@dataclass(frozen=True, slots=True)
class SentMessage:
    """What a user sent: the Bot API Message and the id of the update it produced."""

    message: JSON
    update_id: int | None

    @property
    def message_id(self) -> int:
        return int(self.message["message_id"])


@dataclass(frozen=True, slots=True)
class CallbackAnswer:
    """The bot's answerCallbackQuery, as the user's client would show it."""

    answered: bool
    text: str | None
    show_alert: bool
    url: str | None


@dataclass(slots=True)
class CallbackPress:
    """A pressed inline button; :meth:`answer` waits for the bot's answerCallbackQuery."""

    client: EmulatorClient
    id: str
    update_id: int | None
    data: str
    message_id: int
    raw: JSON = field(default_factory=dict)

    async def answer(self, timeout: float = 5.0) -> CallbackAnswer:
        """Wait up to ``timeout`` s for the answer; TimeoutError if none came."""
        r = await self.client.callback(self.id, timeout=timeout)
        if not r["answered"]:
            raise TimeoutError(f"callback query {self.id} not answered within {timeout} s")
        return CallbackAnswer(True, r.get("text"), bool(r.get("show_alert")), r.get("url"))


class _Reader:
    """Cursor-based reading of one chat's event log (shared by users and groups)."""

    def __init__(self, client: EmulatorClient, path: str) -> None:
        self._client = client
        self._path = path
        self.cursor = 0

    async def events(
        self, after_seq: int = 0, timeout: float = 0.0, kinds: str | None = None
    ) -> tuple[list[ReceivedMessage], int]:
        params: JSON = {"after_seq": after_seq, "timeout": timeout}
        if kinds:
            params["kinds"] = kinds
        r = await self._client.request("GET", self._path, params=params, wait=timeout)
        events = [ReceivedMessage(e["message"], e["kind"]) for e in r["events"]]
        # the event's own seq, not the message's creation seq, orders the log
        seqs = [int(e["seq"]) for e in r["events"]]
        return [_with_seq(m, s) for m, s in zip(events, seqs, strict=True)], int(r["last_seq"])

    async def next_message(self, timeout: float = 5.0) -> ReceivedMessage:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = max(0.0, deadline - loop.time())
            events, _ = await self.events(self.cursor, remaining, kinds="sent")
            if events:
                self.cursor = events[0].raw["_event_seq"]
                return events[0]
            if remaining <= 0:
                raise TimeoutError(
                    f"no new message from the bot within {timeout} s; "
                    f"last ones: {await self._recent()}"
                )

    async def wait_for(
        self, predicate: Callable[[ReceivedMessage], bool], timeout: float = 5.0
    ) -> ReceivedMessage:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = max(0.0, deadline - loop.time())
            events, _ = await self.events(self.cursor, remaining)
            for event in events:
                self.cursor = event.raw["_event_seq"]
                if predicate(event):
                    return event
            if remaining <= 0 and not events:
                raise TimeoutError(
                    f"no message matched within {timeout} s; last ones: {await self._recent()}"
                )

    async def _recent(self) -> list[str]:
        events, _ = await self.events(0, 0)
        return [str(e) for e in events[-5:]]


def _with_seq(message: ReceivedMessage, event_seq: int) -> ReceivedMessage:
    return ReceivedMessage({**message.raw, "_event_seq": event_seq}, message.event)


class EmulatorUser:
    """A user of the emulated Telegram, driven through the control API."""

    def __init__(self, client: EmulatorClient, info: JSON) -> None:
        self.client = client
        self.info = info
        self.id: int = int(info["id"])
        self.first_name: str = info["first_name"]
        self.username: str | None = info.get("username")
        self.language_code: str | None = info.get("language_code")
        self._reader = _Reader(client, f"/control/users/{self.id}/messages")

    def __repr__(self) -> str:
        return f"EmulatorUser(id={self.id}, first_name={self.first_name!r})"

    @property
    def cursor(self) -> int:
        """Event seq up to which this user has read (see module docs)."""
        return self._reader.cursor

    @cursor.setter
    def cursor(self, value: int) -> None:
        self._reader.cursor = value

    # -- sending ------------------------------------------------------------
    async def _send(self, body: JSON, chat_id: int | None, reply_to: int | None) -> SentMessage:
        if chat_id is not None:
            body["chat_id"] = chat_id
        if reply_to is not None:
            body["reply_to_message_id"] = reply_to
        r = await self.client.request("POST", f"/control/users/{self.id}/send", json=body)
        return SentMessage(r["message"], r["update_id"])

    async def send_text(
        self, text: str, *, chat_id: int | None = None, reply_to: int | None = None
    ) -> SentMessage:
        """Send text; a leading ``/command`` gets a ``bot_command`` entity."""
        return await self._send({"text": text}, chat_id, reply_to)

    async def send_photo(
        self, data: bytes, *, caption: str | None = None, chat_id: int | None = None
    ) -> SentMessage:
        body: JSON = {"photo": base64.b64encode(data).decode()}
        if caption is not None:
            body["caption"] = caption
        return await self._send(body, chat_id, None)

    async def send_document(
        self,
        data: bytes,
        *,
        file_name: str = "document.bin",
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
        chat_id: int | None = None,
    ) -> SentMessage:
        body: JSON = {
            "document": base64.b64encode(data).decode(),
            "file_name": file_name,
            "mime_type": mime_type,
        }
        if caption is not None:
            body["caption"] = caption
        return await self._send(body, chat_id, None)

    async def send_voice(
        self, data: bytes, *, duration: int = 1, chat_id: int | None = None
    ) -> SentMessage:
        body: JSON = {"voice": base64.b64encode(data).decode(), "duration": duration}
        return await self._send(body, chat_id, None)

    async def send_location(
        self, latitude: float, longitude: float, *, chat_id: int | None = None
    ) -> SentMessage:
        body: JSON = {"location": {"latitude": latitude, "longitude": longitude}}
        return await self._send(body, chat_id, None)

    async def send_contact(
        self,
        phone_number: str,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        user_id: int | None = None,
    ) -> SentMessage:
        contact: JSON = {"phone_number": phone_number, "first_name": first_name or self.first_name}
        if last_name:
            contact["last_name"] = last_name
        if user_id is not None:
            contact["user_id"] = user_id
        return await self._send({"contact": contact}, None, None)

    # -- buttons ------------------------------------------------------------
    async def press(
        self,
        message: ReceivedMessage | int,
        *,
        callback_data: str | None = None,
        text: str | None = None,
        chat_id: int | None = None,
        forge: bool = False,
    ) -> CallbackPress:
        """Press an inline button of ``message`` by its callback_data or its label.

        ``forge=True`` sends ``callback_data`` even if no button of the message
        carries it, as a modified client or a replayed request would.
        """
        message_id = message if isinstance(message, int) else message.message_id
        body: JSON = {"message_id": message_id}
        if forge:
            body["forge"] = True
        if callback_data is not None:
            body["callback_data"] = callback_data
        elif text is not None:
            body["text"] = text
        else:
            raise ValueError("give callback_data or text")
        if chat_id is not None:
            body["chat_id"] = chat_id
        elif not isinstance(message, int):
            body["chat_id"] = message.chat_id
        r = await self.client.request("POST", f"/control/users/{self.id}/press", json=body)
        return CallbackPress(
            self.client, r["callback_query_id"], r["update_id"], r["data"], message_id, r
        )

    async def press_reply(
        self,
        text: str,
        *,
        latitude: float | None = None,
        longitude: float | None = None,
        phone_number: str | None = None,
        chat_id: int | None = None,
    ) -> SentMessage:
        """Press a button of the current reply keyboard (sends its text, location or contact)."""
        body: JSON = {
            **{"text": text},
            **_present(
                latitude=latitude, longitude=longitude, phone_number=phone_number, chat_id=chat_id
            ),
        }
        r = await self.client.request("POST", f"/control/users/{self.id}/press-reply", json=body)
        return SentMessage(r["message"], r["update_id"])

    # -- blocking -----------------------------------------------------------
    async def block(self) -> int | None:
        """Block the bot; returns the id of the my_chat_member update."""
        r = await self.client.request("POST", f"/control/users/{self.id}/block")
        return r["update_id"]  # type: ignore[no-any-return]

    async def unblock(self) -> int | None:
        r = await self.client.request("POST", f"/control/users/{self.id}/unblock")
        return r["update_id"]  # type: ignore[no-any-return]

    # -- reading ------------------------------------------------------------
    async def messages(self) -> list[ReceivedMessage]:
        """All messages the bot sent to this user, current state, oldest first."""
        r = await self.client.request("GET", f"/control/users/{self.id}/chat")
        return [ReceivedMessage(m) for m in r["messages"]]

    async def chat(self) -> JSON:
        """The private chat: info, opened/blocked flags, current reply keyboard, messages."""
        return await self.client.request("GET", f"/control/users/{self.id}/chat")  # type: ignore[no-any-return]

    async def events(
        self, after_seq: int = 0, timeout: float = 0.0
    ) -> tuple[list[ReceivedMessage], int]:
        """Raw event log after ``after_seq`` (long-polls up to ``timeout``); cursor untouched."""
        return await self._reader.events(after_seq, timeout)

    async def next_message(self, timeout: float = 5.0) -> ReceivedMessage:
        """The next message the bot *sent* after the cursor (edits/deletes skipped)."""
        return await self._reader.next_message(timeout)

    async def wait_for(
        self, predicate: Callable[[ReceivedMessage], bool], timeout: float = 5.0
    ) -> ReceivedMessage:
        """The first event after the cursor whose message satisfies ``predicate``."""
        return await self._reader.wait_for(predicate, timeout)

    async def wait_for_edit(
        self, message: ReceivedMessage | int, timeout: float = 5.0
    ) -> ReceivedMessage:
        """Wait until ``message`` is edited (or deleted) after the cursor."""
        mid = message if isinstance(message, int) else message.message_id
        return await self.wait_for(
            lambda m: m.message_id == mid and m.event in ("edited", "deleted"), timeout
        )


class EmulatorGroup:
    """A group chat; its members send into it with ``chat_id=group.id``."""

    def __init__(self, client: EmulatorClient, info: JSON) -> None:
        self.client = client
        self.info = info
        self.id: int = int(info["id"])
        self.title: str = info["title"]
        self._reader = _Reader(client, f"/control/chats/{self.id}/messages")

    async def messages(self) -> list[ReceivedMessage]:
        r = await self.client.request("GET", f"/control/chats/{self.id}")
        return [ReceivedMessage(m) for m in r["messages"]]

    async def next_message(self, timeout: float = 5.0) -> ReceivedMessage:
        return await self._reader.next_message(timeout)

    async def wait_for(
        self, predicate: Callable[[ReceivedMessage], bool], timeout: float = 5.0
    ) -> ReceivedMessage:
        return await self._reader.wait_for(predicate, timeout)


class EmulatorClient:
    """Client of one emulator's control API (``url`` is the emulator's base URL)."""

    def __init__(
        self,
        url: str,
        *,
        bot_id: int | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.bot_id = bot_id
        self._session = session
        self._own_session = session is None

    async def __aenter__(self) -> EmulatorClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None and self._own_session:
            await self._session.close()
        self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200))
            self._own_session = True
        return self._session

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: JSON | None = None,
        params: JSON | None = None,
        wait: float = 0.0,
    ) -> Any:
        """Call a control endpoint and return its ``result`` (raises EmulatorError)."""
        query = {k: str(v) for k, v in (params or {}).items()}
        if self.bot_id is not None:
            query.setdefault("bot_id", str(self.bot_id))
        timeout = aiohttp.ClientTimeout(total=wait + 30.0)
        async with self._http().request(
            method, self.url + path, json=json, params=query, timeout=timeout
        ) as response:
            if response.content_type != "application/json":
                if response.status >= 400:
                    raise EmulatorError(response.status, await response.text())
                return await response.read()
            body = await response.json()
        if not body.get("ok"):
            raise EmulatorError(response.status, str(body.get("error")))
        return body["result"]

    # -- bots and people ----------------------------------------------------
    async def create_bot(
        self, token: str, *, first_name: str | None = None, username: str | None = None
    ) -> JSON:
        body: JSON = {"token": token}
        if first_name:
            body["first_name"] = first_name
        if username:
            body["username"] = username
        return await self.request("POST", "/control/bots", json=body)  # type: ignore[no-any-return]

    async def bots(self) -> list[JSON]:
        return await self.request("GET", "/control/bots")  # type: ignore[no-any-return]

    async def create_user(
        self,
        *,
        first_name: str = "Test",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        phone_number: str | None = None,
        id: int | None = None,
    ) -> EmulatorUser:
        body: JSON = {
            **{"first_name": first_name},
            **_present(
                last_name=last_name,
                username=username,
                language_code=language_code,
                phone_number=phone_number,
                id=id,
            ),
        }
        info = await self.request("POST", "/control/users", json=body)
        return EmulatorUser(self, info)

    async def create_users(self, count: int, **kwargs: Any) -> list[EmulatorUser]:
        """Create ``count`` users concurrently (first names get a number suffix)."""
        base = kwargs.pop("first_name", "User")
        return list(
            await asyncio.gather(
                *(self.create_user(first_name=f"{base}{i}", **kwargs) for i in range(count))
            )
        )

    async def user(self, user_id: int) -> EmulatorUser:
        """A handle on an existing user."""
        info = await self.request("GET", f"/control/users/{user_id}")
        return EmulatorUser(self, info)

    async def create_group(
        self,
        title: str,
        members: Sequence[EmulatorUser | int],
        *,
        id: int | None = None,
    ) -> EmulatorGroup:
        body: JSON = {
            "title": title,
            "member_ids": [m if isinstance(m, int) else m.id for m in members],
        }
        if id is not None:
            body["id"] = id
        return EmulatorGroup(self, await self.request("POST", "/control/groups", json=body))

    # -- updates, callbacks, files -----------------------------------------
    async def updates(self, *, limit: int = 100, type: str | None = None) -> list[JSON]:
        """Recent updates (oldest first) with delivery counts."""
        params: JSON = {"limit": limit}
        if type:
            params["type"] = type
        return await self.request("GET", "/control/updates", params=params)  # type: ignore[no-any-return]

    async def redeliver(self, update_id: int) -> JSON:
        """Deliver ``update_id`` again, with the same id, even if it was confirmed."""
        return await self.request("POST", f"/control/updates/{update_id}/redeliver")  # type: ignore[no-any-return]

    async def callback(self, callback_query_id: str, *, timeout: float = 0.0) -> JSON:
        return await self.request(  # type: ignore[no-any-return]
            "GET",
            f"/control/callbacks/{callback_query_id}",
            params={"timeout": timeout},
            wait=timeout,
        )

    async def download(self, file_id: str) -> bytes:
        """The bytes behind a file_id (e.g. a document the bot sent)."""
        params = {"bot_id": str(self.bot_id)} if self.bot_id is not None else {}
        async with self._http().get(
            f"{self.url}/control/files/{file_id}", params=params
        ) as response:
            if response.status != 200:
                raise EmulatorError(response.status, await response.text())
            return await response.read()

    # -- knobs --------------------------------------------------------------
    async def set_faults(
        self,
        *,
        error_rate: float = 0.0,
        error_statuses: Iterable[int] = (500, 502),
        delay_rate: float = 0.0,
        delay_max_ms: float = 0.0,
        fixed_delay_ms: float = 0.0,
        methods: Iterable[str] | None = None,
        seed: int | None = None,
    ) -> JSON:
        """Replace the fault configuration (see docs/emulator-api.md, "Faults")."""
        body: JSON = {
            "error_rate": error_rate,
            "error_statuses": list(error_statuses),
            "delay_rate": delay_rate,
            "delay_max_ms": delay_max_ms,
            "fixed_delay_ms": fixed_delay_ms,
            "methods": list(methods) if methods is not None else None,
            "seed": seed,
        }
        return await self.request("POST", "/control/faults", json=body)  # type: ignore[no-any-return]

    async def set_delay(self, ms: float) -> JSON:
        """Add ``ms`` milliseconds to every Bot API call (and clear other faults)."""
        return await self.set_faults(fixed_delay_ms=ms)

    async def clear_faults(self) -> JSON:
        return await self.request("DELETE", "/control/faults")  # type: ignore[no-any-return]

    async def set_limits(self, *, enabled: bool | None = None, scale: float | None = None) -> JSON:
        body: JSON = {}
        if enabled is not None:
            body["enabled"] = enabled
        if scale is not None:
            body["scale"] = scale
        return await self.request("POST", "/control/limits", json=body)  # type: ignore[no-any-return]

    async def limits(self) -> JSON:
        return await self.request("GET", "/control/limits")  # type: ignore[no-any-return]

    async def clock(self) -> JSON:
        """``{"now": unix float, "offset_seconds": float}``."""
        return await self.request("GET", "/control/clock")  # type: ignore[no-any-return]

    async def set_clock(
        self, *, offset_seconds: float | None = None, advance_seconds: float | None = None
    ) -> JSON:
        """Set the clock offset, or move the clock forward by ``advance_seconds``."""
        if (offset_seconds is None) == (advance_seconds is None):
            raise ValueError("give exactly one of offset_seconds and advance_seconds")
        body: JSON = (
            {"offset_seconds": offset_seconds}
            if offset_seconds is not None
            else {"advance_seconds": advance_seconds}
        )
        return await self.request("POST", "/control/clock", json=body)  # type: ignore[no-any-return]

    async def commands(
        self,
        *,
        bot_id: int | None = None,
        scope_type: str | None = None,
        language_code: str | None = None,
    ) -> list[JSON]:
        """setMyCommands results: ``[{"scope", "language_code", "commands"}]``."""
        if bot_id is None:
            bot_id = self.bot_id or int((await self.bots())[0]["id"])
        params: JSON = {}
        if scope_type is not None:
            params["scope_type"] = scope_type
        if language_code is not None:
            params["language_code"] = language_code
        return await self.request("GET", f"/control/bots/{bot_id}/commands", params=params)  # type: ignore[no-any-return]

    async def stats(self) -> JSON:
        return await self.request("GET", "/control/stats")  # type: ignore[no-any-return]

    async def reset_stats(self) -> JSON:
        return await self.request("POST", "/control/stats/reset")  # type: ignore[no-any-return]

    async def reset(self) -> JSON:
        """Clear users, chats, messages, updates, faults, stats and the clock; keep bots."""
        return await self.request("POST", "/control/reset")  # type: ignore[no-any-return]
