"""The sandbox page in headless Chromium (Debian's, driven by Playwright): feeds render from
the real clients' posts, the chat panel reaches the bot, the clock button grows engagement.

Run alone with `pytest -m browser`; a screenshot lands in /tmp for a person to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

from sandbox.runner import SandboxThread
from tests.sandbox.page_fixtures import (
    HOSTILE_TEXT,
    IG_CAPTION,
    NEWS,
    PAGE_CAPTION,
    next_updates,
    png,
    seed_feeds,
    with_bot,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, FilePayload, Locator, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = Path("/tmp/afisha-sandbox-page.png")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no headless Chromium at {CHROMIUM}: apt-get install -y chromium (.ci/run does)",
    ),
]
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is missing: pip install -e '.[test]'"
)
expect = sync_api.expect


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, sandbox: SandboxThread) -> Iterator[Page]:
    """The sandbox page at 1280 px; the test fails if the page's script throws."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.set_default_timeout(8000)
    yield tab
    context.close()
    assert errors == []


def column(page: Page, platform: str) -> Locator:
    return page.locator(f'[data-platform="{platform}"]')


def image_loaded(image: Locator) -> bool:
    return bool(image.evaluate("img => img.complete && img.naturalWidth > 0"))


def test_seeded_feeds_render_as_followers_see_them(page: Page, sandbox: SandboxThread) -> None:
    seed_feeds(sandbox)
    page.goto(sandbox.base_url + "/")

    telegram = column(page, "telegram")
    expect(telegram.locator(".post")).to_have_count(2)
    newest = telegram.locator(".post").first
    expect(newest.locator("strong")).to_have_text("Poetry night")  # the bold entity
    expect(newest).to_contain_text("Friday 19:00 #poetry")
    expect(newest.locator("a.inline-button")).to_have_attribute(
        "href", "https://library.example/poetry"
    )
    expect(newest.locator("button.inline-button")).to_have_text("Remind me")
    expect(telegram.locator(".post").nth(1)).to_contain_text("Opening hours change on Monday.")

    facebook = column(page, "facebook")
    expect(facebook.locator(".post")).to_have_count(2)
    hostile = facebook.locator(".post").first
    expect(hostile.locator(".text")).to_have_text(HOSTILE_TEXT)
    assert hostile.locator("img, b").count() == 0
    assert page.evaluate("window.__xss") is None
    expect(facebook.locator(".post").nth(1)).to_contain_text(PAGE_CAPTION)

    instagram = column(page, "instagram")
    expect(instagram.locator(".post")).to_contain_text(IG_CAPTION.split(" #")[0])
    expect(instagram.locator(".ig-likes")).to_have_text("0 likes")

    for platform in ("telegram", "facebook", "instagram"):
        image = column(page, platform).locator(".post img").first
        image.scroll_into_view_if_needed()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )
        assert image_loaded(image)


def test_chat_panel_sends_messages_photos_and_button_presses_to_the_bot(
    page: Page, sandbox: SandboxThread
) -> None:
    fixtures = sandbox.sandbox.fixtures
    staff, follower = fixtures.staff_user_id, fixtures.follower_user_id
    seeded = seed_feeds(sandbox)
    page.goto(sandbox.base_url + "/")
    chat = page.locator("#chat-messages")

    page.fill("#chat-text", "Hello from <the page>")
    page.press("#chat-text", "Enter")
    (update,) = next_updates(sandbox)
    assert update.message is not None
    assert update.message.text == "Hello from <the page>"
    assert update.effective_user is not None
    assert update.effective_user.id == staff
    expect(chat.locator(".from-user .text")).to_have_text("Hello from <the page>")

    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Yes", callback_data="rsvp:yes"),
                InlineKeyboardButton("No", callback_data="rsvp:no"),
            ]
        ]
    )

    async def ask(bot: Bot) -> int:
        message = await bot.send_message(
            staff, "Coming on <b>Friday</b>?", parse_mode="HTML", reply_markup=keyboard
        )
        return message.message_id

    asked = with_bot(sandbox, ask)
    question = chat.locator(f'.from-bot[data-message-id="{asked}"]')
    expect(question.locator("strong")).to_have_text("Friday")
    question.get_by_role("button", name="Yes").click()
    (pressed,) = next_updates(sandbox)
    query = pressed.callback_query
    assert query is not None
    assert query.data == "rsvp:yes"
    assert query.from_user.id == staff
    assert query.message is not None
    assert query.message.message_id == asked

    query_id = query.id

    async def answer(bot: Bot) -> None:
        await bot.answer_callback_query(query_id, text="Saved, see you on Friday!")

    with_bot(sandbox, answer)
    expect(page.locator(".toast")).to_contain_text("Saved, see you on Friday!")

    poster: FilePayload = {"name": "poster.png", "mimeType": "image/png", "buffer": png()}
    page.set_input_files("#chat-photo", files=[poster])
    (photo,) = next_updates(sandbox)
    assert photo.message is not None
    assert photo.message.photo
    assert photo.message.photo[-1].width == 320
    sent_photo = chat.locator(".from-user img")
    expect(sent_photo).to_have_count(1)

    page.locator(f'#chat-users button[data-user="{follower}"]').click()
    expect(chat.locator(".chat-message")).to_have_count(0)
    column(page, "telegram").get_by_role("button", name="Remind me").click()
    (reminder,) = next_updates(sandbox)
    query = reminder.callback_query
    assert query is not None
    assert query.data == "remind:poetry"
    assert query.from_user.id == follower
    assert query.message is not None
    assert query.message.chat.id == NEWS
    assert query.message.message_id == seeded.channel_photo_id


def test_the_clock_button_grows_engagement_and_faults_are_shown(
    page: Page, sandbox: SandboxThread
) -> None:
    seed_feeds(sandbox)
    staff = sandbox.sandbox.fixtures.staff_user_id

    menu = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("New post", callback_data="new")],
            [
                InlineKeyboardButton("Queue", callback_data="queue"),
                InlineKeyboardButton("Stats", callback_data="stats"),
            ],
        ]
    )

    async def greet(bot: Bot) -> None:
        await bot.send_message(
            staff, "Welcome back! What shall we publish today?", reply_markup=menu
        )

    with_bot(sandbox, greet)
    sandbox.call(lambda: sandbox.sandbox.faults.configure("sendMessage:429=0.1;feed:5xx=0.05"))
    page.goto(sandbox.base_url + "/")
    expect(page.locator("#faults-spec")).to_have_text("sendMessage:429=0.1;feed:5xx=0.05")
    views = column(page, "telegram").locator(".views")
    expect(column(page, "telegram").locator(".post")).to_have_count(2)
    assert views.count() == 0
    page.get_by_role("button", name="+1 d").click()
    expect(page.locator("#clock-ahead")).to_have_text("+1 d ahead")
    expect(views).to_have_count(2)
    expect(column(page, "telegram").locator(".reaction").first).to_contain_text("👍")
    expect(column(page, "instagram").locator(".ig-likes")).not_to_have_text("0 likes")
    expect(column(page, "facebook").locator(".fb-counts .likes").first).not_to_be_empty()
    page.wait_for_timeout(300)  # let the last images paint
    page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10_000
