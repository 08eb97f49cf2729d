"""What the page shows, as JSON: every channel, Page and Instagram account as followers see it.

Read-only views over the emulators' state (run on the sandbox's loop). Text is passed through
verbatim: escaping is the page's job, and it never builds HTML from text.
"""

from __future__ import annotations

from itertools import groupby
from typing import TYPE_CHECKING, Any

from sandbox.graph_state import GraphState, IgMedia, PagePost, StoredImage, graph_state
from sandbox.telegram_objects import StoredMessage
from sandbox.telegram_state import TelegramState, telegram_state

if TYPE_CHECKING:
    from sandbox.app import Sandbox

TELEGRAM_FILES = "/_sandbox/telegram/files/"
GRAPH_CDN = "/graph-cdn/"


def feeds_json(sandbox: Sandbox) -> dict[str, Any]:
    """The whole page's data: clock, faults, the bot and its users, and every feed newest first."""
    telegram = telegram_state(sandbox)
    graph = graph_state(sandbox)
    fixtures = sandbox.fixtures
    now = sandbox.clock.now()
    return {
        "clock": {"now": now.isoformat(), "timestamp": now.timestamp()},
        "faults": faults_json(sandbox),
        "bot": {
            "id": fixtures.bot_id,
            "username": fixtures.bot_username,
            "name": telegram.bot.first_name,
        },
        "users": [
            _user_json(telegram, fixtures.staff_user_id, "staff"),
            _user_json(telegram, fixtures.follower_user_id, "follower"),
        ],
        "telegram": [
            {
                "id": str(chat.id),
                "name": chat.title,
                "handle": f"@{chat.username}" if chat.username else None,
                "kind": chat.type,
                "note": None if chat.bot_is_admin else "the bot is not an admin here",
                "posts": telegram_posts(telegram, chat.id),
            }
            for chat in fixtures.chats
            if chat.type != "private"
        ],
        "facebook": [
            {
                "id": page.id,
                "name": page.name,
                "handle": None,
                "kind": "page",
                "note": None,
                "posts": [page_post_json(graph, post) for post in graph.page_history(page.id)],
            }
            for page in fixtures.pages
        ],
        "instagram": [
            {
                "id": account.id,
                "name": account.username,
                "handle": f"@{account.username}",
                "kind": "account",
                "note": None,
                "posts": [ig_media_json(graph, media) for media in graph.ig_history(account.id)],
            }
            for account in fixtures.instagram
        ],
    }


def faults_json(sandbox: Sandbox) -> dict[str, Any]:
    faults = sandbox.faults
    return {
        "spec": format_spec(faults.rules),
        "forced": [f"{method}:{kind}" for method, kind in faults.forced],
        "injected": len(faults.injected),
        "slow_seconds": faults.slow_seconds,
        "retry_after": faults.retry_after,
    }


def format_spec(rules: dict[str, dict[str, float]]) -> str:
    """The fault rules written back in the spec syntax `METHOD:KIND=P,...;...`."""
    return ";".join(
        f"{method}:" + ",".join(f"{kind}={p:g}" for kind, p in kinds.items())
        for method, kinds in rules.items()
    )


def _user_json(telegram: TelegramState, user_id: int, role: str) -> dict[str, Any]:
    user = telegram.users[user_id]
    return {"id": user.id, "name": user.first_name, "username": user.username, "role": role}


# --- Telegram -----------------------------------------------------------------------------------


def telegram_posts(telegram: TelegramState, chat_id: int) -> list[dict[str, Any]]:
    """A channel's posts newest first; an album (one media group) is one post."""
    messages = telegram.history.get(chat_id, [])
    posts = []
    for group_id, run in groupby(messages, key=lambda m: m.media_group_id or f"#{m.message_id}"):
        posts.append(_telegram_post(telegram, chat_id, list(run), album=group_id[0] != "#"))
    return posts[::-1]


def _telegram_post(
    telegram: TelegramState, chat_id: int, messages: list[StoredMessage], album: bool
) -> dict[str, Any]:
    first = messages[0]
    texted = next((m for m in messages if m.text or m.caption), first)
    text = texted.text if texted.text is not None else texted.caption or ""
    entities = texted.entities if texted.text is not None else texted.caption_entities
    images, files = [], []
    for message in messages:
        if message.photo:
            largest = message.photo[-1]
            images.append(_telegram_image(telegram, largest))
        if message.document:
            stored = telegram.files.by_id[message.document["file_id"]]
            files.append(
                {
                    "name": message.document.get("file_name") or stored.file_path,
                    "url": TELEGRAM_FILES + stored.file_path,
                    "mime_type": message.document.get("mime_type"),
                }
            )
    reactions: dict[str, int] = {}
    for message in messages:
        for emoji, count in message.reactions.items():
            reactions[emoji] = reactions.get(emoji, 0) + count
    markup = next((m.reply_markup for m in messages if m.reply_markup), None) or {}
    return {
        "key": f"telegram:{chat_id}:{first.message_id}",
        "id": str(first.message_id),
        "at": first.published_at.isoformat(),
        "timestamp": first.published_at.timestamp(),
        "text": text,
        "entities": entities,
        "images": images,
        "files": files,
        "buttons": markup.get("inline_keyboard", []),
        "edited": any(m.edit_date is not None for m in messages),
        "album": album,
        "story": False,
        "link": None,
        "counts": {
            "views": max(m.views for m in messages),
            "reactions": [
                {"emoji": emoji, "count": count}
                for emoji, count in sorted(reactions.items(), key=lambda item: -item[1])
            ],
        },
    }


def _telegram_image(telegram: TelegramState, size: dict[str, Any]) -> dict[str, Any]:
    stored = telegram.files.by_id[size["file_id"]]
    return {
        "url": TELEGRAM_FILES + stored.file_path,
        "width": size.get("width"),
        "height": size.get("height"),
    }


# --- Facebook and Instagram ---------------------------------------------------------------------


def _graph_image(image: StoredImage) -> dict[str, Any]:
    return {"url": GRAPH_CDN + image.id, "width": image.width, "height": image.height}


def page_post_json(graph: GraphState, post: PagePost) -> dict[str, Any]:
    counts = graph.engagement(post.id, post.created_at)
    return {
        "key": f"facebook:{post.id}",
        "id": post.id,
        "at": post.created_at.isoformat(),
        "timestamp": post.created_at.timestamp(),
        "text": post.message,
        "entities": [],
        "images": [_graph_image(image) for image in post.photos],
        "files": [],
        "buttons": [],
        "edited": False,
        "album": len(post.photos) > 1,
        "story": False,
        "link": post.link,
        "counts": {
            "reactions": counts.reactions,
            "comments": counts.comments,
            "shares": counts.shares,
        },
    }


def ig_media_json(graph: GraphState, media: IgMedia) -> dict[str, Any]:
    counts = graph.engagement(media.id, media.published_at)
    return {
        "key": f"instagram:{media.id}",
        "id": media.id,
        "at": media.published_at.isoformat(),
        "timestamp": media.published_at.timestamp(),
        "text": media.caption,
        "entities": [],
        "images": [_graph_image(image) for image in media.images],
        "files": [],
        "buttons": [],
        "edited": False,
        "album": media.media_type == "CAROUSEL_ALBUM",
        "story": media.media_type == "STORIES",
        "link": f"https://www.instagram.com/p/{media.shortcode}/",
        "counts": {"likes": counts.reactions, "comments": counts.comments},
    }
