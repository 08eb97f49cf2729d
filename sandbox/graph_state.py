"""The Graph emulator's memory: Page posts, photos, IG containers and media, usage and settings.

Lives in `sandbox.parts["graph"]`; `Sandbox.reset()` calls `reset()`. Everything here runs on
the sandbox's event-loop thread: from another thread go through `SandboxThread.call`.
"""

from __future__ import annotations

import random
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sandbox.engagement import Engagement, engagement_at
from sandbox.instagram_profiles import PublicProfile, seed_public_profiles
from sandbox.ledger import LedgerItem

if TYPE_CHECKING:
    from sandbox.app import Sandbox

DEFAULT_IG_QUOTA = 50
IG_QUOTA_SECONDS = 86_400
CONTAINER_LIFETIME = timedelta(hours=24)
# Meta publishes no figure for how long an image container takes to process; a few seconds is
# what integrators report for an image, and a carousel waits for its items and then takes its
# own few seconds to assemble.
DEFAULT_IMAGE_PROCESSING = 3.0
DEFAULT_CAROUSEL_PROCESSING = 6.0


@dataclass
class StoredImage:
    """An image the platform holds (uploaded or fetched), served back at `/graph-cdn/{id}`."""

    id: str
    data: bytes
    content_type: str
    width: int
    height: int
    source_url: str | None = None


@dataclass
class PagePost:
    """A Page post, a published photo's post, a scheduled or an unpublished post."""

    id: str  # "{page_id}_{n}"
    page_id: str
    message: str
    created_at: datetime
    link: str | None = None
    photos: list[StoredImage] = field(default_factory=list)
    published: bool = True
    scheduled_at: datetime | None = None
    kind: str = "post"  # post | photo
    deleted: bool = False
    # A share of another Page post (its permalink as `link`): that post's id.
    parent_id: str | None = None

    @property
    def visible(self) -> bool:
        return self.published and not self.deleted


@dataclass
class UnpublishedPhoto:
    """A `published=false` upload, waiting to be attached to a feed post by its id."""

    id: str
    page_id: str
    image: StoredImage
    caption: str
    created_at: datetime
    attached_to: str | None = None


@dataclass
class IgContainer:
    """An Instagram media container (`POST /{ig-user-id}/media`)."""

    id: str
    ig_user_id: str
    media_type: str  # IMAGE | CAROUSEL | STORIES
    caption: str
    created_at: datetime
    image: StoredImage | None = None
    children: list[str] = field(default_factory=list)
    is_carousel_item: bool = False
    processing_seconds: float = 0.0  # fixed when created, from the settings of that moment
    fails: bool = False  # ends in ERROR instead of FINISHED
    published_media_id: str | None = None


@dataclass
class IgMedia:
    """A published Instagram media."""

    id: str
    ig_user_id: str
    container_id: str
    media_type: str  # IMAGE | CAROUSEL_ALBUM | STORIES
    caption: str
    images: list[StoredImage]
    published_at: datetime
    shortcode: str
    deleted: bool = False
    # The owner hid the like and view counts from everyone else (the public web says so).
    counts_hidden: bool = False


INSIGHTS_PERMISSION = "instagram_manage_insights"
BASIC_PERMISSION = "instagram_basic"


@dataclass
class CallBudget:
    """How many calls a target (Page, IG account or the app) may make per window."""

    calls: int
    window_seconds: int = 3600
    enforced: bool = True


@dataclass
class GraphSettings:
    """Knobs for tests and the admin API."""

    # Sandbox seconds from a container's creation until it is FINISHED (see sandbox.instagram).
    ig_image_processing_seconds: float = DEFAULT_IMAGE_PROCESSING
    ig_carousel_processing_seconds: float = DEFAULT_CAROUSEL_PROCESSING
    ig_failing_containers: int = 0  # the next this many image containers end in ERROR
    duplicate_window_seconds: int = 3600
    policy_marker: str = "#sandbox-policy-block"
    page_budget: CallBudget = field(default_factory=lambda: CallBudget(4800))
    app_budget: CallBudget = field(default_factory=lambda: CallBudget(20000, enforced=False))
    target_budgets: dict[str, CallBudget] = field(default_factory=dict)
    ig_quota: dict[str, int] = field(default_factory=dict)
    throttle_codes: dict[str, int] = field(default_factory=dict)  # target -> code for "429"


class GraphState:
    """Per-Page and per-IG-account history plus the platform's bookkeeping."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.reset()

    def reset(self) -> None:
        self.settings = GraphSettings()
        self.posts: dict[str, PagePost] = {}
        self.photos: dict[str, UnpublishedPhoto] = {}  # unpublished uploads by id
        self.photo_posts: dict[str, str] = {}  # published photo id -> post id
        self.images: dict[str, StoredImage] = {}
        self.containers: dict[str, IgContainer] = {}
        self.media: dict[str, IgMedia] = {}
        self.expired_tokens: set[str] = set()
        # Permissions a token was granted without (instagram_manage_insights, instagram_basic):
        # the reads that need them answer code 10.
        self.denied_permissions: dict[str, set[str]] = {}
        self.public_profiles: dict[str, PublicProfile] = seed_public_profiles(self.sandbox)
        self.http_calls = 0
        self.calls_by_op: Counter[str] = Counter()
        self._usage: dict[str, deque[float]] = {}
        self._next_id = 0
        self.rng = random.Random(self.sandbox.seed)  # fbtrace ids, 5xx codes

    # --- ids and time ---------------------------------------------------------------------

    def new_number(self, base: int) -> str:
        """A fresh numeric id in the style of Graph's (deterministic, never reused)."""
        self._next_id += 1
        return str(base + self._next_id * 7919)

    def now(self) -> datetime:
        return self.sandbox.clock.now()

    # --- reading history (the followers' page, tests, the admin API) -----------------------

    def page_history(self, page_id: str) -> list[PagePost]:
        """The Page's visible posts, newest first."""
        self.promote_due_posts()
        posts = [p for p in self.posts.values() if p.page_id == page_id and p.visible]
        return sorted(posts, key=lambda p: p.created_at, reverse=True)

    def scheduled_posts(self, page_id: str) -> list[PagePost]:
        self.promote_due_posts()
        return [
            p
            for p in self.posts.values()
            if p.page_id == page_id and p.scheduled_at is not None and not p.published
        ]

    def ig_history(self, ig_user_id: str) -> list[IgMedia]:
        """The IG account's published media, newest first."""
        media = [m for m in self.media.values() if m.ig_user_id == ig_user_id and not m.deleted]
        return sorted(media, key=lambda m: m.published_at, reverse=True)

    def engagement(self, remote_id: str, published_at: datetime) -> Engagement:
        """Counts of a published item now, as the platform reports them."""
        return engagement_at(self.sandbox.seed, remote_id, published_at, self.now())

    # --- settings ---------------------------------------------------------------------------

    def revoke_token(self, token: str) -> None:
        """Calls with this token now fail with code 190, subcode 467."""
        self.sandbox.fixtures.revoked_tokens.add(token)

    def expire_token(self, token: str) -> None:
        """Calls with this token now fail with code 190, subcode 463."""
        self.expired_tokens.add(token)

    def deny_permissions(self, token: str, permissions: set[str]) -> None:
        """The permissions this token now lacks (none: all granted again)."""
        unknown = permissions - {INSIGHTS_PERMISSION, BASIC_PERMISSION}
        if unknown:
            raise ValueError(f"the sandbox checks no permission {sorted(unknown)}")
        if permissions:
            self.denied_permissions[token] = set(permissions)
        else:
            self.denied_permissions.pop(token, None)

    def lacks(self, token: str | None, permission: str) -> bool:
        return permission in self.denied_permissions.get(token or "", set())

    def set_ig_quota(self, ig_user_id: str, quota_total: int) -> None:
        """Posts per 24 h the account may publish through the API (default 50)."""
        self.settings.ig_quota[ig_user_id] = quota_total

    def ig_quota(self, ig_user_id: str) -> int:
        return self.settings.ig_quota.get(ig_user_id, DEFAULT_IG_QUOTA)

    def set_call_budget(
        self, target: str | None, calls: int | None, window_seconds: int = 3600
    ) -> None:
        """Budget of Graph calls per window for one Page/IG account, or for all (target None).

        `calls=None` switches enforcement off (usage headers still count, against the
        default 4800); the default is 4800 calls per hour per Page or IG account.
        """
        budget = CallBudget(calls or 4800, window_seconds, enforced=calls is not None)
        if target is None:
            self.settings.page_budget = budget
            self.settings.target_budgets.clear()
        else:
            self.settings.target_budgets[target] = budget

    def set_app_budget(self, calls: int | None, window_seconds: int = 3600) -> None:
        """App-wide budget (code 4 when exceeded); off by default."""
        self.settings.app_budget = CallBudget(calls or 20000, window_seconds, calls is not None)

    def set_throttle_code(self, target: str, code: int) -> None:
        """Which throttling code an injected "429" gives for this target (4, 17, 32, 613 ...)."""
        self.settings.throttle_codes[target] = code

    def configure_limits(self, body: dict[str, Any]) -> None:
        """The admin API's `POST limits`: reads the keys it knows, ignores the others.

        `graph_page_budget` (calls per window for every Page and IG account, null = off),
        `graph_budget_window_seconds`, `graph_app_budget` (null = off), `ig_quota` (posts per
        24 h for every IG account).
        """
        window = int(body.get("graph_budget_window_seconds", 3600))
        if "graph_page_budget" in body:
            calls = body["graph_page_budget"]
            self.set_call_budget(None, None if calls is None else int(calls), window)
        if "graph_app_budget" in body:
            calls = body["graph_app_budget"]
            self.set_app_budget(None if calls is None else int(calls), window)
        if "ig_quota" in body:
            for account in self.sandbox.fixtures.instagram:
                self.set_ig_quota(account.id, int(body["ig_quota"]))

    def configure_processing(self, body: dict[str, Any]) -> dict[str, Any]:
        """The admin API's `POST instagram/processing`: `image_seconds`, `carousel_seconds`
        (sandbox seconds from a container's creation until it is FINISHED; for containers
        created from now on) and `fail_next` (that many next image containers end in ERROR).
        Returns the settings now."""
        settings = self.settings
        for key, attribute in (
            ("image_seconds", "ig_image_processing_seconds"),
            ("carousel_seconds", "ig_carousel_processing_seconds"),
        ):
            if key in body:
                seconds = float(body[key])
                if not 0 <= seconds <= CONTAINER_LIFETIME.total_seconds():
                    raise ValueError(f"{key} must be between 0 and 86400 seconds")
                setattr(settings, attribute, seconds)
        if "fail_next" in body:
            count = int(body["fail_next"])
            if count < 0:
                raise ValueError("fail_next must not be negative")
            settings.ig_failing_containers = count
        return self.processing()

    def processing(self) -> dict[str, Any]:
        settings = self.settings
        return {
            "image_seconds": settings.ig_image_processing_seconds,
            "carousel_seconds": settings.ig_carousel_processing_seconds,
            "fail_next": settings.ig_failing_containers,
        }

    def on_clock_advanced(self) -> None:
        """The admin API moved time on: scheduled posts that fell due become visible."""
        self.promote_due_posts()

    def budget_for(self, target: str) -> CallBudget:
        return self.settings.target_budgets.get(target, self.settings.page_budget)

    # --- usage ------------------------------------------------------------------------------

    def note_usage(self, key: str, window_seconds: int) -> int:
        """Count one call for `key`; returns the calls within the window, this one included."""
        now = self.now().timestamp()
        calls = self._usage.setdefault(key, deque())
        calls.append(now)
        while calls and calls[0] <= now - window_seconds:
            calls.popleft()
        return len(calls)

    def usage(self, key: str, window_seconds: int) -> int:
        now = self.now().timestamp()
        return sum(1 for t in self._usage.get(key, ()) if t > now - window_seconds)

    def regain_seconds(self, key: str, window_seconds: int) -> float:
        """Seconds until the oldest counted call leaves the window."""
        now = self.now().timestamp()
        live = [t for t in self._usage.get(key, ()) if t > now - window_seconds]
        return max(0.0, live[0] + window_seconds - now) if live else 0.0

    # --- scheduled posts ---------------------------------------------------------------------

    def promote_due_posts(self) -> None:
        """Scheduled posts whose time has come become visible (and enter the ledger)."""
        now = self.now()
        for post in self.posts.values():
            if post.scheduled_at is not None and not post.published and post.scheduled_at <= now:
                post.published = True
                post.created_at = post.scheduled_at
                self.record(post)

    def record(self, post: PagePost) -> None:
        self.sandbox.ledger.record(
            LedgerItem(
                platform="facebook",
                target=post.page_id,
                remote_id=post.id,
                text=post.message,
                media_count=len(post.photos),
                at=post.created_at,
                kind=post.kind,
            )
        )


def graph_state(sandbox: Sandbox) -> GraphState:
    """The Graph emulator's state for this sandbox (created on first use)."""
    state = sandbox.parts.get("graph")
    if not isinstance(state, GraphState):
        state = GraphState(sandbox)
        sandbox.parts["graph"] = state
    return state
