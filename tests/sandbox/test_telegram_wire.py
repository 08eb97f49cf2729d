"""The Bot API's wire format, below any client library: encodings, envelopes and status codes."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from sandbox.runner import SandboxThread
from sandbox.telegram_spec import check_result
from tests.sandbox.telegram_fixtures import jpeg

NEWS = -1001000000001


@pytest.fixture
def api(sandbox: SandboxThread) -> Iterator[httpx.Client]:
    token = sandbox.sandbox.fixtures.bot_token
    with httpx.Client(base_url=f"{sandbox.base_url}/bot{token}/") as client:
        yield client


def test_json_body(api: httpx.Client) -> None:
    answer = api.post(
        "sendMessage",
        json={
            "chat_id": NEWS,
            "text": "json",
            "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]},
        },
    ).json()
    assert answer["ok"] is True
    assert answer["result"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "b"
    assert check_result("sendMessage", answer["result"]) == []


def test_query_string_and_get(api: httpx.Client) -> None:
    answer = api.get("sendMessage", params={"chat_id": "@library_news", "text": "via GET"}).json()
    assert answer["result"]["text"] == "via GET"
    assert api.get("GETME").json()["result"]["is_bot"] is True  # method names ignore case


def test_form_body_with_json_encoded_values(api: httpx.Client) -> None:
    markup = json.dumps({"inline_keyboard": [[{"text": "Site", "url": "https://library.example"}]]})
    answer = api.post(
        "sendMessage", data={"chat_id": str(NEWS), "text": "form", "reply_markup": markup}
    )
    assert (
        answer.json()["result"]["reply_markup"]["inline_keyboard"][0][0]["url"]
        == "https://library.example"
    )
    bad = api.post("sendMessage", data={"chat_id": str(NEWS), "text": "x", "reply_markup": "{nope"})
    assert bad.json()["description"] == "Bad Request: can't parse reply keyboard markup JSON object"


def test_multipart_with_attach_references(api: httpx.Client) -> None:
    media = [
        {"type": "photo", "media": "attach://one", "caption": "a"},
        {"type": "photo", "media": "attach://two"},
    ]
    answer = api.post(
        "sendMediaGroup",
        data={"chat_id": str(NEWS), "media": json.dumps(media)},
        files={
            "one": ("one.jpg", jpeg(30, 20), "image/jpeg"),
            "two": ("two.jpg", jpeg(20, 30), "image/jpeg"),
        },
    ).json()
    assert [m["photo"][-1]["width"] for m in answer["result"]] == [30, 20]
    missing = api.post(
        "sendMediaGroup",
        data={"chat_id": str(NEWS), "media": json.dumps(media)},
        files={"one": ("one.jpg", jpeg(30, 20), "image/jpeg")},
    )
    assert missing.json()["description"] == "Bad Request: can't parse InputMedia: media not found"


def test_error_envelopes(sandbox: SandboxThread, api: httpx.Client) -> None:
    unknown = api.post("sendTelepathy")
    assert (unknown.status_code, unknown.json()) == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )
    bad_token = httpx.post(f"{sandbox.base_url}/bot1:nope/getMe")
    assert (bad_token.status_code, bad_token.json()) == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    missing = api.post("sendMessage", data={"chat_id": str(NEWS)})
    assert missing.status_code == 400
    assert missing.json() == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: message text is empty",
    }


def test_webhook_answers_carry_a_description(api: httpx.Client) -> None:
    first = api.post("setWebhook", data={"url": "http://127.0.0.1:9/hook"}).json()
    assert first == {"ok": True, "result": True, "description": "Webhook was set"}
    again = api.post("setWebhook", data={"url": "http://127.0.0.1:9/hook"}).json()
    assert again["description"] == "Webhook is already set"
    assert api.post("deleteWebhook").json()["description"] == "Webhook was deleted"
    assert api.post("deleteWebhook").json()["description"] == "Webhook is already deleted"
    bad = api.post("setWebhook", data={"url": "ftp://x"}).json()
    assert bad["description"] == "Bad Request: invalid webhook URL specified"
