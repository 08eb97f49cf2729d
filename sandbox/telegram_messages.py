"""Bot API methods that send, edit and delete messages.

Checks run in the official server's order where it matters to a client: the request's own
parameters first (text, caption, markup, files), then the chat, then flood control.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import aiohttp

from sandbox.telegram_errors import (
    CAPTION_TOO_LONG,
    CHAT_ID_EMPTY,
    MESSAGE_ID_MISSING,
    MESSAGE_NOT_MODIFIED,
    MESSAGE_TO_DELETE_NOT_FOUND,
    MESSAGE_TO_EDIT_NOT_FOUND,
    TEXT_EMPTY,
    TEXT_TOO_LONG,
    WRONG_FILE,
    bad_request,
    too_many_requests,
)
from sandbox.telegram_html import EntityParseError, parse_html
from sandbox.telegram_media import StoredFile, is_url
from sandbox.telegram_objects import StoredMessage
from sandbox.telegram_params import Params, Upload
from sandbox.telegram_state import TelegramState

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
ALBUM_LIMIT = 10
CALLBACK_DATA_LIMIT = 64  # bytes
_BUTTON_ACTIONS = tuple(
    "url callback_data web_app login_url switch_inline_query "
    "switch_inline_query_current_chat switch_inline_query_chosen_chat copy_text "
    "callback_game pay".split()
)


# -- parameters shared by the sending methods ----------------------------------------------------


def formatted(text: str, parse_mode: str | None, entities: Any) -> tuple[str, list[dict[str, Any]]]:
    """Text and entities after parse_mode (HTML is parsed; Markdown modes are kept as text)."""
    if parse_mode:
        mode = parse_mode.lower()
        if mode == "html":
            try:
                return parse_html(text)
            except EntityParseError as exc:
                raise bad_request(f"can't parse entities: {exc}") from None
        if mode not in ("markdown", "markdownv2"):
            raise bad_request("unsupported parse_mode")
        return text, []
    if entities is not None and not isinstance(entities, list):
        raise bad_request("can't parse entities JSON object")
    return text, list(entities or [])


def message_text(p: Params, name: str = "text") -> tuple[str, list[dict[str, Any]]]:
    text, entities = formatted(p.text(name) or "", p.text("parse_mode"), p.decoded("entities"))
    if not text.strip():
        raise bad_request(TEXT_EMPTY)
    if len(text) > TEXT_LIMIT:
        raise bad_request(TEXT_TOO_LONG)
    return text, entities


def caption_of(
    caption: str | None, parse_mode: str | None, entities: Any
) -> tuple[str | None, list[dict[str, Any]]]:
    if not caption:
        return None, []
    text, found = formatted(caption, parse_mode, entities)
    if len(text) > CAPTION_LIMIT:
        raise bad_request(CAPTION_TOO_LONG)
    return (text or None), found


def reply_markup(p: Params) -> dict[str, Any] | None:
    """The reply_markup parameter, checked as Telegram checks inline keyboards."""
    markup = p.decoded("reply_markup", "reply keyboard markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("object expected as reply markup")
    if "inline_keyboard" not in markup:
        return markup  # reply keyboards and their removal are kept as sent
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    for button in (b for row in rows for b in row):
        if not isinstance(button, dict) or not isinstance(button.get("text"), str):
            raise bad_request("can't parse inline keyboard button: Text must be a String")
        if not any(action in button for action in _BUTTON_ACTIONS):
            raise bad_request("text buttons are unallowed in the inline keyboard")
        data = button.get("callback_data")
        if data is not None and not 1 <= len(str(data).encode()) <= CALLBACK_DATA_LIMIT:
            raise bad_request("BUTTON_DATA_INVALID")
        url = button.get("url")
        if url is not None and urlsplit(str(url)).scheme not in ("http", "https", "tg"):
            raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
    return {"inline_keyboard": rows}


def target_chat(state: TelegramState, p: Params) -> dict[str, Any]:
    """The chat to post in: it must exist and the bot must be allowed to post there."""
    if not p.has("chat_id"):
        raise bad_request(CHAT_ID_EMPTY)
    chat = state.resolve_chat(p.values["chat_id"])
    state.require_posting(chat)
    return chat


def admit(state: TelegramState, chat: dict[str, Any], count: int = 1) -> None:
    wait = state.flood.admit(chat["id"], state.is_group(chat), count)
    if wait is not None:
        raise too_many_requests(wait)


async def fetch_url(url: str) -> Upload:
    """Download a file given by URL, as Telegram's servers do."""
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session,
            session.get(url) as response,
        ):
            if response.status != 200:
                raise bad_request("failed to get HTTP URL content")
            data = await response.read()
            content_type = response.content_type
    except (aiohttp.ClientError, TimeoutError):
        raise bad_request("failed to get HTTP URL content") from None
    name = urlsplit(url).path.rsplit("/", 1)[-1] or None
    return Upload(data, name, content_type)


async def photo_files(
    state: TelegramState, upload: Upload | None, value: Any
) -> list[dict[str, Any]]:
    """PhotoSize array for an uploaded file, a URL or an earlier photo's file_id."""
    if upload is not None:
        return [f.photo_size() for f in state.files.add_photo(upload.data)]
    if isinstance(value, str) and is_url(value):
        fetched = await fetch_url(value)
        try:
            return [f.photo_size() for f in state.files.add_photo(fetched.data)]
        except Exception:
            raise bad_request("wrong type of the web page content") from None
    if isinstance(value, str) and value:
        return state.files.photo_sizes(value)
    raise bad_request(WRONG_FILE)


async def document_file(state: TelegramState, upload: Upload | None, value: Any) -> dict[str, Any]:
    file: StoredFile
    if upload is not None:
        file = state.files.add_document(upload.data, upload.filename, upload.content_type)
    elif isinstance(value, str) and is_url(value):
        fetched = await fetch_url(value)
        file = state.files.add_document(fetched.data, fetched.filename, fetched.content_type)
    elif isinstance(value, str) and value:
        file = state.files.lookup(value)
    else:
        raise bad_request(WRONG_FILE)
    return file.document()


def publish(state: TelegramState, messages: list[StoredMessage]) -> None:
    state.record_published(messages)


# -- sending -------------------------------------------------------------------------------------


def replied_to(state: TelegramState, chat: dict[str, Any], p: Params) -> int | None:
    """The message_id of reply_parameters, which must be a message of the same chat."""
    parameters = p.decoded("reply_parameters")
    if parameters is None:
        return None
    if not isinstance(parameters, dict) or not isinstance(parameters.get("message_id"), int):
        raise bad_request("can't parse reply parameters JSON object")
    message_id = parameters["message_id"]
    if not any(m.message_id == message_id for m in state.history.get(chat["id"], [])):
        raise bad_request("message to be replied not found")
    return int(message_id)


async def send_message(state: TelegramState, p: Params) -> dict[str, Any]:
    text, entities = message_text(p)
    markup = reply_markup(p)
    chat = target_chat(state, p)
    reply_to = replied_to(state, chat, p)
    admit(state, chat)
    message = state.new_message(
        chat,
        state.bot_sender(chat),
        text=text,
        entities=entities,
        reply_markup=markup,
        reply_to_message_id=reply_to,
    )
    publish(state, [message])
    return message.to_api()


async def send_photo(state: TelegramState, p: Params) -> dict[str, Any]:
    if not p.has("photo"):
        raise bad_request("there is no photo in the request")
    caption, entities = caption_of(
        p.text("caption"), p.text("parse_mode"), p.decoded("caption_entities")
    )
    markup = reply_markup(p)
    chat = target_chat(state, p)
    photo = await photo_files(state, p.upload("photo"), p.values.get("photo"))
    admit(state, chat)
    message = state.new_message(
        chat,
        state.bot_sender(chat),
        photo=photo,
        caption=caption,
        caption_entities=entities,
        reply_markup=markup,
    )
    publish(state, [message])
    return message.to_api()


async def send_document(state: TelegramState, p: Params) -> dict[str, Any]:
    if not p.has("document"):
        raise bad_request("there is no document in the request")
    caption, entities = caption_of(
        p.text("caption"), p.text("parse_mode"), p.decoded("caption_entities")
    )
    markup = reply_markup(p)
    chat = target_chat(state, p)
    document = await document_file(state, p.upload("document"), p.values.get("document"))
    admit(state, chat)
    message = state.new_message(
        chat,
        state.bot_sender(chat),
        document=document,
        caption=caption,
        caption_entities=entities,
        reply_markup=markup,
    )
    publish(state, [message])
    return message.to_api()


async def send_media_group(state: TelegramState, p: Params) -> list[dict[str, Any]]:
    media = p.decoded("media")
    if media is None:
        raise bad_request('parameter "media" is required')
    if not isinstance(media, list):
        raise bad_request("can't parse media JSON object")
    if not media:
        raise bad_request("there are no messages to send")
    if len(media) > ALBUM_LIMIT:
        raise bad_request("too many messages to send as an album")
    kinds = [item.get("type") if isinstance(item, dict) else None for item in media]
    for kind in kinds:
        if kind in ("video", "audio", "live_photo"):
            raise bad_request(f'InputMedia of type "{kind}" is not supported by the sandbox')
        if kind not in ("photo", "document"):
            raise bad_request(f'can\'t parse InputMedia: type "{kind}" is unsupported')
    if "document" in kinds and "photo" in kinds:
        raise bad_request("document can't be mixed with other media types")
    captions = [
        caption_of(item.get("caption"), item.get("parse_mode"), item.get("caption_entities"))
        for item in media
    ]
    chat = target_chat(state, p)
    contents: list[dict[str, Any]] = []
    for item, (caption, entities) in zip(media, captions, strict=True):
        reference = item.get("media")
        upload = None
        if isinstance(reference, str) and reference.startswith("attach://"):
            upload = p.attached(reference)
            if upload is None:
                raise bad_request("can't parse InputMedia: media not found")
        content: dict[str, Any] = {"caption": caption, "caption_entities": entities}
        if item["type"] == "photo":
            content["photo"] = await photo_files(state, upload, reference)
        else:
            content["document"] = await document_file(state, upload, reference)
        contents.append(content)
    admit(state, chat, len(contents))
    # Telegram sends a one-item "album" as an ordinary message, outside any media group.
    group_id = state.new_media_group_id() if len(contents) > 1 else None
    messages = [
        state.new_message(chat, state.bot_sender(chat), media_group_id=group_id, **content)
        for content in contents
    ]
    publish(state, messages)
    return [m.to_api() for m in messages]


# -- editing and deleting ------------------------------------------------------------------------


def edited_message(state: TelegramState, p: Params) -> StoredMessage:
    if p.has("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")  # the sandbox has no inline mode
    message_id = p.integer("message_id")
    if not p.has("chat_id") or not message_id:
        raise bad_request(MESSAGE_ID_MISSING)
    chat = state.resolve_chat(p.values["chat_id"])
    state.require_posting(chat)
    message = state.find_message(chat["id"], message_id)
    if message is None:
        raise bad_request(MESSAGE_TO_EDIT_NOT_FOUND)
    if not message.by_bot:
        raise bad_request("message can't be edited")
    return message


def _touch(state: TelegramState, message: StoredMessage) -> dict[str, Any]:
    message.edit_date = state.sandbox.clock.timestamp()
    return message.to_api()


async def edit_message_text(state: TelegramState, p: Params) -> dict[str, Any]:
    message = edited_message(state, p)
    if message.text is None:
        raise bad_request("there is no text in the message to edit")
    text, entities = message_text(p)
    # An edit without reply_markup removes the inline keyboard, as on Telegram.
    markup = reply_markup(p)
    if (text, entities, markup) == (message.text, message.entities, message.reply_markup):
        raise bad_request(MESSAGE_NOT_MODIFIED)
    message.text, message.entities, message.reply_markup = text, entities, markup
    return _touch(state, message)


async def edit_message_caption(state: TelegramState, p: Params) -> dict[str, Any]:
    message = edited_message(state, p)
    if not message.has_media:
        raise bad_request("there is no caption in the message to edit")
    caption, entities = caption_of(
        p.text("caption"), p.text("parse_mode"), p.decoded("caption_entities")
    )
    markup = reply_markup(p)
    if (caption, entities, markup) == (
        message.caption,
        message.caption_entities,
        message.reply_markup,
    ):
        raise bad_request(MESSAGE_NOT_MODIFIED)
    message.caption, message.caption_entities, message.reply_markup = caption, entities, markup
    return _touch(state, message)


async def edit_message_reply_markup(state: TelegramState, p: Params) -> dict[str, Any]:
    message = edited_message(state, p)
    markup = reply_markup(p)
    if markup == message.reply_markup:
        raise bad_request(MESSAGE_NOT_MODIFIED)
    message.reply_markup = markup
    return _touch(state, message)


async def delete_message(state: TelegramState, p: Params) -> bool:
    if not p.has("chat_id"):
        raise bad_request(CHAT_ID_EMPTY)
    message_id = p.integer("message_id")
    if not message_id:
        raise bad_request(MESSAGE_ID_MISSING)
    chat = state.resolve_chat(p.values["chat_id"])
    state.require_posting(chat)
    message = state.find_message(chat["id"], message_id)
    if message is None:
        raise bad_request(MESSAGE_TO_DELETE_NOT_FOUND)
    state.delete_message(message)
    return True
