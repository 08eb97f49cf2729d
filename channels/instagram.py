"""Instagram business accounts through the Graph API: single images and carousels.

Publishing is Meta's container flow: prepare each image (JPEG, 8 MB, 4:5..1.91:1), give
Instagram a public address for it, create a container per image (plus a carousel container),
hand the container ids to `checkpoint`, poll until FINISHED, then `media_publish` once. Only
that last call can publish, so only it is ever "maybe sent"; everything before it is safe to
repeat (an unused container expires after 24 h).

All but that last call can therefore be done ahead of the due moment: `prepare` creates the
containers and waits on them, keeping them in the publication's progress, and `publish` at
the due moment then only calls `media_publish`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from channels.base import (
    AuthExpired,
    ChannelError,
    Checkpoint,
    CredentialStatus,
    NotSent,
    Outgoing,
    Published,
    RateLimited,
    Reconciliation,
    Rejected,
    Verdict,
    no_checkpoint,
)
from channels.graph import (
    DEFAULT_API_URL,
    DEFAULT_TIMEOUT,
    DEFAULT_VERSION,
    GraphClient,
    Sleep,
    text_fingerprint,
)
from channels.instagram_containers import (
    CONTAINER_EXPIRED,
    POLL_DELAYS,
    PREPARE_POLL_DELAYS,
    PROCESSING_FAILED,
    STILL_PROCESSING,
    Containers,
    Prepared,
    Processing,
    Status,
    content_key,
)
from channels.instagram_engagement import MEDIA_INSIGHTS, InstagramEngagement, PublicCollector
from channels.media import PreparedImage
from content.domain.rules import fit_problems
from content.domain.states import Platform

log = logging.getLogger(__name__)

QUOTA_FALLBACK_WAIT = 3600.0  # when the moment a quota slot frees cannot be worked out
CLOCK_SLACK = timedelta(minutes=5)
CAROUSEL_MIN = 2
PROCESSING_KEPT = 20  # recent processing times kept, to choose how far ahead to prepare
READY_KEPT = 1000  # containers remembered as FINISHED (the progress says so too)

# Kept with the post (its progress's `late`) and logged when it waited for Instagram.
LATE_PROCESSING = (
    "Instagram was still processing the images prepared ahead at the due moment; the post was "
    "published as soon as they were ready."
)
LATE_UNPREPARED = (
    "The images were not uploaded to Instagram ahead of the due moment, so the post waited "
    "for Instagram to process them."
)
LATE_REMADE = (
    "The upload prepared ahead had expired or failed at Instagram, so the images were uploaded "
    "again and the post waited for Instagram to process them."
)
QUOTA_FULL = (
    "The Instagram account has published {used} of the {total} posts Instagram allows through "
    "the API in 24 hours. Afisha will publish when a slot frees up, in about {minutes} minutes."
)


def compose_caption(outgoing: Outgoing) -> str:
    """The caption: links in captions are not clickable, but still readable, so they are kept."""
    parts = [outgoing.text.strip()] if outgoing.text.strip() else []
    extras = [outgoing.link] if outgoing.link else []
    extras += [f"{b.text}: {b.url}" for b in outgoing.buttons if b.url]
    if extras:
        parts.append("\n".join(extras))
    return "\n\n".join(parts)


def _parse_time(raw: Any) -> datetime | None:
    try:
        return datetime.strptime(str(raw), "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None


def _number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class InstagramChannel(InstagramEngagement):
    """One Instagram business account.

    Args:
        ig_user_id: the Instagram user id (not the username).
        token: a token that may publish for the account.
        page_id: the linked Facebook Page; images without a public address are uploaded to it
            as unpublished photos and Instagram fetches them from Meta's CDN.
        page_token: the Page's token for those uploads, if `token` may not post to the Page.
        public_media_url: base address where `media_root` is served publicly; preferred over
            hosting on the Page when set.
        sleep: awaited between container status polls (tests pass a no-op).
        now: the current time, for the quota window.
        collector: reads public counts when the token may not read insights.
        insight_metrics: insights metric name -> Metrics field, current names by default.
    """

    platform = Platform.INSTAGRAM

    def __init__(
        self,
        ig_user_id: str,
        token: str,
        api_url: str = DEFAULT_API_URL,
        version: str = DEFAULT_VERSION,
        page_id: str | None = None,
        public_media_url: str | None = None,
        *,
        page_token: str | None = None,
        media_root: Path | None = None,
        name: str | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        sleep: Sleep = asyncio.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        poll_delays: Sequence[float] = POLL_DELAYS,
        collector: PublicCollector | None = None,
        insight_metrics: Mapping[str, str] = MEDIA_INSIGHTS,
    ) -> None:
        self.ig_user_id = ig_user_id
        self.page_id = page_id
        self.public_media_url = public_media_url.rstrip("/") if public_media_url else None
        self.media_root = media_root
        self.name = name or f"Instagram account {ig_user_id}"
        self._now = now
        self._poll_delays = tuple(poll_delays)
        self.collector = collector
        settings: dict[str, Any] = {
            "api_url": api_url,
            "version": version,
            "timeout": timeout,
            "sleep": sleep,
        }
        self.graph = GraphClient(token, platform=self.platform, service="Instagram", **settings)
        self.page_graph = (
            GraphClient(page_token, platform=self.platform, service="Facebook", **settings)
            if page_token and page_token != token
            else self.graph
        )
        self.containers = Containers(
            ig_user_id,
            self.graph,
            self.page_graph,
            page_id=page_id,
            public_media_url=self.public_media_url,
            media_root=media_root,
            sleep=sleep,
            poll_delays=poll_delays,
        )
        self.insight_metrics = dict(insight_metrics)
        # None: not known yet; False: the token may not read them (asked once, then never).
        self.insights_allowed: bool | None = None if insight_metrics else False
        self.public_addresses: dict[str, str] = {}
        # Processing times of containers made here, and containers seen FINISHED ahead.
        self._processing: deque[float] = deque(maxlen=PROCESSING_KEPT)
        self._ready: set[str] = set()

    # --- publishing ---------------------------------------------------------------------------

    async def publish(
        self, outgoing: Outgoing, checkpoint: Checkpoint = no_checkpoint
    ) -> Published:
        """Publish one image or a carousel of 2-10; see the module docstring for the flow.

        Containers prepared ahead for this very content (in `outgoing.progress`) are published
        at once, or as soon as they are FINISHED; expired or failed ones are made again. When
        the post had to wait for Instagram's processing, the result's `late` says how long and
        why (and it is logged).
        """
        caption = self._caption(outgoing)
        began = self._now()
        key = content_key(outgoing, caption)
        saved = Prepared.read(outgoing.progress, key, began)
        reason = LATE_UNPREPARED
        if saved is not None and saved.failed is None:
            published = await self._publish_prepared(saved, began)
            if published is not None:
                return published
            reason = LATE_REMADE
        images = await self.containers.prepare_images(outgoing)
        await self._check_quota()
        made = await self._make(key, outgoing, caption, images, checkpoint)
        processing = await self.containers.wait(made.ids, self._poll_delays)
        self._raise_unless_finished(processing)
        self._measured(made)
        return await self._media_publish(made, began if processing.waited else None, reason)

    async def prepare(
        self, outgoing: Outgoing, checkpoint: Checkpoint = no_checkpoint
    ) -> Mapping[str, Any]:
        """Create the containers ahead and wait until Instagram has processed them; never
        publishes (the `Preparing` contract). Containers saved in `outgoing.progress` for the
        same content are reused; expired or failed ones are made again, once."""
        caption = self._caption(outgoing)
        key = content_key(outgoing, caption)
        saved = Prepared.read(outgoing.progress, key, self._now())
        if saved is not None and saved.failed:
            raise Rejected(saved.failed, platform=self.platform)
        if saved is not None and saved.ready_at is not None:
            return saved.progress()
        processing = None
        for _ in range(2):
            made_here = saved is None
            if saved is None:
                images = await self.containers.prepare_images(outgoing)
                saved = await self._make(key, outgoing, caption, images, checkpoint)
            processing = await self.containers.wait(saved.ids, PREPARE_POLL_DELAYS)
            if processing.status is Status.IN_PROGRESS:
                return saved.progress()  # publish waits for the rest
            if processing.status is Status.FINISHED:
                saved = saved.ready(self._now())
                if made_here:
                    self._measured(saved)
                if len(self._ready) >= READY_KEPT:  # prepared and never published: forget them
                    self._ready.clear()
                self._ready.add(saved.container)
                await checkpoint(saved.progress())
                return saved.progress()
            log.info("Instagram containers %s ahead of time; making them again", processing.status)
            failed, saved = saved, None
        assert processing is not None
        if processing.status is Status.EXPIRED:
            raise NotSent(CONTAINER_EXPIRED, platform=self.platform)
        reason = PROCESSING_FAILED.format(detail=processing.detail)
        await checkpoint(replace(failed, failed=reason).progress())
        raise Rejected(reason, platform=self.platform)

    def processing_seconds(self) -> Sequence[float]:
        """How long containers made by this channel took to be FINISHED, oldest first."""
        return tuple(self._processing)

    def _caption(self, outgoing: Outgoing) -> str:
        """The caption, or Rejected (before any request) when the post cannot fit."""
        caption = compose_caption(outgoing)
        problems = fit_problems(self.platform, caption, len(outgoing.images), self.name)
        if problems:
            raise Rejected(" ".join(str(p) for p in problems), platform=self.platform)
        return caption

    async def _make(
        self,
        key: str,
        outgoing: Outgoing,
        caption: str,
        images: Sequence[PreparedImage],
        checkpoint: Checkpoint,
    ) -> Prepared:
        """New containers, handed to `checkpoint` before anything waits on them."""
        created = self._now()
        container, children = await self.containers.make(outgoing, caption, images)
        made = Prepared(key, container, tuple(children), created)
        await checkpoint(made.progress())
        return made

    def _measured(self, made: Prepared) -> None:
        """Note how long Instagram took to process containers made here."""
        done = made.ready_at or self._now()
        self._processing.append(max(0.0, (done - made.created_at).total_seconds()))

    def _raise_unless_finished(self, processing: Processing) -> None:
        if processing.status is Status.ERROR:
            detail = PROCESSING_FAILED.format(detail=processing.detail)
            raise Rejected(detail, platform=self.platform)
        if processing.status is Status.EXPIRED:
            raise NotSent(CONTAINER_EXPIRED, platform=self.platform)
        if processing.status is Status.IN_PROGRESS:
            raise NotSent(STILL_PROCESSING, platform=self.platform)

    async def _publish_prepared(self, saved: Prepared, began: datetime) -> Published | None:
        """Publish containers made ahead; None when they cannot be (expired, failed), so that
        they are made again. Nothing else is asked of Instagram first when they are known to be
        FINISHED."""
        waited = False
        if saved.ready_at is None and saved.container not in self._ready:
            processing = await self.containers.wait(saved.ids, self._poll_delays)
            if processing.status in (Status.EXPIRED, Status.ERROR):
                log.info("Instagram containers prepared ahead are %s", processing.status)
                return None
            self._raise_unless_finished(processing)
            waited = processing.waited
        self._ready.discard(saved.container)
        try:
            return await self._media_publish(saved, began if waited else None, LATE_PROCESSING)
        except RateLimited:
            raise
        except NotSent as error:
            # Nothing was published: are the containers still usable?
            processing = await self.containers.wait(saved.ids, self._poll_delays)
            if processing.status in (Status.EXPIRED, Status.ERROR):
                log.info("Instagram containers prepared ahead are %s", processing.status)
                return None
            if processing.status is not Status.FINISHED or not processing.waited:
                raise error from None
            return await self._media_publish(saved, began, LATE_PROCESSING)

    async def _media_publish(
        self, made: Prepared, late_since: datetime | None, reason: str
    ) -> Published:
        """The one call that publishes; `late_since`: when the post began waiting for
        Instagram's processing, to be said in the result."""
        started = self._now()
        try:
            answer = await self.graph.post(
                f"{self.ig_user_id}/media_publish", {"creation_id": made.container}
            )
        except RateLimited as limited:
            raise await self._quota_or(limited) from None
        media_id = str(answer["id"])
        extra: dict[str, Any] = {
            "container_id": made.container,
            "child_container_ids": list(made.children),
        }
        if late_since is not None:
            seconds = round((started - late_since).total_seconds(), 1)
            extra["late"] = {"seconds": seconds, "reason": reason}
            log.warning("Instagram post on %s went out %.1f s late: %s", self.name, seconds, reason)
        permalink, shortcode = await self._permalink(media_id)
        if shortcode:
            extra["shortcode"] = shortcode
        return Published(media_id, permalink, extra)

    async def _quota_or(self, limited: RateLimited) -> RateLimited:
        """The refusal for a full quota (with when a slot frees), else `limited` itself."""
        try:
            await self._check_quota()
        except RateLimited as full:
            return full
        except ChannelError:
            pass
        return limited

    async def _check_quota(self) -> None:
        """Refuse before publishing when the 24-hour publishing quota is used up."""
        answer = await self.graph.get(
            f"{self.ig_user_id}/content_publishing_limit", fields="quota_usage,config"
        )
        entry = (answer.get("data") or [{}])[0]
        used = _number(entry.get("quota_usage")) or 0
        config = entry.get("config") or {}
        total = _number(config.get("quota_total"))
        window = _number(config.get("quota_duration")) or 86_400
        if total is None or used < total:
            return
        wait = await self._quota_frees_in(used, window)
        reason = QUOTA_FULL.format(used=used, total=total, minutes=max(1, round(wait / 60)))
        raise RateLimited(reason, wait, platform=self.platform)

    async def _quota_frees_in(self, used: int, window: int) -> float:
        """Seconds until the oldest post in the window leaves it.

        The `used`-th newest media is taken as the oldest counted one; media posted by hand do
        not count against the quota, so this errs towards waiting a little too long.
        """
        try:
            answer = await self.graph.get(
                f"{self.ig_user_id}/media", fields="timestamp", limit=str(min(used, 100))
            )
        except ChannelError:
            return QUOTA_FALLBACK_WAIT
        stamps = [t for m in answer.get("data") or [] if (t := _parse_time(m.get("timestamp")))]
        if len(stamps) < used:
            return QUOTA_FALLBACK_WAIT
        oldest = sorted(stamps, reverse=True)[used - 1]
        frees_at = oldest + timedelta(seconds=window)
        return min(max((frees_at - self._now()).total_seconds(), 60.0), float(window))

    async def _permalink(self, media_id: str) -> tuple[str | None, str | None]:
        try:
            answer = await self.graph.get(media_id, fields="permalink,shortcode")
        except ChannelError as error:
            log.info("permalink of a new Instagram post not read: %s", error.__class__.__name__)
            return None, None
        return answer.get("permalink"), answer.get("shortcode")

    # --- reconciling --------------------------------------------------------------------------

    async def verify(
        self, outgoing: Outgoing, progress: Mapping[str, Any], sent_after: datetime
    ) -> Reconciliation:
        """Whether an attempt published: by the saved container's status, else by caption.

        A container that is not PUBLISHED was never published (only `media_publish` publishes
        it), so that answer is final. A PUBLISHED one is looked up among recent media by the
        caption fingerprint (`text_fingerprint` of `compose_caption`) to learn the media id.
        AuthExpired is raised; other failures to read give UNKNOWN.
        """
        try:
            return await self._verify(outgoing, progress, sent_after)
        except AuthExpired:
            raise
        except ChannelError as error:
            return Reconciliation(Verdict.UNKNOWN, detail=error.reason)

    async def _verify(
        self, outgoing: Outgoing, progress: Mapping[str, Any], sent_after: datetime
    ) -> Reconciliation:
        container = progress.get("container_id")
        if container:
            answer = await self.graph.get(str(container), fields="status_code")
            status = str(answer.get("status_code") or "")
            if status != "PUBLISHED":
                detail = f"The prepared upload is {status or 'unknown'}, never published."
                return Reconciliation(Verdict.NOT_POSTED, detail=detail)
        found = await self._find_media(compose_caption(outgoing), sent_after - CLOCK_SLACK)
        if container:
            if found is None:
                return Reconciliation(
                    Verdict.POSTED,
                    detail="Instagram says the upload was published, but the post was not "
                    "found among the account's recent posts.",
                )
        if found is None:
            return Reconciliation(Verdict.NOT_POSTED, detail="No post with this caption.")
        media_id = str(found["id"])
        extra = {"container_id": container} if container else {}
        if found.get("shortcode"):
            extra["shortcode"] = found["shortcode"]
        return Reconciliation(Verdict.POSTED, Published(media_id, found.get("permalink"), extra))

    async def _find_media(self, caption: str, since: datetime) -> dict[str, Any] | None:
        answer = await self.graph.get(
            f"{self.ig_user_id}/media",
            fields="id,caption,timestamp,permalink,shortcode",
            limit="50",
        )
        wanted = text_fingerprint(caption)
        matches = [
            m
            for m in answer.get("data") or []
            if (_parse_time(m.get("timestamp")) or since) >= since
            and text_fingerprint(str(m.get("caption") or "")) == wanted
        ]
        return min(matches, key=lambda m: _parse_time(m.get("timestamp")) or since, default=None)

    # --- health -------------------------------------------------------------------------------

    async def check_credentials(self) -> CredentialStatus:
        # The account itself, not `me`: with Facebook Login the token is the Page's, whose `me`
        # is the Page; reading the IG user proves the token may act for it either way.
        return await self.graph.check_credentials(
            self.ig_user_id, node=self.ig_user_id, fields="id,username"
        )

    async def close(self) -> None:
        self.graph.close()
        if self.page_graph is not self.graph:
            self.page_graph.close()
