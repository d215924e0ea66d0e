"""The HTTP surface as Telegram shapes it: tokens, methods, body encodings, files, CLI."""

from __future__ import annotations

import asyncio
import json
import sys

import httpx
import pytest

from tgemu import Emulator
from tgemu.client import EmulatorClient

from .conftest import BOT_ID, TOKEN, png


@pytest.fixture
async def http(emulator: Emulator):
    async with httpx.AsyncClient(base_url=emulator.url) as c:
        yield c


async def test_an_unknown_token_gets_401_like_telegram(http: httpx.AsyncClient):
    r = await http.post("/bot999:nope/getMe")
    assert r.status_code == 401
    assert r.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


async def test_an_unknown_method_gets_404_and_names_are_case_insensitive(
    http: httpx.AsyncClient,
):
    r = await http.post(f"/bot{TOKEN}/sendTelepathy")
    assert r.status_code == 404
    assert r.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    r = await http.get(f"/bot{TOKEN}/GETME")
    assert r.json()["result"]["id"] == BOT_ID


async def test_parameters_arrive_by_query_form_json_or_multipart(
    http: httpx.AsyncClient, client: EmulatorClient
):
    user = await client.create_user()
    await user.send_text("hi")
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    url = f"/bot{TOKEN}/sendMessage"
    by_query = await http.get(url, params={"chat_id": str(user.id), "text": "q"})
    by_form = await http.post(
        url, data={"chat_id": str(user.id), "text": "f", "reply_markup": json.dumps(markup)}
    )
    by_json = await http.post(url, json={"chat_id": user.id, "text": "j", "reply_markup": markup})
    by_multipart = await http.post(
        f"/bot{TOKEN}/sendPhoto",
        data={"chat_id": str(user.id), "photo": "attach://pic", "caption": "m"},
        files={"pic": ("p.png", png(3, 4), "image/png")},
    )
    results = [r.json()["result"] for r in (by_query, by_form, by_json, by_multipart)]
    assert [r.get("text", r.get("caption")) for r in results] == ["q", "f", "j", "m"]
    assert results[1]["reply_markup"] == markup == results[2]["reply_markup"]
    ids = [r["message_id"] for r in results]
    assert ids == sorted(ids)
    assert len(set(ids)) == 4
    assert results[0]["from"]["is_bot"] is True
    assert results[0]["chat"] == {"id": user.id, "first_name": "Test", "type": "private"}
    assert isinstance(results[0]["date"], int)
    assert results[3]["photo"][0]["width"] == 3


async def test_a_file_download_serves_bytes_and_404s_for_unknown_paths(
    http: httpx.AsyncClient, client: EmulatorClient
):
    user = await client.create_user()
    sent = await user.send_voice(b"OggS-voice", duration=3)
    file_id = sent.message["voice"]["file_id"]
    assert sent.message["voice"]["duration"] == 3
    info = (await http.post(f"/bot{TOKEN}/getFile", json={"file_id": file_id})).json()["result"]
    data = await http.get(f"/file/bot{TOKEN}/{info['file_path']}")
    assert data.content == b"OggS-voice"
    assert (await http.get(f"/file/bot{TOKEN}/voice/nope.oga")).status_code == 404
    bad = await http.post(f"/bot{TOKEN}/getFile", json={"file_id": "nope"})
    assert bad.status_code == 400


async def test_markdown_is_refused_and_sending_by_url_is_refused(
    http: httpx.AsyncClient, client: EmulatorClient
):
    user = await client.create_user()
    await user.send_text("hi")
    r = await http.post(
        f"/bot{TOKEN}/sendMessage",
        json={"chat_id": user.id, "text": "*x*", "parse_mode": "MarkdownV2"},
    )
    assert r.status_code == 400
    assert r.json()["description"].startswith("Bad Request: can't parse entities")
    r = await http.post(
        f"/bot{TOKEN}/sendPhoto", json={"chat_id": user.id, "photo": "https://e.org/a.jpg"}
    )
    assert r.status_code == 400


async def test_a_lone_surrogate_is_refused_as_not_utf8(
    http: httpx.AsyncClient, client: EmulatorClient
):
    user = await client.create_user()
    await user.send_text("hi")
    r = await http.post(
        f"/bot{TOKEN}/sendMessage",
        content=b'{"chat_id": %d, "text": "\\ud800"}' % user.id,
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 400
    assert r.json()["description"] == "Bad Request: strings must be encoded in UTF-8"


async def test_user_messages_of_every_kind_reach_get_updates(
    http: httpx.AsyncClient, client: EmulatorClient
):
    user = await client.create_user(username="wangfang", language_code="zh-hans")
    await user.send_location(31.2, 121.5)
    await user.send_contact("+8613800000000")
    await user.send_document(b"%PDF-1.4", file_name="a.pdf", mime_type="application/pdf")
    updates = (await http.post(f"/bot{TOKEN}/getUpdates")).json()["result"]
    messages = [u["message"] for u in updates]
    assert messages[0]["location"] == {"latitude": 31.2, "longitude": 121.5}
    assert messages[1]["contact"]["phone_number"] == "+8613800000000"
    assert messages[2]["document"]["mime_type"] == "application/pdf"
    assert messages[0]["from"] == {
        "id": user.id,
        "is_bot": False,
        "first_name": "Test",
        "username": "wangfang",
        "language_code": "zh-hans",
    }


async def test_the_emulator_runs_from_the_command_line():
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tgemu",
        "--port",
        "0",
        "--token",
        TOKEN,
        "--limit-scale",
        "2",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode()
        url = line.rsplit(" ", 1)[-1].strip()
        async with httpx.AsyncClient(base_url=url) as http:
            me = (await http.get(f"/bot{TOKEN}/getMe")).json()
            limits = (await http.get("/control/limits")).json()["result"]
        assert me["result"]["id"] == BOT_ID
        assert limits["scale"] == 2
    finally:
        proc.terminate()
        await proc.wait()
    assert proc.returncode == 0
