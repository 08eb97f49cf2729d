"""Bot API methods that share a message already in a chat: `copyMessage` (a new message with the
same content, no link to the original; answers a MessageId) and `forwardMessage` (the same
content with its origin shown; answers the Message).

As on Telegram: the parameters are checked first, then the target chat and the bot's right to
post there, then the source chat (which the bot must be able to read) and the message in it,
then flood control of the target chat. Service messages cannot be shared; the sandbox keeps
none, so every stored message can be.
"""

from __future__ import annotations

from typing import Any

from sandbox.telegram_errors import (
    CHAT_ID_EMPTY,
    CHAT_NOT_FOUND,
    MESSAGE_ID_MISSING,
    bad_request,
)
from sandbox.telegram_messages import admit, caption_of, publish, reply_markup, target_chat
from sandbox.telegram_objects import StoredMessage
from sandbox.telegram_params import Params
from sandbox.telegram_state import TelegramState

MESSAGE_TO_COPY_NOT_FOUND = "message to copy not found"
MESSAGE_TO_FORWARD_NOT_FOUND = "message to forward not found"
_CONTENT = ("text", "entities", "caption", "caption_entities", "photo", "document")


def _source(state: TelegramState, p: Params, not_found: str) -> StoredMessage:
    """The message named by from_chat_id and message_id, as the bot can see it."""
    if not p.has("from_chat_id"):
        raise bad_request("from_chat_id is empty")
    chat = state.resolve_chat(p.values["from_chat_id"])
    fixture = state.chats.get(chat["id"])
    if fixture is not None and not fixture.bot_is_admin:
        # A bot outside a channel cannot see it at all.
        raise bad_request(CHAT_NOT_FOUND)
    message_id = p.integer("message_id")
    if not message_id:
        raise bad_request(MESSAGE_ID_MISSING)
    message = state.find_message(chat["id"], message_id)
    if message is None:
        raise bad_request(not_found)
    return message


def _content(message: StoredMessage) -> dict[str, Any]:
    content = {name: getattr(message, name) for name in _CONTENT}
    content["entities"] = list(content["entities"])
    content["caption_entities"] = list(content["caption_entities"])
    return content


def _check_chat_param(p: Params) -> None:
    if not p.has("chat_id"):
        raise bad_request(CHAT_ID_EMPTY)


async def copy_message(state: TelegramState, p: Params) -> dict[str, Any]:
    _check_chat_param(p)
    new_caption = p.text("caption")
    caption, entities = caption_of(new_caption, p.text("parse_mode"), p.decoded("caption_entities"))
    markup = reply_markup(p)
    chat = target_chat(state, p)
    source = _source(state, p, MESSAGE_TO_COPY_NOT_FOUND)
    content = _content(source)
    if new_caption is not None and source.has_media:  # "new caption for media": text keeps
        content.update(caption=caption, caption_entities=entities)
    admit(state, chat)
    message = state.new_message(chat, state.bot_sender(chat), reply_markup=markup, **content)
    publish(state, [message])
    return {"message_id": message.message_id}


async def forward_message(state: TelegramState, p: Params) -> dict[str, Any]:
    _check_chat_param(p)
    chat = target_chat(state, p)
    source = _source(state, p, MESSAGE_TO_FORWARD_NOT_FOUND)
    admit(state, chat)
    origin = source.forward_origin or _origin(source)
    message = state.new_message(
        chat, state.bot_sender(chat), forward_origin=origin, **_content(source)
    )
    publish(state, [message])
    return message.to_api()


def _origin(message: StoredMessage) -> dict[str, Any]:
    """Where a forward says the message comes from (a forward of a forward names the first)."""
    if message.chat["type"] == "channel":
        return {
            "type": "channel",
            "date": message.date,
            "chat": message.chat,
            "message_id": message.message_id,
        }
    if message.sender is None:
        return {"type": "chat", "date": message.date, "sender_chat": message.chat}
    return {"type": "user", "date": message.date, "sender_user": message.sender.to_api()}
