"""Seeding the page's feeds through the real clients: python-telegram-bot for a channel and the
bot's private chats, facebook-sdk for a Page and the Instagram account.

Every helper here is synchronous, so browser tests (whose Playwright API is synchronous) and
plain tests share them; PTB calls run in a loop of their own on a worker thread.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

import facebook
from PIL import Image
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update

from sandbox.runner import SandboxThread

T = TypeVar("T")

NEWS = -1001000000001
CHANNEL_CAPTION = "<b>Poetry night</b> at the Regional Library, Friday 19:00 #poetry"
CHANNEL_CAPTION_SHOWN = "Poetry night at the Regional Library, Friday 19:00 #poetry"
# What a careless renderer would turn into markup: the page must show it as text.
HOSTILE_TEXT = 'Board games <img src="x" onerror="window.__xss=1"> & <b>chess</b> club'
PAGE_CAPTION = "New books this week: three novels and a cookbook. #newbooks"
IG_CAPTION = "Reading corner, freshly painted ☀️ #library"


def jpeg(
    width: int = 800, height: int = 600, colour: tuple[int, int, int] = (30, 120, 200)
) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="JPEG")
    return buffer.getvalue()


def png(width: int = 320, height: int = 240) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (240, 160, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def with_bot(sandbox: SandboxThread, action: Callable[[Bot], Awaitable[T]]) -> T:
    """Run `action(bot)` with an initialised PTB Bot pointed at the sandbox."""

    async def run() -> T:
        base = sandbox.base_url
        bot = Bot(
            sandbox.sandbox.fixtures.bot_token,
            base_url=f"{base}/bot",
            base_file_url=f"{base}/file/bot",
        )
        async with bot:
            return await action(bot)

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, run()).result(timeout=60)


def next_updates(sandbox: SandboxThread, wait_seconds: float = 5) -> tuple[Update, ...]:
    """The updates the bot has not confirmed yet (long-polling until one arrives), confirmed."""

    async def fetch(bot: Bot) -> tuple[Update, ...]:
        updates = await bot.get_updates(timeout=timedelta(seconds=wait_seconds))
        if updates:
            await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
        return updates

    return with_bot(sandbox, fetch)


def graph_client(sandbox: SandboxThread, token: str) -> facebook.GraphAPI:
    facebook.FACEBOOK_GRAPH_URL = sandbox.base_url + "/graph/"
    api = facebook.GraphAPI(access_token=token, timeout=5)
    api.version = "v21.0"
    return api


@dataclass(frozen=True)
class Seeded:
    channel_photo_id: int
    page_photo_post_id: str
    page_text_post_id: str
    ig_media_id: str


def seed_feeds(sandbox: SandboxThread) -> Seeded:
    """A channel photo post with buttons, two Page posts and one Instagram photo."""
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Register", url="https://library.example/poetry"),
                InlineKeyboardButton("Remind me", callback_data="remind:poetry"),
            ]
        ]
    )

    async def post(bot: Bot) -> int:
        await bot.send_message(NEWS, "Opening hours change on Monday.")
        message = await bot.send_photo(
            NEWS, jpeg(), caption=CHANNEL_CAPTION, parse_mode="HTML", reply_markup=keyboard
        )
        return message.message_id

    channel_photo_id = with_bot(sandbox, post)
    fixtures = sandbox.sandbox.fixtures
    page = fixtures.pages[0]
    page_api = graph_client(sandbox, page.access_token)
    photo = page_api.put_photo(io.BytesIO(jpeg(colour=(200, 60, 30))), message=PAGE_CAPTION)
    text_post = page_api.put_object(page.id, "feed", message=HOSTILE_TEXT)
    account = fixtures.instagram[0]
    ig_api = graph_client(sandbox, account.access_token)
    container = ig_api.put_object(
        account.id,
        "media",
        image_url=f"{sandbox.base_url}/graph-cdn/{photo['id']}",
        caption=IG_CAPTION,
    )["id"]
    sandbox.call(lambda: sandbox.sandbox.clock.advance(10))  # processing takes sandbox time
    assert ig_api.get_object(container, fields="status_code")["status_code"] == "FINISHED"
    media = ig_api.put_object(account.id, "media_publish", creation_id=container)
    return Seeded(channel_photo_id, photo["post_id"], text_post["id"], media["id"])
