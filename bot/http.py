"""python-telegram-bot's HTTP requests over aiohttp instead of httpx.

PTB's default ``HTTPXRequest`` spends most of the bot's CPU in httpcore's
connection pool once a few dozen requests are in flight: every request scans
every pooled connection and asks its socket whether it expired
(telegram-facts.md; encode/httpcore PR #1035). Profiling the bot under the P1
benchmark put a fifth of all CPU time in ``has_expired`` alone. aiohttp, already
a dependency for the emulator and the webhook receiver, keeps idle connections
in a per-host deque instead. PTB accepts any :class:`~telegram.request.BaseRequest`
(``ApplicationBuilder().request(...)`` and ``.get_updates_request(...)``), so the
swap changes nothing else: the same timeouts, the same errors (``TimedOut``,
``NetworkError``) and the same form or multipart bodies.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 5.0
DEFAULT_WRITE_TIMEOUT = 5.0
MEDIA_WRITE_TIMEOUT = 20.0
"""PTB's defaults (``HTTPXRequest``): uploads get longer to write."""


class AiohttpRequest(BaseRequest):
    """A :class:`~telegram.request.BaseRequest` on one ``aiohttp.ClientSession``.

    ``connections`` bounds the connections open at once (PTB's ``connection_pool_size``).
    """

    def __init__(
        self,
        connections: int = 8,
        *,
        read_timeout: float | None = DEFAULT_READ_TIMEOUT,
        connect_timeout: float | None = DEFAULT_CONNECT_TIMEOUT,
        write_timeout: float | None = DEFAULT_WRITE_TIMEOUT,
    ) -> None:
        self._connections = connections
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._write_timeout = write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("this AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data else None
        read = self._read_timeout if _is_default(read_timeout) else read_timeout
        connect = self._connect_timeout if _is_default(connect_timeout) else connect_timeout
        pool = None if _is_default(pool_timeout) else pool_timeout
        # aiohttp has no separate write timeout; a slow upload counts against the total.
        write = (
            (MEDIA_WRITE_TIMEOUT if files else self._write_timeout)
            if _is_default(write_timeout)
            else write_timeout
        )
        total = None if read is None or write is None else read + write + (connect or 0.0)
        timeout = aiohttp.ClientTimeout(
            total=total, connect=pool, sock_connect=connect, sock_read=read
        )
        try:
            async with self._session.request(
                method, url, data=_body(request_data), timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientConnectorError as error:  # never reached Telegram: safe to retry
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error
        except aiohttp.ClientError as error:
            # The request may have been written and acted on (a reset, a cut answer):
            # TimedOut, which nothing resends blindly, rather than NetworkError.
            raise TimedOut(f"aiohttp.{type(error).__name__}: {error}") from error
        except asyncio.CancelledError:
            raise


def _is_default(value: object) -> bool:
    return isinstance(value, type(BaseRequest.DEFAULT_NONE))


def _body(request_data: RequestData | None) -> aiohttp.FormData | None:
    """The form (or multipart form, with files) PTB would send, as aiohttp builds it."""
    if request_data is None:
        return None
    form = aiohttp.FormData(quote_fields=False)
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    if request_data.contains_files:
        for name, (filename, content, mimetype) in request_data.multipart_data.items():
            form.add_field(name, content, filename=filename, content_type=mimetype)
    return form
