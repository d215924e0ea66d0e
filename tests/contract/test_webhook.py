"""The webhook receiver commits before it answers 200, and refuses what is not Telegram's.

Run on both databases through aiohttp's test server; the process-level tests
are in ``tests/e2e/test_webhook.py``.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.config import load_settings
from bot.webhook import MAX_BODY_BYTES, SECRET_HEADER, WebhookReceiver, parse_update, webhook_path
from storage.database import Database
from storage.runtime_status import LAST_WEBHOOK_UPDATE
from tests.helpers import SHIPPED_CONFIG
from tests.telegram_updates import update_json

SECRET = "the-webhook-secret_0123456789"
PATH = "/telegram"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class Receiver:
    """The receiver under test, its HTTP client, and what it told the feeder."""

    def __init__(self, database: Database, client: TestClient, woken: list[list[int]]) -> None:
        self.database = database
        self.client = client
        self.woken = woken

    async def post(self, body: bytes | dict[str, object], secret: str | None = SECRET) -> int:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        async with self.client.post(PATH, data=io.BytesIO(data), headers=headers) as response:
            return response.status

    async def stored(self) -> dict[str, int]:
        async with self.database.uow(read_only=True) as uow:
            return await uow.inbox.counts()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def receiver(database: Database, tmp_path: Path, clock: Clock) -> AsyncIterator[Receiver]:
    settings = load_settings(SHIPPED_CONFIG, {"XIESHANG_DATA_DIR": str(tmp_path)})
    woken: list[list[int]] = []
    app = WebhookReceiver(
        database,
        settings,
        path=PATH,
        secret=SECRET,
        on_stored=lambda ids: woken.append(list(ids)),
        clock=clock,
    ).application()
    async with TestClient(TestServer(app)) as client:
        yield Receiver(database, client, woken)


async def test_an_update_is_committed_before_the_200_and_the_feeder_is_woken(
    receiver: Receiver,
) -> None:
    status = await receiver.post(update_json(501))

    assert status == 200
    assert await receiver.stored() == {"pending": 1}
    assert receiver.woken == [[501]]
    async with receiver.database.uow(read_only=True) as uow:
        (item,) = await uow.inbox.pending(0, 10)
    assert item.update_id == 501
    assert item.sender_key == 10_000_001
    assert json.loads(item.payload)["message"]["text"] == "/help"


async def test_an_update_delivered_twice_is_stored_once(receiver: Receiver) -> None:
    assert await receiver.post(update_json(502)) == 200
    assert await receiver.post(update_json(502)) == 200

    assert await receiver.stored() == {"pending": 1}


@pytest.mark.parametrize("secret", [None, "wrong-secret", SECRET + "x", "", "秘密"])
async def test_a_request_without_the_right_secret_is_refused_and_not_stored(
    receiver: Receiver, secret: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.webhook"):
        status = await receiver.post(update_json(503), secret=secret)

    assert status == 403
    assert await receiver.stored() == {}
    assert receiver.woken == []
    assert "secret token" in caplog.text
    if secret:
        assert secret not in caplog.text


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe",
        b"[1, 2]",
        b'{"message": {}}',
        b'{"update_id": "7"}',
        b'{"update_id": 7, "message": "text"}',
    ],
)
async def test_a_body_that_is_not_an_update_is_a_bad_request(
    receiver: Receiver, body: bytes
) -> None:
    assert await receiver.post(body) == 400
    assert await receiver.stored() == {}


async def test_a_body_over_the_limit_is_refused(receiver: Receiver) -> None:
    huge = update_json(504, text="x" * (MAX_BODY_BYTES + 10))

    assert await receiver.post(huge) == 413
    assert await receiver.stored() == {}


async def test_a_chunked_body_over_the_limit_is_refused_too(receiver: Receiver) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b" " * 65536

    async with receiver.client.post(
        PATH, data=chunks(), headers={SECRET_HEADER: SECRET}
    ) as response:
        assert response.status == 413
    assert await receiver.stored() == {}


async def test_other_methods_and_paths_are_not_served(receiver: Receiver) -> None:
    async with receiver.client.get(PATH) as response:
        assert response.status == 405
    async with receiver.client.post(
        "/elsewhere", json=update_json(505), headers={SECRET_HEADER: SECRET}
    ) as response:
        assert response.status == 404
    assert await receiver.stored() == {}


async def test_the_last_webhook_update_is_recorded_at_most_every_15_seconds(
    receiver: Receiver, clock: Clock
) -> None:
    first = clock.now
    await receiver.post(update_json(506))
    clock.now = first + timedelta(seconds=10)
    await receiver.post(update_json(507))

    async with receiver.database.uow(read_only=True) as uow:
        recorded = await uow.runtime_status.get(LAST_WEBHOOK_UPDATE)
    assert recorded is not None
    assert recorded.updated_at == first

    clock.now = first + timedelta(seconds=16)
    await receiver.post(update_json(508))
    async with receiver.database.uow(read_only=True) as uow:
        recorded = await uow.runtime_status.get(LAST_WEBHOOK_UPDATE)
    assert recorded is not None
    assert recorded.updated_at == first + timedelta(seconds=16)


async def test_healthz_answers_the_health_report_as_json(receiver: Receiver) -> None:
    async with receiver.client.get("/healthz") as response:
        body = await response.json()
        status = response.status

    # Local mode by these settings, and no poller ever recorded a getUpdates.
    assert status == 503
    assert body["healthy"] is False
    assert body["problems"] == ["not_polling"]
    assert body["database"] == {"reachable": True}
    assert body["inbox"] == {"pending": 0}


def test_the_receiver_serves_the_path_of_the_webhook_url() -> None:
    assert webhook_path("https://bot.example.org/telegram/hook") == "/telegram/hook"
    assert webhook_path("https://bot.example.org") == "/"


def test_parse_update_keeps_unknown_fields() -> None:
    data = update_json(509)
    data["some_future_field"] = {"x": 1}

    update = parse_update(json.dumps(data).encode())

    assert update is not None
    assert update.to_dict()["some_future_field"] == {"x": 1}
