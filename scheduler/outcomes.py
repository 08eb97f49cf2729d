"""What the engine writes when a send came back: sent, or each kind of failure."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from channels.base import (
    AlreadyPublished,
    AuthExpired,
    ChannelError,
    NotSent,
    OutcomeUnknown,
    Published,
    RateLimited,
    Rejected,
)
from content.domain.states import PublicationState, move_publication
from content.storage.models import Publication
from scheduler.datastore import expire_channel, fail, finish_attempt, mark_sent, not_sent_count
from scheduler.policy import RetryPolicy


def record_sent(
    session: Session, publication_id: int, attempt_id: int, published: Published, now: datetime
) -> None:
    publication = session.get_one(Publication, publication_id)
    finish_attempt(session, attempt_id, now, "sent")
    mark_sent(session, publication, published, now)


@dataclass(frozen=True)
class Failure:
    """A failed send being recorded: what the table's consequences act on."""

    session: Session
    publication: Publication
    error: ChannelError
    now: datetime
    retry: RetryPolicy
    rng: random.Random
    block: Callable[[float], None]  # holds the channel's rate limits back for that many seconds


# What else happens; returns the state to move to instead of the table's, if it decides so.
Consequence = Callable[[Failure], PublicationState | None]


def _wait_as_asked(failure: Failure) -> None:
    err = failure.error
    assert isinstance(err, RateLimited)
    failure.block(err.retry_after)
    failure.publication.due_at = failure.now + failure.retry.after_rate_limit(
        err.retry_after, failure.rng
    )


def _back_off_or_give_up(failure: Failure) -> PublicationState | None:
    publication = failure.publication
    failures = not_sent_count(failure.session, publication.id)
    if failure.retry.gives_up(failures):
        publication.last_error = f"gave up after {failures} attempts: {failure.error.reason}"
        return PublicationState.FAILED
    publication.due_at = failure.now + failure.retry.backoff(failures, failure.rng)
    return None


def _expire_channel(failure: Failure) -> None:
    expire_channel(failure.session, failure.publication.channel_id, failure.error.reason)


@dataclass(frozen=True)
class Rule:
    """A failure's attempt outcome, the publication's next state, and what else happens."""

    outcome: str
    state: PublicationState
    then: Consequence | None = None


S = PublicationState
# Looked up along the error's class hierarchy, nearest first (RateLimited is a NotSent): a
# channel error of no kind listed may have reached the platform, so it is reconciled.
FAILURES: dict[type[ChannelError], Rule] = {
    RateLimited: Rule("rate_limited", S.RETRY_WAIT, _wait_as_asked),
    NotSent: Rule("not_sent", S.RETRY_WAIT, _back_off_or_give_up),
    Rejected: Rule("rejected", S.FAILED),
    AuthExpired: Rule("auth_expired", S.PAUSED, _expire_channel),
    AlreadyPublished: Rule("duplicate", S.UNCONFIRMED),
    OutcomeUnknown: Rule("unknown", S.UNCONFIRMED),
    ChannelError: Rule("unknown", S.UNCONFIRMED),
}


def rule_for(err: ChannelError) -> Rule:
    """The table's rule for `err`: its own class's, or its nearest listed ancestor's."""
    return next(FAILURES[kind] for kind in type(err).__mro__ if kind in FAILURES)


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
    """Record a failed send as the table says; `block(seconds)` holds the channel's rate
    limits back. A publication that fails for good is noticed to staff (datastore.fail)."""
    publication = session.get_one(Publication, publication_id)
    publication.last_error = err.reason
    rule = rule_for(err)
    finish_attempt(session, attempt_id, now, rule.outcome, err.reason)
    failure = Failure(session, publication, err, now, retry, rng, block)
    state = (rule.then(failure) if rule.then else None) or rule.state
    if state is PublicationState.FAILED:
        fail(session, publication, publication.last_error or err.reason)
    else:
        move_publication(publication, state)
