"""The sandbox's admin API under /_sandbox/."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest

from sandbox.runner import SandboxThread
from tests.sandbox.telegram_fixtures import jpeg

NEWS = -1001000000001


@pytest.fixture
def admin(sandbox: SandboxThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{sandbox.base_url}/_sandbox/") as client:
        yield client


@pytest.fixture
def api(sandbox: SandboxThread) -> Iterator[httpx.Client]:
    token = sandbox.sandbox.fixtures.bot_token
    with httpx.Client(base_url=f"{sandbox.base_url}/bot{token}/") as client:
        yield client


def test_fixtures(admin: httpx.Client, sandbox: SandboxThread) -> None:
    fixtures = admin.get("fixtures").json()
    assert fixtures["bot_token"] == sandbox.sandbox.fixtures.bot_token
    assert {c["id"] for c in fixtures["chats"]} >= {NEWS}


def test_ledger_lists_items_and_calls_and_reset_clears(
    admin: httpx.Client, api: httpx.Client
) -> None:
    api.post("sendMessage", data={"chat_id": str(NEWS), "text": "hello"})
    api.post("sendMessage", data={"chat_id": str(NEWS)})
    ledger = admin.get("ledger").json()
    assert [(i["target"], i["text"]) for i in ledger["items"]] == [(str(NEWS), "hello")]
    assert ledger["calls"] == {"telegram.sendMessage": 2}
    assert admin.post("reset").json() == {"ok": True}
    assert admin.get("ledger").json() == {"items": [], "calls": {}}


def test_clock(admin: httpx.Client) -> None:
    before = admin.get("clock").json()["timestamp"]
    after = admin.post("clock/advance", json={"seconds": 3600}).json()["timestamp"]
    assert after - before >= 3600
    refused = admin.post("clock/advance", json={"seconds": -1})
    assert refused.status_code == 400
    assert "only moves forward" in refused.json()["error"]


def test_faults(admin: httpx.Client, api: httpx.Client) -> None:
    configured = admin.post("faults", json={"spec": "sendMessage:429=1", "retry_after": 9}).json()
    assert configured["rules"] == {"sendMessage": {"429": 1.0}}
    throttled = api.post("sendMessage", data={"chat_id": str(NEWS), "text": "x"}).json()
    assert throttled["parameters"] == {"retry_after": 9}
    assert throttled["description"] == "Too Many Requests: retry after 9"
    admin.post("faults", json={"spec": ""})
    admin.post("faults/force", json={"method": "getMe", "kind": "429"})
    assert api.post("getMe").status_code == 429
    assert api.post("getMe").status_code == 200
    assert admin.get("faults").json()["injected"][-1] == {"method": "getMe", "kind": "429"}
    assert admin.post("faults", json={"spec": "x:boom=1"}).status_code == 400


def test_revoke(admin: httpx.Client, api: httpx.Client, sandbox: SandboxThread) -> None:
    admin.post("revoke", json={"token": sandbox.sandbox.fixtures.bot_token})
    assert api.post("getMe").status_code == 401


def test_limits(admin: httpx.Client) -> None:
    limits = admin.post("limits", json={"overall_per_second": 5, "per_chat_per_minute": 3}).json()
    assert limits == {"telegram_flood": True, "overall_per_second": 5, "per_chat_per_minute": 3}
    assert admin.post("limits", json={"telegram_flood": False}).json()["telegram_flood"] is False


def test_inject_and_read_chats(
    admin: httpx.Client, api: httpx.Client, sandbox: SandboxThread
) -> None:
    staff = sandbox.sandbox.fixtures.staff_user_id
    message = admin.post(
        "telegram/updates", json={"type": "message", "user_id": staff, "text": "/start"}
    )
    assert message.json()["update"]["message"]["text"] == "/start"
    image = base64.b64encode(jpeg(64, 48)).decode()
    photo = admin.post(
        "telegram/updates", json={"type": "photo", "user_id": staff, "image_base64": image}
    )
    assert photo.json()["update"]["message"]["photo"][-1]["width"] == 64
    made_up = admin.post("telegram/updates", json={"type": "photo", "user_id": staff}).json()
    assert made_up["update"]["message"]["photo"]
    api.post("sendMessage", data={"chat_id": str(staff), "text": "Welcome!"})
    chat = admin.get(f"telegram/chats/{staff}/messages").json()
    assert chat["chat"]["type"] == "private"
    assert [(m["sender"], m["text"]) for m in chat["messages"]] == [
        ("user", "/start"),
        ("user", None),
        ("user", None),
        ("bot", "Welcome!"),
    ]
    path = chat["messages"][1]["photo"]["file_path"]
    assert admin.get(f"telegram/files/{path}").content.startswith(b"\xff\xd8")
    assert admin.post("telegram/updates", json={"type": "sticker"}).status_code == 400
    assert admin.get("telegram/chats/12345/messages").status_code == 400
