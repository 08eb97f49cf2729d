"""Webhook mode: Telegram (the sandbox) posts updates to Afisha's web port with the secret."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestClient, TestServer

from afisha.config import Settings
from afisha.web import make_web_app
from afisha.webhook import SECRET_HEADER, WEBHOOK_PATH, WebhookSink
from afisha.wiring import open_afisha
from bot.app import build_application, run_webhook
from bot.services import BotServices
from channels.download import download_image
from content.storage.registry import add_staff
from sandbox.runner import SandboxThread
from sandbox.telegram_state import telegram_state
from scheduler.clock import SystemClock

SECRET = "s3cret_for-the-webhook"


async def test_updates_arrive_by_webhook_and_only_with_the_secret(
    sandbox: SandboxThread, tmp_path: Path
) -> None:
    fixtures = sandbox.sandbox.fixtures
    afisha = open_afisha(Settings(database_url=f"sqlite:///{tmp_path}/afisha.db", language="en"))
    with afisha.transaction() as (session, org):
        add_staff(session, org, fixtures.staff_user_id, "Aigerim", "admin", "en", "test")
    services = BotServices(
        afisha.sessions, SystemClock(), tmp_path / "media", "en", fetch_image=download_image
    )
    application = build_application(services, fixtures.bot_token, sandbox.base_url)
    sink = WebhookSink(SECRET)
    sink.application = application
    server = TestServer(make_web_app(afisha, sink), host="127.0.0.1")
    await server.start_server()
    stop = asyncio.Event()
    url = str(server.make_url(WEBHOOK_PATH))
    running = asyncio.create_task(run_webhook(application, stop, url, SECRET))
    try:
        async with ClientSession() as client:
            forged = await client.post(url, json={"update_id": 1}, headers={SECRET_HEADER: "guess"})
            assert forged.status == 403
            missing = await client.post(url, json={"update_id": 1})
            assert missing.status == 403
        for _ in range(100):  # until set_webhook has gone through
            if sandbox.call(lambda: telegram_state(sandbox.sandbox).webhook) is not None:
                break
            await asyncio.sleep(0.05)
        state = telegram_state(sandbox.sandbox)
        sandbox.call(lambda: state.inject_message(fixtures.staff_user_id, "/start"))
        for _ in range(100):  # the sandbox delivers to the webhook; the bot answers
            history = sandbox.call(lambda: state.chat_history(fixtures.staff_user_id))
            if any(m["sender"] == "bot" for m in history):
                break
            await asyncio.sleep(0.05)
        replies = [m["text"] for m in history if m["sender"] == "bot"]
        assert replies
        assert replies[0].startswith("Hello, Aigerim!")
    finally:
        stop.set()
        await running
        await server.close()
        afisha.close()


@pytest.mark.parametrize(
    "body",
    [b"[]", b"[{}]", b'"update"', b"42", b"null", b"true", b"{", b"\xff\xfe", b"", b"{}",
     b'{"update_id": "7"}', b'{"update_id": true}', b'{"update_id": 1.5}',
     b'{"update_id": 3, "message": []}', b'{"update_id": 3, "callback_query": "x"}'],
)  # fmt: skip
async def test_a_body_that_is_not_an_update_is_refused_with_400(
    sandbox: SandboxThread, tmp_path: Path, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    fixtures = sandbox.sandbox.fixtures
    afisha = open_afisha(Settings(database_url=f"sqlite:///{tmp_path}/afisha.db", language="en"))
    services = BotServices(
        afisha.sessions, SystemClock(), tmp_path / "media", "en", fetch_image=download_image
    )
    sink = WebhookSink(SECRET)
    sink.application = build_application(services, fixtures.bot_token, sandbox.base_url)
    try:
        async with TestClient(TestServer(make_web_app(afisha, sink))) as client:
            with caplog.at_level(logging.INFO):
                response = await client.post(
                    WEBHOOK_PATH, data=body, headers={SECRET_HEADER: SECRET}
                )
        assert response.status == 400
        assert sink.application.update_queue.empty()
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    finally:
        afisha.close()
