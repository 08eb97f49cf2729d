"""Public Instagram counts read with instaloader: for tokens that may not read insights (by
shortcode, `collect`) and for partner libraries followed without a token (a profile's recent
posts, `account`).

A logged-out visitor sees a post's likes, comments and (for videos) views; instaloader reads them
with its own HTTP layer. `base_url` redirects that layer (for tests and the
sandbox): a transport adapter mounted on instaloader's session rewrites `www.instagram.com` and
`i.instagram.com` to it. instaloader builds short-lived sessions for its GraphQL queries with
`instaloadercontext.copy_session`, which copies cookies and headers but not adapters, so this
module wraps that function once to carry our adapter over; sessions without it are copied
exactly as before.

A post whose owner hid its like and view counts: instaloader's `Post.likes` reads 0 (it takes
`like_count or 0`), so the post's own `like_and_view_counts_disabled` flag, which instaloader
keeps in the post's node, decides: hidden counts are None (unknown), never 0.

Figures read here carry the source `instaloader_public`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from instaloader import Post, Profile, instaloadercontext
from instaloader.exceptions import (
    BadResponseException,
    ConnectionException,
    InstaloaderException,
    LoginRequiredException,
    ProfileNotExistsException,
    QueryReturnedNotFoundException,
    TooManyRequestsException,
)
from requests.adapters import HTTPAdapter

from channels.base import Metrics, NotSent, RateLimited, Rejected
from content.domain.states import Platform

log = logging.getLogger(__name__)

INSTAGRAM_WEB = "https://www.instagram.com"
HOSTS = ("https://www.instagram.com", "https://i.instagram.com")
THROTTLED_WAIT = 3600.0  # instaloader's own guidance after a 429 is to wait for a long while

THROTTLED = (
    "Instagram is limiting anonymous reading of public posts; Afisha will read the public counts "
    "again in about an hour."
)
UNREACHABLE = "Afisha could not read public Instagram posts ({kind}); it will try again later."
SOURCE = "instaloader_public"


RECENT_POSTS = 12  # what a profile page shows a visitor before scrolling


class AccountUnknown(Rejected):
    """No Instagram account has this username (or it was removed)."""


class AccountPrivate(Rejected):
    """The account is private: a visitor sees no posts."""


@dataclass(frozen=True)
class PublicPost:
    """One post of a public account, with the counts a visitor sees (None: hidden)."""

    shortcode: str
    posted_at: datetime
    caption: str | None
    metrics: Metrics


@dataclass(frozen=True)
class PublicAccount:
    username: str
    full_name: str | None
    posts: list[PublicPost]


def counts_hidden(post: Post) -> bool:
    """Whether the owner hid the post's like and view counts from visitors."""
    # instaloader keeps the web data's fields in the node but exposes no property for this one.
    node: Mapping[str, Any] = getattr(post, "_node", {}) or {}
    return bool(node.get("like_and_view_counts_disabled"))


class _RedirectAdapter(HTTPAdapter):
    """Sends requests for instagram.com to `base_url`, keeping the original URL on the response
    (so cookies and redirects are judged as instaloader expects)."""

    def __init__(self, base_url: str) -> None:
        super().__init__(max_retries=0)
        self.base_url = base_url.rstrip("/")

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        original = str(request.url)
        parts = urlsplit(original)
        redirected = request.copy()
        redirected.url = self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        response = super().send(redirected, *args, **kwargs)
        response.url = original
        response.request = request
        return response


def _mount(session: requests.Session, adapter: _RedirectAdapter) -> None:
    for host in HOSTS:
        session.mount(host, adapter)


_original_copy_session = instaloadercontext.copy_session


def _copy_session_keeping_redirect(
    session: requests.Session, request_timeout: float | None = None
) -> requests.Session:
    new = _original_copy_session(session, request_timeout)
    adapter = session.get_adapter(HOSTS[0] + "/")
    if isinstance(adapter, _RedirectAdapter):
        _mount(new, adapter)
    return new


if not getattr(instaloadercontext.copy_session, "keeps_afisha_redirect", False):
    _copy_session_keeping_redirect.keeps_afisha_redirect = True  # type: ignore[attr-defined]
    instaloadercontext.copy_session = _copy_session_keeping_redirect


class _Context(instaloadercontext.InstaloaderContext):
    """instaloader's context with every session it makes sent to `base_url`."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        self._adapter = _RedirectAdapter(base_url) if base_url != INSTAGRAM_WEB else None
        super().__init__(**kwargs)

    def get_anonymous_session(self) -> requests.Session:
        session: requests.Session = super().get_anonymous_session()
        if self._adapter is not None:
            _mount(session, self._adapter)
        return session


def _metrics(media_id: str, post: Post) -> Metrics:
    hidden = counts_hidden(post)
    likes: object = None if hidden else post.likes
    views: object = None if hidden else post.video_view_count
    comments: object = post.comments
    return Metrics(
        remote_id=media_id,
        reactions=likes if isinstance(likes, int) else None,
        comments=comments if isinstance(comments, int) else None,
        views=views if isinstance(views, int) else None,
        source=SOURCE,
    )


class InstaloaderCollector:
    """Reads public likes, comments and video views of Instagram posts by shortcode."""

    def __init__(self, base_url: str = INSTAGRAM_WEB, *, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._lock = threading.Lock()  # one instaloader context is not safe across threads
        self._context: Any = None

    def _make_context(self) -> Any:
        return _Context(
            self.base_url,
            sleep=False,
            quiet=True,
            max_connection_attempts=1,  # no hidden retries: the engine decides when to retry
            request_timeout=self.timeout,
            iphone_support=False,
        )

    async def collect(self, shortcodes: Mapping[str, str]) -> dict[str, Metrics]:
        """Metrics by media id for `{media_id: shortcode}`; posts it cannot see are left out.

        Raises:
            RateLimited: Instagram throttled anonymous reading.
            NotSent: Instagram could not be reached at all.
        """
        return await asyncio.to_thread(self._collect, dict(shortcodes))

    def _collect(self, shortcodes: dict[str, str]) -> dict[str, Metrics]:
        with self._lock:
            if self._context is None:
                self._context = self._make_context()
            result: dict[str, Metrics] = {}
            for media_id, shortcode in shortcodes.items():
                metrics = self._read(media_id, shortcode)
                if metrics is not None:
                    result[media_id] = metrics
            return result

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """instaloader's failures as the channel errors the engine knows."""
        try:
            yield
        except TooManyRequestsException:
            raise RateLimited(THROTTLED, THROTTLED_WAIT, platform=Platform.INSTAGRAM) from None
        except ConnectionException as error:
            # A page load (a profile's) that met 429 is a plain ConnectionException whose
            # message starts with the status, unlike the GraphQL queries' TooManyRequests.
            throttled = str(error).startswith("429")
            if throttled or isinstance(error.__cause__, TooManyRequestsException):
                raise RateLimited(THROTTLED, THROTTLED_WAIT, platform=Platform.INSTAGRAM) from None
            reason = UNREACHABLE.format(kind=type(error.__cause__ or error).__name__)
            raise NotSent(reason, platform=Platform.INSTAGRAM) from None

    def _read(self, media_id: str, shortcode: str) -> Metrics | None:
        try:
            with self._reading():
                try:
                    return _metrics(media_id, Post.from_shortcode(self._context, shortcode))
                except ConnectionException as error:
                    if isinstance(error.__cause__, QueryReturnedNotFoundException):
                        return None
                    raise
        except (QueryReturnedNotFoundException, BadResponseException):
            log.info("public Instagram post %s not found", shortcode)
            return None
        except InstaloaderException as error:
            log.info("public Instagram post %s not read: %s", shortcode, type(error).__name__)
            return None

    async def account(self, username: str, *, limit: int = RECENT_POSTS) -> PublicAccount:
        """A public account's most recent posts (up to `limit`) with their public counts.

        Raises:
            AccountUnknown: no account has this username.
            AccountPrivate: the account is private.
            RateLimited, NotSent: as `collect`.
        """
        return await asyncio.to_thread(self.read_account, username, limit)

    def read_account(self, username: str, limit: int = RECENT_POSTS) -> PublicAccount:
        """`account`, blocking (for the command line)."""
        with self._lock, self._reading():
            if self._context is None:
                self._context = self._make_context()
            try:
                profile = Profile.from_username(self._context, username)
                if profile.is_private:
                    raise AccountPrivate(f"the Instagram account {username} is private")
                posts = [
                    PublicPost(
                        post.shortcode,
                        post.date_utc.replace(tzinfo=UTC),
                        (post.caption or "")[:200] or None,
                        _metrics(post.shortcode, post),
                    )
                    for post in itertools.islice(profile.get_posts(), limit)
                ]
            except ProfileNotExistsException:
                raise AccountUnknown(f"no Instagram account is named {username}") from None
            except LoginRequiredException:
                raise AccountPrivate(f"the Instagram account {username} is private") from None
            except (QueryReturnedNotFoundException, BadResponseException) as error:
                reason = UNREACHABLE.format(kind=type(error).__name__)
                raise NotSent(reason, platform=Platform.INSTAGRAM) from None
            return PublicAccount(profile.username, profile.full_name or None, posts)

    def close(self) -> None:
        with self._lock:
            if self._context is not None:
                self._context.close()
                self._context = None
