"""Conversation state in the database: which flow and step a person is in, and its data.

Several bot replicas (webhook processes behind one URL) share one PostgreSQL database: an
update is noted as handled before anything else (`first_time`), and a person's conversation is
held for the whole transaction that reads and writes it (`hold`), so two of their updates
handled by two replicas at once take turns and neither loses the other's step.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from content.storage.models import BotConversation, ProcessedUpdate


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


def first_time(session: Session, update_id: int, now: datetime) -> bool:
    """Note the update as handled; False if it already was, here or by another replica. The
    row is inserted first: a replica given the same update meanwhile waits for this
    transaction, and then finds it (or, if this one rolled back, handles it itself)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(ProcessedUpdate)
        .values(update_id=update_id, processed_at=now)
        .on_conflict_do_nothing(index_elements=["update_id"])
        .returning(ProcessedUpdate.update_id)
    )
    return session.execute(statement).first() is not None


def hold(session: Session, user_id: int) -> None:
    """Hold the person's conversation until the transaction ends. On PostgreSQL a transaction
    advisory lock per person (taken whether or not their row exists yet, which a row lock
    could not be); SQLite runs one process, whose writers the database serialises."""
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"bot-conversation:{user_id}".encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
