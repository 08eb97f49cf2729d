"""What the engine writes when a send came back: sent, or each kind of failure."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from channels.base import (
    AlreadyPublished,
    AuthExpired,
    ChannelError,
    NotSent,
    Published,
    RateLimited,
    Rejected,
)
from content.models import Publication
from content.states import PublicationState, move_publication
from scheduler.datastore import expire_channel, fail, finish_attempt, mark_sent, not_sent_count
from scheduler.policy import RetryPolicy


def record_sent(
    session: Session, publication_id: int, attempt_id: int, published: Published, now: datetime
) -> None:
    publication = session.get_one(Publication, publication_id)
    finish_attempt(session, attempt_id, now, "sent")
    mark_sent(session, publication, published, now)


def record_failure(
    session: Session,
    publication_id: int,
    attempt_id: int,
    err: ChannelError,
    now: datetime,
    retry: RetryPolicy,
    rng: random.Random,
    block: Callable[[float], None],
) -> None:
    """Record a failed send; `block(seconds)` holds the channel's rate limits back."""
    publication = session.get_one(Publication, publication_id)
    publication.last_error = err.reason
    if isinstance(err, RateLimited):
        finish_attempt(session, attempt_id, now, "rate_limited", err.reason)
        block(err.retry_after)
        move_publication(publication, PublicationState.RETRY_WAIT)
        publication.due_at = now + retry.after_rate_limit(err.retry_after, rng)
    elif isinstance(err, NotSent):
        finish_attempt(session, attempt_id, now, "not_sent", err.reason)
        failures = not_sent_count(session, publication.id)
        if retry.gives_up(failures):
            fail(session, publication, f"gave up after {failures} attempts: {err.reason}")
        else:
            move_publication(publication, PublicationState.RETRY_WAIT)
            publication.due_at = now + retry.backoff(failures, rng)
    elif isinstance(err, Rejected):
        finish_attempt(session, attempt_id, now, "rejected", err.reason)
        fail(session, publication, err.reason)
    elif isinstance(err, AuthExpired):
        finish_attempt(session, attempt_id, now, "auth_expired", err.reason)
        move_publication(publication, PublicationState.PAUSED)
        expire_channel(session, publication.channel_id, err.reason)
    else:  # OutcomeUnknown, AlreadyPublished: may be on the platform; reconcile
        outcome = "duplicate" if isinstance(err, AlreadyPublished) else "unknown"
        finish_attempt(session, attempt_id, now, outcome, err.reason)
        move_publication(publication, PublicationState.UNCONFIRMED)
