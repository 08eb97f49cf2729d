"""The Channel protocol, its errors, and the one place where platform failures are classified.

Every platform module supplies the calls and an error table; `classify` turns whatever the client
library raised into exactly one of the errors below, each saying whether a retry is safe.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from content.domain.states import Platform, ShareMode
from content.errors import AfishaError

# --- errors --------------------------------------------------------------------------------------


# How a channel waits (tests pass one that only records the wait).
Sleep = Callable[[float], Awaitable[None]]


class ChannelError(AfishaError):
    """A platform call did not succeed; `reason` is safe to show a person (no secrets)."""

    retry_safe: bool = False

    def __init__(self, reason: str, *, platform: Platform | None = None) -> None:
        self.reason = reason
        self.platform = platform
        super().__init__(reason)


class NotSent(ChannelError):
    """The request certainly did not take effect: safe to retry."""

    retry_safe = True


class RateLimited(NotSent):
    """The platform asked us to slow down; retry after `retry_after` seconds."""

    def __init__(
        self, reason: str, retry_after: float, *, platform: Platform | None = None
    ) -> None:
        super().__init__(reason, platform=platform)
        self.retry_after = retry_after


class OutcomeUnknown(ChannelError):
    """The request may have reached the platform: never re-sent blindly, reconcile first."""


class Rejected(ChannelError):
    """The platform refused the content or target: final until a person changes something."""


class AuthExpired(ChannelError):
    """The token is expired, revoked or lacks permission: pause the channel until fixed."""


class AlreadyPublished(ChannelError):
    """The platform says this exact content is already there (e.g. Graph code 506)."""


# --- classification ------------------------------------------------------------------------------


class Outcome(enum.Enum):
    NOT_SENT = NotSent
    MAYBE_SENT = OutcomeUnknown
    REJECTED = Rejected
    AUTH_EXPIRED = AuthExpired
    RATE_LIMITED = RateLimited
    DUPLICATE = AlreadyPublished


@dataclass(frozen=True)
class ErrorRule:
    """One row of a platform's error table.

    `matches` picks the exceptions the row applies to; `reason` words the failure for a person;
    `retry_after` (for RATE_LIMITED) reads the delay the platform asked for, in seconds.
    """

    matches: Callable[[BaseException], bool]
    outcome: Outcome
    reason: Callable[[BaseException], str]
    retry_after: Callable[[BaseException], float] | None = None


def classify(
    exc: BaseException,
    table: Sequence[ErrorRule],
    platform: Platform,
    *,
    idempotent: bool = False,
) -> ChannelError:
    """The Afisha error for `exc` by the first matching row; unknown failures are MAYBE_SENT.

    For idempotent calls (reads), "maybe sent" is as good as "not sent": nothing can be doubled.
    """
    if isinstance(exc, ChannelError):
        return exc
    for rule in table:
        if rule.matches(exc):
            outcome, reason = rule.outcome, rule.reason(exc)
            if outcome is Outcome.RATE_LIMITED:
                delay = rule.retry_after(exc) if rule.retry_after else 60.0
                return RateLimited(reason, delay, platform=platform)
            if outcome is Outcome.MAYBE_SENT and idempotent:
                outcome = Outcome.NOT_SENT
            error_class: type[ChannelError] = outcome.value
            return error_class(reason, platform=platform)
    fallback = NotSent if idempotent else OutcomeUnknown
    return fallback(f"unexpected {exc.__class__.__name__}", platform=platform)


def matches_type(*types: type[BaseException]) -> Callable[[BaseException], bool]:
    return lambda exc: isinstance(exc, types)


# --- what is sent and what comes back -----------------------------------------------------------


@dataclass(frozen=True)
class OutgoingImage:
    """An image of a post, as stored by Afisha."""

    path: Path  # absolute path of the stored file
    media_type: str
    width: int
    height: int
    alt_text: str | None = None
    public_url: str | None = None  # where the platform can fetch it, if anywhere


@dataclass(frozen=True)
class Button:
    text: str
    url: str | None = None
    callback_data: str | None = None


@dataclass(frozen=True)
class ShareOf:
    """What a share publishes: a publication already on the platform, by its ids there."""

    mode: ShareMode
    chat_id: int | str | None = None  # Telegram: the source's chat
    message_ids: tuple[int, ...] = ()  # Telegram: the source's messages, in order
    permalink: str | None = None  # Facebook: the source post's permalink_url
    post_id: str | None = None  # Facebook: the source post's id (a share names it as parent_id)


@dataclass(frozen=True)
class Outgoing:
    """Exactly what one publication sends: plain text (channels escape it), images, buttons."""

    text: str
    images: tuple[OutgoingImage, ...] = ()
    link: str | None = None
    buttons: tuple[Button, ...] = ()
    # Instagram: pad an image to an allowed aspect ratio instead of refusing it.
    pad_to_fit: bool = False
    # What earlier steps saved on the publication (its progress: e.g. Instagram's containers,
    # created ahead by `prepare`), for the channel to use instead of doing them again.
    progress: Mapping[str, Any] | None = field(default=None, compare=False)
    # A share of another publication: then `text` is only a Facebook share's comment, and
    # images, link and buttons are not sent.
    share: ShareOf | None = None


@dataclass(frozen=True)
class Published:
    """Where a publication landed."""

    remote_id: str
    url: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)  # e.g. all message ids of an album


class Verdict(enum.StrEnum):
    POSTED = "posted"
    NOT_POSTED = "not_posted"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Reconciliation:
    verdict: Verdict
    published: Published | None = None
    detail: str = ""


@dataclass(frozen=True)
class Metrics:
    """Engagement of one published item; None means the platform does not say (not zero)."""

    remote_id: str
    reactions: int | None = None
    comments: int | None = None
    shares: int | None = None
    views: int | None = None
    reach: int | None = None
    saves: int | None = None
    source: str = ""


@dataclass(frozen=True)
class CredentialStatus:
    valid: bool
    detail: str = ""
    expires_at: datetime | None = None


Checkpoint = Callable[[Mapping[str, Any]], Awaitable[None]]
"""Persists progress inside one publish (e.g. Instagram's container id) before the next step."""


async def no_checkpoint(_progress: Mapping[str, Any]) -> None:
    return None


@runtime_checkable
class Channel(Protocol):
    """One account on one platform.

    Contract:
    - `publish` sends once. It never retries a request that may have reached the platform; a
      failure is raised as exactly one ChannelError subclass. Progress that matters for
      reconciliation (ids of intermediate objects) is handed to `checkpoint` before the step
      that could publish, so a crash leaves enough to find out what happened.
    - `verify` answers whether an attempt that ended OutcomeUnknown is on the platform, using
      `progress` (what `checkpoint` saved) and what `publish` would compose from `outgoing`
      (e.g. a fingerprint of the message as sent, links and all); UNKNOWN when it cannot tell.
    - `fetch_engagement` reads counts for many published items in as few calls as the platform
      allows; missing items are left out of the result, unknown metrics are None.
    - `check_credentials` reads nothing but the token's health.
    - Content that cannot fit the platform is refused with Rejected before any request is made.
    - An `outgoing.share` is published by sharing its source as its mode says (Telegram: copy
      or forward; Facebook: a link share); a mode the platform cannot do is Rejected before
      any request.
    - A channel may also be `Preparing` (below): then `publish` uses what `prepare` made,
      found in `outgoing.progress`, when it still fits the content and is usable.
    """

    platform: Platform

    async def publish(
        self, outgoing: Outgoing, checkpoint: Checkpoint = no_checkpoint
    ) -> Published: ...

    async def verify(
        self, outgoing: Outgoing, progress: Mapping[str, Any], sent_after: datetime
    ) -> Reconciliation: ...

    async def fetch_engagement(self, remote_ids: Sequence[str]) -> dict[str, Metrics]: ...

    async def check_credentials(self) -> CredentialStatus: ...

    async def close(self) -> None: ...


@runtime_checkable
class InsightsGated(Protocol):
    """An optional capability: engagement whose insights a token may be refused, with public
    counts as the fallback (Instagram). The collector keeps what the adapter learnt per channel.

    Contract:
    - `insights_allowed` is None (unknown: ask), True or False (do not ask); the caller may set
      it before `fetch_engagement` and reads it afterwards.
    - `public_addresses` maps remote ids to their public addresses (permalinks), for the
      posts whose counts the platform's API refuses altogether.
    - Each Metrics' `source` names where its figures came from.
    """

    insights_allowed: bool | None
    public_addresses: dict[str, str]


@runtime_checkable
class Preparing(Protocol):
    """An optional capability: work done ahead of a publication's due moment, so that at the
    moment itself only the step that publishes is left (Instagram's containers).

    Contract:
    - `prepare` may create objects on the platform that publish nothing and are safe to
      abandon (an unused Instagram container expires); it must never publish, nor do anything
      a follower could see.
    - What it made is handed to `checkpoint` as soon as it exists, before waiting on it, so a
      restart finds and reuses it; `outgoing.progress` is what earlier calls saved, and what
      still fits the content and is usable is reused, not made again.
    - It returns the progress to keep (also given to `checkpoint`), when what it made is ready
      or when it stopped waiting for it (then `publish` waits for the rest).
    - A failure is raised as a ChannelError; nothing was published, and `publish` at the due
      moment does whatever is still missing.
    - `processing_seconds` lists how long the platform recently took to make what `prepare`
      made ready (oldest first; empty when nothing was measured yet), so the caller can choose
      how far ahead to prepare.
    """

    async def prepare(
        self, outgoing: Outgoing, checkpoint: Checkpoint = no_checkpoint
    ) -> Mapping[str, Any]: ...

    def processing_seconds(self) -> Sequence[float]: ...
