"""The HTTP server: routes Bot API calls, file downloads and the control API.

:class:`Emulator` owns one world and one aiohttp server.  It runs in-process for
tests (``async with Emulator(port=0) as emu``; port 0 picks a free port, then
``emu.port``/``emu.url`` tell the real one) or from the command line
(``python -m tgemu``).  Routing does the Telegram-visible outer checks in
Telegram's order: token (401), method (404), then injected faults, then the method.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from functools import partial
from types import TracebackType
from typing import Any

from aiohttp import web

from tgemu.botapi import BotApi
from tgemu.clock import Clock
from tgemu.control import ControlApi
from tgemu.errors import NOT_FOUND, UNAUTHORIZED, ApiError
from tgemu.faults import FaultInjector
from tgemu.limits import RateLimiter
from tgemu.params import read_params
from tgemu.state import BotAccount, World
from tgemu.stats import Stats
from tgemu.webhook import WebhookManager

MAX_BODY = 64 * 1024 * 1024
log = logging.getLogger("tgemu")
_dumps = partial(json.dumps, ensure_ascii=False, separators=(",", ":"))


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(text=_dumps(body), status=status, content_type="application/json")


class Emulator:
    """A Telegram Bot API emulator with its control API, on one HTTP port."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tokens: Iterable[str] = (),
        limits: bool = True,
        limit_scale: float = 1.0,
        webhook_initial_backoff: float = 0.1,
        webhook_max_backoff: float = 2.0,
        webhook_timeout: float = 10.0,
    ) -> None:
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        self.clock = Clock()
        self.stats = Stats()
        self.world = World(self.clock, self.stats)
        self.limiter = RateLimiter(enabled=limits, scale=limit_scale)
        self._default_limits = (limits, limit_scale)
        self.faults = FaultInjector()
        self.webhooks = WebhookManager(
            self.clock,
            self.stats,
            initial_backoff=webhook_initial_backoff,
            max_backoff=webhook_max_backoff,
            timeout=webhook_timeout,
        )
        self.api = BotApi(self.world, self.limiter, self.webhooks)
        self.control = ControlApi(
            self.world, self.clock, self.stats, self.limiter, self.faults, self.reset
        )
        for token in tokens:
            self.add_bot(token)
        self.app = web.Application(client_max_size=MAX_BODY)
        self.app.router.add_route("*", "/bot{token}/{method}", self._handle_bot_api)
        self.app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self.app.router.add_routes(self.control.routes())
        self._runner: web.AppRunner | None = None

    # -- lifecycle ----------------------------------------------------------
    async def start(self) -> None:
        """Listen on ``host:port``; afterwards :attr:`port` is the real port."""
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port)
        await site.start()
        self._runner = runner
        server = site._server  # aiohttp does not expose the bound socket otherwise
        sockets = getattr(server, "sockets", None) or []
        self._port = sockets[0].getsockname()[1] if sockets else self._requested_port

    async def stop(self) -> None:
        """Wake all long polls (they answer empty) and shut the server down."""
        self.api.closing = True
        self.control.closing = True
        self._wake_all()
        await self.webhooks.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the emulator is not started")
        return self._port

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:8081`` (Bot API under ``/bot<token>/``)."""
        return f"http://{self.host}:{self.port}"

    # -- conveniences for in-process use -----------------------------------
    def add_bot(
        self, token: str, *, first_name: str | None = None, username: str | None = None
    ) -> BotAccount:
        """Register a bot by token (its id is the token's numeric prefix)."""
        return self.world.register_bot(token, first_name=first_name, username=username)

    def reset(self) -> None:
        """Clear users, chats, messages, updates, files, faults, stats and the clock.

        Registered bots, their webhooks and commands stay, and update ids keep
        increasing, so a bot that is polling keeps working without noticing.
        """
        self.world.reset()
        self.faults.clear()
        self.faults.reset_counters()
        self.stats.reset()
        self.clock.set_offset(0.0)
        enabled, scale = self._default_limits
        self.limiter.configure(enabled=enabled, scale=scale)

    def _wake_all(self) -> None:
        for bot in self.world.bots.values():
            bot.queue.notify()
            for chat in bot.chats.values():
                chat.wake()
            for cb in bot.callbacks.values():
                cb.event.set()

    # -- routes -------------------------------------------------------------
    async def _handle_bot_api(self, request: web.Request) -> web.Response:
        bot = self.world.bots_by_token.get(request.match_info["token"])
        if bot is None:
            return _json(UNAUTHORIZED.body(), 401)
        key = request.match_info["method"].lower()
        handler = self.api.handlers.get(key)
        if handler is None:
            self.stats.methods[request.match_info["method"]] += 1
            return _json(NOT_FOUND.body(), 404)
        name = self.api.names[key]
        self.stats.methods[name] += 1
        try:
            await self.faults.before_call(name)
            params = await read_params(request)
            result = await handler(bot, params)
        except ApiError as exc:
            self.stats.errors_by_status[exc.status] += 1
            if exc.status == 429:
                self.stats.too_many_requests += 1
            return _json(exc.body(), exc.status)
        except Exception:  # an emulator bug: answer like Telegram's 500, keep serving
            log.exception("tgemu: %s failed", name)
            self.stats.errors_by_status[500] += 1
            return _json(ApiError(500, "Internal Server Error").body(), 500)
        return _json({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.Response:
        bot = self.world.bots_by_token.get(request.match_info["token"])
        if bot is None:
            return _json(UNAUTHORIZED.body(), 401)
        stored = self.world.files.by_path(request.match_info["path"])
        if stored is None:
            return _json(NOT_FOUND.body(), 404)
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )
