"""What the Telegram emulator keeps, as Bot API objects: users, messages in their chats'
history, the webhook and pending callback queries; `to_api` gives each as the API shows it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class TgUser:
    id: int
    first_name: str
    username: str | None = None
    is_bot: bool = False
    language_code: str | None = "en"

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.username:
            data["username"] = self.username
        if self.language_code and not self.is_bot:
            data["language_code"] = self.language_code
        return data


@dataclass
class StoredMessage:
    """A message as its chat shows it; `to_api` gives the Bot API Message."""

    message_id: int
    chat: dict[str, Any]
    date: int
    published_at: datetime
    sender: TgUser | None  # None for a channel post
    text: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    photo: list[dict[str, Any]] | None = None
    document: dict[str, Any] | None = None
    media_group_id: str | None = None
    reply_markup: dict[str, Any] | None = None
    reply_to_message_id: int | None = None
    # A forwarded message's MessageOrigin (None: not a forward).
    forward_origin: dict[str, Any] | None = None
    edit_date: int | None = None
    reactions: dict[str, int] = field(default_factory=dict)
    views: int = 0

    @property
    def by_bot(self) -> bool:
        return self.sender is None or self.sender.is_bot

    @property
    def has_media(self) -> bool:
        return self.photo is not None or self.document is not None

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"message_id": self.message_id}
        if self.sender is not None:
            data["from"] = self.sender.to_api()
        else:
            data["sender_chat"] = self.chat
        data.update(date=self.date, chat=self.chat)
        if self.forward_origin is not None:
            data["forward_origin"] = self.forward_origin
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        if self.media_group_id:
            data["media_group_id"] = self.media_group_id
        if self.text is not None:
            data["text"] = self.text
            if self.entities:
                data["entities"] = self.entities
        if self.photo is not None:
            data["photo"] = self.photo
        if self.document is not None:
            data["document"] = self.document
        if self.caption:
            data["caption"] = self.caption
            if self.caption_entities:
                data["caption_entities"] = self.caption_entities
        if self.reply_markup:
            data["reply_markup"] = self.reply_markup
        if self.reply_to_message_id is not None:
            data["reply_to_message"] = {
                "message_id": self.reply_to_message_id,
                "chat": self.chat,
                "date": self.date,
            }
        return data


@dataclass
class Webhook:
    url: str
    secret_token: str = ""
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class CallbackQuery:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answered: bool = False
    answer: dict[str, Any] = field(default_factory=dict)
