"""Bot API methods about the bot itself, updates, webhooks, chats, files and callbacks, plus the
table of every method the emulator serves (`METHODS`)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox import telegram_messages as messages
from sandbox import telegram_sharing as sharing
from sandbox.telegram_errors import (
    CHAT_ID_EMPTY,
    NOT_CHANNEL_MEMBER,
    QUERY_ID_INVALID,
    TERMINATED_BY_OTHER_POLL,
    TERMINATED_BY_WEBHOOK,
    WEBHOOK_ACTIVE,
    bad_request,
    conflict,
    forbidden,
)
from sandbox.telegram_objects import Webhook
from sandbox.telegram_params import Params
from sandbox.telegram_state import TelegramState, all_update_kinds

LONG_POLL_MAX_SECONDS = 50
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]*")


@dataclass
class Answer:
    """A result with the optional `description` Telegram adds to some successes."""

    result: Any
    description: str | None = None


Handler = Callable[[TelegramState, Params], Awaitable[Any]]


async def get_me(state: TelegramState, p: Params) -> dict[str, Any]:
    me = state.bot.to_api()
    me.update(
        can_join_groups=True,
        can_read_all_group_messages=False,
        supports_inline_queries=False,
        can_connect_to_business=False,
        has_main_web_app=False,
    )
    return me


# -- updates and webhooks ------------------------------------------------------------------------


def _allowed_updates(state: TelegramState, p: Params) -> None:
    """Remember allowed_updates when given; an empty list means the default set."""
    allowed = p.decoded("allowed_updates")
    if allowed is None:
        return
    if not isinstance(allowed, list):
        raise bad_request("can't parse allowed_updates JSON object")
    known = all_update_kinds()
    state.allowed_updates = [kind for kind in allowed if kind in known]


async def get_updates(state: TelegramState, p: Params) -> list[dict[str, Any]]:
    if state.webhook is not None:
        raise conflict(WEBHOOK_ACTIVE)
    _allowed_updates(state, p)
    state.confirm(p.integer("offset") or 0)
    limit = min(max(p.integer("limit") or 100, 1), 100)
    timeout = min(max(p.number("timeout", 0), 0), LONG_POLL_MAX_SECONDS)
    state.poll_generation += 1
    generation = state.poll_generation
    state.changed()  # an older long poll ends with a conflict
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        if state.poll_generation != generation:
            raise conflict(TERMINATED_BY_OTHER_POLL)
        if state.webhook is not None:
            raise conflict(TERMINATED_BY_WEBHOOK)
        remaining = deadline - asyncio.get_running_loop().time()
        if state.updates or remaining <= 0:
            return state.updates[:limit]
        await state.wait_for_change(remaining)


async def set_webhook(state: TelegramState, p: Params) -> Answer:
    url = p.text("url")
    if url is None:  # Telegram treats setWebhook without a URL as deleteWebhook
        return await delete_webhook(state, p)
    parts = urlsplit(url)
    # Telegram insists on HTTPS on ports 443, 80, 88 or 8443; the sandbox's bots listen on
    # plain HTTP on loopback, so any http(s) URL with a host is accepted here.
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_request("invalid webhook URL specified")
    secret = p.text("secret_token") or ""
    if len(secret) > 256:
        raise bad_request("secret token is too long")
    if not _SECRET_TOKEN.fullmatch(secret):
        raise bad_request("secret token contains illegal characters")
    _allowed_updates(state, p)
    if p.flag("drop_pending_updates"):
        state.drop_pending()
    same = state.webhook is not None and state.webhook.url == url
    max_connections = min(max(p.integer("max_connections") or 40, 1), 100)
    state.webhook = Webhook(url, secret, max_connections)
    state.changed()
    return Answer(True, "Webhook is already set" if same else "Webhook was set")


async def delete_webhook(state: TelegramState, p: Params) -> Answer:
    if p.flag("drop_pending_updates"):
        state.drop_pending()
    existed = state.webhook is not None
    state.webhook = None
    state.changed()
    return Answer(True, "Webhook was deleted" if existed else "Webhook is already deleted")


async def get_webhook_info(state: TelegramState, p: Params) -> dict[str, Any]:
    info: dict[str, Any] = {
        "url": state.webhook.url if state.webhook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(state.updates),
    }
    if state.webhook is not None:
        info["max_connections"] = state.webhook.max_connections
        if state.webhook.last_error_date is not None:
            info["last_error_date"] = state.webhook.last_error_date
            info["last_error_message"] = state.webhook.last_error_message
        if state.allowed_updates:
            info["allowed_updates"] = state.allowed_updates
    return info


# -- commands, callbacks, chats, files -----------------------------------------------------------


def _commands_key(p: Params) -> str:
    scope = p.decoded("scope") or {"type": "default"}
    if not isinstance(scope, dict) or "type" not in scope:
        raise bad_request("can't parse BotCommandScope JSON object")
    return json.dumps(scope, sort_keys=True) + "|" + (p.text("language_code") or "")


async def set_my_commands(state: TelegramState, p: Params) -> bool:
    # Telegram reads a missing commands parameter as an empty list, which clears the commands.
    commands = p.decoded("commands") or []
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > 100:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    cleaned = []
    for item in commands:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand JSON object")
        command = str(item.get("command", "")).strip().removeprefix("/")
        description = str(item.get("description", "")).strip()
        if not command:
            raise bad_request("command must be non-empty")
        if not description:
            raise bad_request("command description must be non-empty")
        if len(description) > 256:
            raise bad_request("command description length must not exceed 256")
        if not _COMMAND_NAME.fullmatch(command.lower()):
            raise bad_request("BOT_COMMAND_INVALID")
        cleaned.append({"command": command.lower(), "description": description})
    state.commands[_commands_key(p)] = cleaned
    return True


async def get_my_commands(state: TelegramState, p: Params) -> list[dict[str, str]]:
    return state.commands.get(_commands_key(p), [])


async def answer_callback_query(state: TelegramState, p: Params) -> bool:
    query = state.callback_queries.get(p.text("callback_query_id") or "")
    if query is None or query.answered:
        raise bad_request(QUERY_ID_INVALID)
    text = p.text("text") or ""
    if len(text) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    url = p.text("url")
    # Outside games, the only URL allowed opens the bot itself: t.me/<bot>?start=<parameter>.
    if url and not _opens_this_bot(state, url):
        raise bad_request("URL_INVALID")
    query.answered = True
    query.answer = {"text": text, "show_alert": p.flag("show_alert"), "url": p.text("url")}
    return True


def _opens_this_bot(state: TelegramState, url: str) -> bool:
    parts = urlsplit(url)
    name = parts.path.strip("/").lower()
    start = parse_qs(parts.query).get("start", [""])[0]
    return (
        parts.scheme in ("http", "https", "tg", "")
        and parts.netloc.lower() in ("t.me", "telegram.me")
        and name == (state.bot.username or "").lower()
        and 0 < len(start) <= 64
        and all(c.isascii() and (c.isalnum() or c in "_-") for c in start)
    )


async def get_chat(state: TelegramState, p: Params) -> dict[str, Any]:
    if not p.has("chat_id"):
        raise bad_request(CHAT_ID_EMPTY)
    chat = dict(state.resolve_chat(p.values["chat_id"]))
    chat.update(
        accent_color_id=0,
        max_reaction_count=11,
        accepted_gift_types={
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    )
    return chat


async def get_chat_member(state: TelegramState, p: Params) -> dict[str, Any]:
    if not p.has("chat_id"):
        raise bad_request(CHAT_ID_EMPTY)
    user_id = p.integer("user_id")
    if not user_id or user_id <= 0:
        raise bad_request("invalid user_id specified")
    chat = state.resolve_chat(p.values["chat_id"])
    fixture = state.chats.get(chat["id"])
    if fixture is not None and not fixture.bot_is_admin:
        raise forbidden(NOT_CHANNEL_MEMBER)
    if user_id == state.bot.id:
        user = state.bot
    elif user_id in state.users:
        user = state.users[user_id]
    else:
        raise bad_request("user not found")
    if chat["type"] == "private":
        status = "member"
    elif user is state.bot:
        return _administrator(user.to_api(), chat["type"])
    elif user_id == state.sandbox.fixtures.staff_user_id:
        return {"status": "creator", "user": user.to_api(), "is_anonymous": False}
    elif user_id == state.sandbox.fixtures.follower_user_id:
        status = "member"
    else:
        status = "left"
    return {"status": status, "user": user.to_api()}


def _administrator(user: dict[str, Any], chat_type: str) -> dict[str, Any]:
    rights = dict.fromkeys(
        (
            "can_manage_chat",
            "can_delete_messages",
            "can_manage_video_chats",
            "can_restrict_members",
            "can_change_info",
            "can_invite_users",
            "can_post_stories",
            "can_edit_stories",
            "can_delete_stories",
        ),
        True,
    )
    rights["can_promote_members"] = False
    if chat_type == "channel":
        rights.update(can_post_messages=True, can_edit_messages=True)
    else:
        rights["can_pin_messages"] = True
    return {
        "status": "administrator",
        "user": user,
        "can_be_edited": False,
        "is_anonymous": False,
        **rights,
    }


async def get_file(state: TelegramState, p: Params) -> dict[str, Any]:
    file_id = p.text("file_id")
    if not file_id:
        raise bad_request("file_id not specified")
    file = state.files.by_id.get(file_id)
    if file is None:
        raise bad_request("invalid file_id")
    return file.file()


METHODS: dict[str, Handler] = {
    "getMe": get_me,
    "getUpdates": get_updates,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
    "sendMessage": messages.send_message,
    "sendPhoto": messages.send_photo,
    "sendDocument": messages.send_document,
    "sendMediaGroup": messages.send_media_group,
    "editMessageText": messages.edit_message_text,
    "editMessageCaption": messages.edit_message_caption,
    "editMessageReplyMarkup": messages.edit_message_reply_markup,
    "deleteMessage": messages.delete_message,
    "copyMessage": sharing.copy_message,
    "forwardMessage": sharing.forward_message,
    "answerCallbackQuery": answer_callback_query,
    "setMyCommands": set_my_commands,
    "getMyCommands": get_my_commands,
    "getChat": get_chat,
    "getChatMember": get_chat_member,
    "getFile": get_file,
}
# Bot API method names are case-insensitive.
METHODS_BY_LOWER_NAME = {name.lower(): (name, handler) for name, handler in METHODS.items()}
