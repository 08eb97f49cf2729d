"""States of the domain's records and the one function that changes them."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from content.errors import IllegalTransition

if TYPE_CHECKING:
    from content.storage.models import Publication


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
    MOVED = "moved"  # an announced event's new date or place, told where it was announced


class FollowerNews(StrEnum):
    """What a follower who asked to be reminded must still be told of an event."""

    MOVED = "moved"
    CANCELLED = "cancelled"


class ShareMode(StrEnum):
    """How a publication shares another already on the platform (None: it sends its own)."""

    COPY = "copy"  # Telegram copyMessage: the same content, no link to the original
    FORWARD = "forward"  # Telegram forwardMessage: shows where it comes from
    LINK = "link"  # Facebook: a feed post whose link is the original's permalink


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


# A publication is claimed (claimed_by, lease_until) only while a worker holds it: claimed ahead
# and waiting (SCHEDULED, RETRY_WAIT) or being sent (SENDING). Every other move of its state
# releases the claim, in the same write: the two must never be set apart.
UNCLAIMED: dict[str, Any] = {"claimed_by": None, "lease_until": None}


def move_publication(publication: Publication, target: PublicationState) -> None:
    """The one write path of a publication's state (ORM): a legal transition, and the claim
    released unless the move is the engine's own begin (to SENDING, which keeps its worker)."""
    publication.state = transition(publication.state, target)
    if target is not PublicationState.SENDING:
        publication.claimed_by = None
        publication.lease_until = None


def publication_moves(
    sources: Iterable[PublicationState], target: PublicationState
) -> dict[str, Any]:
    """The same write for a Core UPDATE's `values(...)`: the move must be legal from each of
    `sources` (which the statement's WHERE holds the rows to), and the claim is released
    unless the target is SENDING."""
    for source in sources:
        transition(source, target)
    if target is PublicationState.SENDING:
        return {"state": target}
    return {"state": target, **UNCLAIMED}
