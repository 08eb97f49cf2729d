"""Reaction counts that Telegram pushes for channel posts, stored as engagement snapshots."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from telegram import MessageReactionCountUpdated

from content.domain.states import Platform, PublicationState
from content.storage.models import Channel, Publication
from scheduler.collect import record_metrics


def _matches(publication: Publication, chat_id: int, username: str | None) -> bool:
    progress = publication.progress or {}
    external = publication.channel.external_id
    return (
        progress.get("chat_id") == chat_id
        or external == str(chat_id)
        or (username is not None and external.lower() == f"@{username.lower()}")
    )


def record_reaction_counts(
    session: Session, counts: MessageReactionCountUpdated, now: datetime
) -> bool:
    """Store the total reactions of the publication the update is about; False if unknown."""
    total = sum(reaction.total_count for reaction in counts.reactions)
    candidates = session.scalars(
        select(Publication)
        .join(Channel, Channel.id == Publication.channel_id)
        .where(
            Channel.platform == Platform.TELEGRAM,
            Publication.state == PublicationState.SENT,
            Publication.remote_id == str(counts.message_id),
        )
    )
    for publication in candidates:
        if _matches(publication, counts.chat.id, counts.chat.username):
            record_metrics(session, publication, now, reactions=total, source="telegram_reactions")
            return True
    return False
