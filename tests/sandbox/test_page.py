"""The sandbox page's data: `GET /_sandbox/feeds` and the chat flows the page drives."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

from sandbox.page import STATIC
from sandbox.page.feeds import format_spec
from sandbox.runner import SandboxThread
from tests.sandbox.page_fixtures import (
    CHANNEL_CAPTION_SHOWN,
    HOSTILE_TEXT,
    IG_CAPTION,
    NEWS,
    PAGE_CAPTION,
    jpeg,
    next_updates,
    png,
    seed_feeds,
    with_bot,
)


@pytest.fixture
def web(sandbox: SandboxThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.base_url) as client:
        yield client


def feeds(web: httpx.Client) -> dict[str, Any]:
    response = web.get("/_sandbox/feeds")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    data: dict[str, Any] = response.json()
    return data


def feed(data: dict[str, Any], platform: str, account_id: str | int) -> dict[str, Any]:
    return next(f for f in data[platform] if f["id"] == str(account_id))


def test_page_and_its_assets_are_served(web: httpx.Client) -> None:
    index = web.get("/")
    assert index.headers["content-type"].startswith("text/html")
    assert '<script src="/page/page.js"' in index.text
    for name, kind in (("page.js", "text/javascript"), ("page.css", "text/css")):
        asset = web.get(f"/page/{name}")
        assert asset.status_code == 200
        assert asset.headers["content-type"].startswith(kind)
    assert web.get("/page/__init__.py").status_code == 404
    assert web.get("/page/index.html").status_code == 404


def test_the_page_builds_no_markup_from_text_and_fetches_nothing_from_outside() -> None:
    script = (STATIC / "page.js").read_text()
    for risky in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert risky not in script
    for asset in STATIC.iterdir():
        assert "//cdn" not in asset.read_text()
        assert 'src="http' not in asset.read_text()


def test_every_account_is_listed_before_anything_is_published(
    web: httpx.Client, sandbox: SandboxThread
) -> None:
    data = feeds(web)
    fixtures = sandbox.sandbox.fixtures
    assert [f["id"] for f in data["telegram"]] == [str(c.id) for c in fixtures.chats]
    assert [f["name"] for f in data["facebook"]] == [p.name for p in fixtures.pages]
    assert [f["handle"] for f in data["instagram"]] == ["@regional_library"]
    assert all(not f["posts"] for p in ("telegram", "facebook", "instagram") for f in data[p])
    assert feed(data, "telegram", -1001000000003)["note"] == "the bot is not an admin here"
    assert [u["id"] for u in data["users"]] == [fixtures.staff_user_id, fixtures.follower_user_id]
    assert data["bot"]["username"] == fixtures.bot_username
    assert data["faults"]["spec"] == ""


def test_published_posts_appear_newest_first_with_text_images_and_buttons(
    web: httpx.Client, sandbox: SandboxThread
) -> None:
    seeded = seed_feeds(sandbox)
    data = feeds(web)
    channel = feed(data, "telegram", NEWS)["posts"]
    assert [p["text"] for p in channel] == [
        CHANNEL_CAPTION_SHOWN,
        "Opening hours change on Monday.",
    ]
    assert channel[0]["id"] == str(seeded.channel_photo_id)
    assert channel[0]["entities"] == [{"offset": 0, "length": 12, "type": "bold"}]
    assert channel[0]["buttons"] == [
        [
            {"text": "Register", "url": "https://library.example/poetry"},
            {"text": "Remind me", "callback_data": "remind:poetry"},
        ]
    ]
    page = feed(data, "facebook", sandbox.sandbox.fixtures.pages[0].id)["posts"]
    assert [p["id"] for p in page] == [seeded.page_text_post_id, seeded.page_photo_post_id]
    assert [p["text"] for p in page] == [HOSTILE_TEXT, PAGE_CAPTION]
    instagram = data["instagram"][0]["posts"]
    assert [(p["id"], p["text"]) for p in instagram] == [(seeded.ig_media_id, IG_CAPTION)]
    for posts in (channel, page, instagram):
        stamps = [p["timestamp"] for p in posts]
        assert stamps == sorted(stamps, reverse=True)
    assert [len(p["images"]) for p in channel + page + instagram] == [1, 0, 0, 1, 1]


def test_text_is_passed_verbatim_for_the_page_to_escape(
    web: httpx.Client, sandbox: SandboxThread
) -> None:
    async def post(bot: Bot) -> None:
        await bot.send_message(NEWS, HOSTILE_TEXT)  # no parse mode: the markup is plain text
        await bot.send_message(NEWS, "<b>Bold</b> &lt;tag&gt; &amp; more", parse_mode="HTML")

    with_bot(sandbox, post)
    posts = feed(feeds(web), "telegram", NEWS)["posts"]
    assert [p["text"] for p in posts] == ["Bold <tag> & more", HOSTILE_TEXT]
    assert posts[0]["entities"] == [{"offset": 0, "length": 4, "type": "bold"}]
    assert posts[1]["entities"] == []


def test_counts_are_present_and_grow_with_sandbox_time(
    web: httpx.Client, sandbox: SandboxThread
) -> None:
    seed_feeds(sandbox)
    before = feeds(web)
    channel_post = feed(before, "telegram", NEWS)["posts"][0]
    assert channel_post["counts"] == {"views": 0, "reactions": []}
    assert set(before["facebook"][0]["posts"][0]["counts"]) == {"reactions", "comments", "shares"}
    assert set(before["instagram"][0]["posts"][0]["counts"]) == {"likes", "comments"}
    web.post("/_sandbox/clock/advance", json={"seconds": 86400})
    after = feeds(web)
    assert after["clock"]["timestamp"] - before["clock"]["timestamp"] >= 86400
    counts = feed(after, "telegram", NEWS)["posts"][0]["counts"]
    assert counts["views"] > 0
    emoji = [r["emoji"] for r in counts["reactions"]]
    assert emoji[0] == "👍"
    shown = [r["count"] for r in counts["reactions"]]
    assert shown == sorted(shown, reverse=True)
    assert shown[0] > 0
    assert after["facebook"][0]["posts"][0]["counts"]["reactions"] > 0
    assert after["instagram"][0]["posts"][0]["counts"]["likes"] > 0


def test_image_urls_resolve_to_image_bytes(web: httpx.Client, sandbox: SandboxThread) -> None:
    seed_feeds(sandbox)
    data = feeds(web)
    urls = [
        image["url"]
        for platform in ("telegram", "facebook", "instagram")
        for account in data[platform]
        for post in account["posts"]
        for image in post["images"]
    ]
    assert len(urls) == 3
    for url in urls:
        assert url.startswith("/"), "relative, so the page works under any host name"
        image = web.get(url)
        assert image.status_code == 200
        assert image.headers["content-type"] == "image/jpeg"
        assert image.content.startswith(b"\xff\xd8")


def test_an_album_is_one_post_with_all_its_images(
    web: httpx.Client, sandbox: SandboxThread
) -> None:
    from telegram import InputMediaPhoto

    async def post(bot: Bot) -> None:
        await bot.send_media_group(
            NEWS, [InputMediaPhoto(jpeg(), caption="Two rooms"), InputMediaPhoto(jpeg(400, 300))]
        )

    with_bot(sandbox, post)
    (album,) = feed(feeds(web), "telegram", NEWS)["posts"]
    assert album["album"] is True
    assert album["text"] == "Two rooms"
    assert [i["width"] for i in album["images"]] == [800, 400]


def test_the_fault_spec_in_force_is_shown(web: httpx.Client) -> None:
    web.post("/_sandbox/faults", json={"spec": "sendMessage:429=0.2,5xx=0.1;*:drop_after=0.05"})
    web.post("/_sandbox/faults/force", json={"method": "feed", "kind": "slow"})
    faults = feeds(web)["faults"]
    assert faults["spec"] == "sendMessage:429=0.2,5xx=0.1;*:drop_after=0.05"
    assert faults["forced"] == ["feed:slow"]


def test_format_spec() -> None:
    assert format_spec({}) == ""
    assert format_spec({"feed": {"slow": 1.0}, "*": {"5xx": 0.25}}) == "feed:slow=1;*:5xx=0.25"


# --- the chat panel's flows: inject as a user, read the private chat, press buttons ---------------


def test_chat_messages_photos_and_button_presses_reach_the_bot(
    web: httpx.Client, sandbox: SandboxThread
) -> None:
    staff = sandbox.sandbox.fixtures.staff_user_id
    text = "<i>not italic</i> & /start"
    sent = web.post("/_sandbox/telegram/updates", json={"type": "message", "text": text})
    assert sent.json()["delivered"] is True
    photo = base64.b64encode(png()).decode()
    web.post(
        "/_sandbox/telegram/updates",
        json={"type": "photo", "user_id": staff, "image_base64": photo, "caption": "Poster"},
    )
    (message, photo_message) = next_updates(sandbox)
    assert message.message is not None
    assert message.message.text == text
    assert message.message.from_user is not None
    assert message.message.from_user.id == staff
    assert photo_message.message is not None
    assert photo_message.message.caption == "Poster"

    async def reply(bot: Bot) -> int:
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Publish", callback_data="pub:1")]])
        answer = await bot.send_message(staff, "Draft ready", reply_markup=keyboard)
        await bot.edit_message_text(
            "Draft ready (edited)", staff, answer.message_id, reply_markup=keyboard
        )
        return answer.message_id

    bot_message_id = with_bot(sandbox, reply)
    history = web.get(f"/_sandbox/telegram/chats/{staff}/messages").json()["messages"]
    assert [(m["sender"], m["text"]) for m in history] == [
        ("user", text),
        ("user", None),
        ("bot", "Draft ready (edited)"),
    ]
    assert history[2]["edit_date"] is not None
    assert history[2]["buttons"] == [[{"text": "Publish", "callback_data": "pub:1"}]]
    stored = web.get(f"/_sandbox/telegram/files/{history[1]['photo']['file_path']}")
    assert stored.content.startswith(b"\xff\xd8")  # Telegram re-encodes the PNG as JPEG

    pressed = web.post(
        "/_sandbox/telegram/updates",
        json={
            "type": "callback",
            "user_id": staff,
            "chat_id": staff,
            "message_id": bot_message_id,
            "data": "pub:1",
        },
    )
    query_id = pressed.json()["update"]["callback_query"]["id"]
    (update,) = next_updates(sandbox)
    assert update.callback_query is not None
    assert update.callback_query.data == "pub:1"
    assert web.get(f"/_sandbox/telegram/callbacks/{query_id}").json()["answered"] is False


def test_a_follower_presses_a_button_under_a_channel_post(
    web: httpx.Client, sandbox: SandboxThread
) -> None:
    seeded = seed_feeds(sandbox)
    follower = sandbox.sandbox.fixtures.follower_user_id
    pressed = web.post(
        "/_sandbox/telegram/updates",
        json={
            "type": "callback",
            "user_id": follower,
            "chat_id": NEWS,
            "message_id": seeded.channel_photo_id,
            "data": "remind:poetry",
        },
    )
    assert pressed.status_code == 200
    (update,) = next_updates(sandbox)
    query = update.callback_query
    assert query is not None
    assert query.from_user.id == follower
    assert query.message is not None
    assert query.message.chat.id == NEWS
    refused = web.post(
        "/_sandbox/telegram/updates",
        json={
            "type": "callback",
            "user_id": follower,
            "chat_id": NEWS,
            "message_id": seeded.channel_photo_id,
            "data": "not-a-button",
        },
    )
    assert refused.status_code == 400


def test_the_follower_has_a_chat_of_their_own(web: httpx.Client, sandbox: SandboxThread) -> None:
    fixtures = sandbox.sandbox.fixtures
    web.post(
        "/_sandbox/telegram/updates",
        json={"type": "message", "user_id": fixtures.follower_user_id, "text": "hi"},
    )
    follower = web.get(f"/_sandbox/telegram/chats/{fixtures.follower_user_id}/messages").json()
    staff = web.get(f"/_sandbox/telegram/chats/{fixtures.staff_user_id}/messages").json()
    assert [m["text"] for m in follower["messages"]] == ["hi"]
    assert staff["messages"] == []
