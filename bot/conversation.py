"""Conversation state in the database: which flow and step a person is in, and its data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from content.storage.models import BotConversation


@dataclass
class Conversation:
    """A person's place in a flow; `flow` is empty when they are in none."""

    user_id: int
    chat_id: int
    flow: str = ""
    step: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def start(self, flow: str, step: str, **data: Any) -> None:
        self.flow, self.step, self.data = flow, step, dict(data)

    def goto(self, step: str) -> None:
        self.step = step

    def end(self) -> None:
        self.flow, self.step, self.data = "", "", {}

    @property
    def active(self) -> bool:
        return bool(self.flow)


def load(session: Session, user_id: int, chat_id: int) -> Conversation:
    row = session.get(BotConversation, user_id)
    if row is None:
        return Conversation(user_id, chat_id)
    return Conversation(user_id, row.chat_id, row.flow, row.step, dict(row.data or {}))


def save(session: Session, conversation: Conversation) -> None:
    row = session.get(BotConversation, conversation.user_id)
    if not conversation.active:
        if row is not None:
            session.delete(row)
        return
    if row is None:
        row = BotConversation(user_id=conversation.user_id)
        session.add(row)
    row.chat_id = conversation.chat_id
    row.flow, row.step = conversation.flow, conversation.step
    row.data = dict(conversation.data)  # a new dict, so the JSON column sees the change
