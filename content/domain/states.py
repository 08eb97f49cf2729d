"""States of the domain's records and the one function that changes them."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeVar

from content.errors import IllegalTransition


class Platform(StrEnum):
    TELEGRAM = "telegram"
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    EDITOR = "editor"


class ChannelStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    AUTH_EXPIRED = "auth_expired"


class PostStatus(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    QUEUED = "queued"
    DONE = "done"
    CANCELLED = "cancelled"


class EventStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    FINISHED = "finished"


class PublicationKind(StrEnum):
    POST = "post"
    ANNOUNCEMENT = "announcement"
    REMINDER = "reminder"
    CANCELLATION = "cancellation"


class PublicationState(StrEnum):
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    RETRY_WAIT = "retry_wait"
    FAILED = "failed"
    UNCONFIRMED = "unconfirmed"
    PAUSED = "paused"
    MISSED = "missed"
    CANCELLED = "cancelled"


P = PublicationState
_PUBLICATION = {
    P.SCHEDULED: {P.SENDING, P.PAUSED, P.MISSED, P.CANCELLED},
    # The attempt is committed as SENDING before the request; every outcome leaves from here.
    P.SENDING: {P.SENT, P.RETRY_WAIT, P.FAILED, P.UNCONFIRMED, P.PAUSED},
    P.RETRY_WAIT: {P.SENDING, P.FAILED, P.PAUSED, P.MISSED, P.CANCELLED},
    # Unknown outcomes are settled by reconciliation or a person, never re-sent by themselves.
    P.UNCONFIRMED: {P.SENT, P.SCHEDULED, P.FAILED, P.CANCELLED},
    P.PAUSED: {P.SCHEDULED, P.CANCELLED},
    P.MISSED: {P.SCHEDULED, P.CANCELLED},
    P.FAILED: {P.SCHEDULED, P.CANCELLED},
    P.SENT: set(),
    P.CANCELLED: set(),
}
_POST = {
    PostStatus.DRAFT: {PostStatus.PENDING_APPROVAL, PostStatus.QUEUED, PostStatus.CANCELLED},
    PostStatus.PENDING_APPROVAL: {PostStatus.QUEUED, PostStatus.DRAFT, PostStatus.CANCELLED},
    PostStatus.QUEUED: {PostStatus.DONE, PostStatus.CANCELLED, PostStatus.DRAFT},
    PostStatus.DONE: set(),
    PostStatus.CANCELLED: set(),
}
_CHANNEL = {
    ChannelStatus.ACTIVE: {ChannelStatus.PAUSED, ChannelStatus.AUTH_EXPIRED},
    ChannelStatus.PAUSED: {ChannelStatus.ACTIVE, ChannelStatus.AUTH_EXPIRED},
    ChannelStatus.AUTH_EXPIRED: {ChannelStatus.ACTIVE, ChannelStatus.PAUSED},
}
_EVENT = {
    EventStatus.SCHEDULED: {EventStatus.CANCELLED, EventStatus.FINISHED},
    EventStatus.CANCELLED: set(),
    EventStatus.FINISHED: set(),
}
_TABLES: dict[type[StrEnum], dict[Any, set[Any]]] = {
    PublicationState: _PUBLICATION,
    PostStatus: _POST,
    ChannelStatus: _CHANNEL,
    EventStatus: _EVENT,
}

S = TypeVar("S", PublicationState, PostStatus, ChannelStatus, EventStatus)


def allowed_targets(current: S) -> frozenset[S]:
    """The states `current` may move to."""
    return frozenset(_TABLES[type(current)][current])


def transition(current: S, target: S) -> S:
    """Return `target` if the move from `current` is legal, else raise IllegalTransition."""
    if type(current) is not type(target) or target not in _TABLES[type(current)][current]:
        raise IllegalTransition(type(current).__name__, str(current), str(target))
    return target
