"""Instagram business accounts through the Graph API: single images and carousels.

Publishing is Meta's container flow: prepare each image (JPEG, 8 MB, 4:5..1.91:1), give
Instagram a public address for it, create a container per image (plus a carousel container),
hand the container ids to `checkpoint`, poll until FINISHED, then `media_publish` once. Only
that last call can publish, so only it is ever "maybe sent"; everything before it is safe to
repeat (an unused container expires after 24 h).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, urlencode

from channels.base import (
    AuthExpired,
    ChannelError,
    Checkpoint,
    CredentialStatus,
    Metrics,
    NotSent,
    Outgoing,
    OutgoingImage,
    Published,
    RateLimited,
    Reconciliation,
    Rejected,
    Verdict,
    no_checkpoint,
)
from channels.graph import (
    BATCH_LIMIT,
    DEFAULT_API_URL,
    DEFAULT_TIMEOUT,
    DEFAULT_VERSION,
    BatchRequest,
    GraphCallError,
    GraphClient,
    Sleep,
    refuses_insights,
    text_fingerprint,
)
from channels.media import PreparedImage, prepare_for_instagram
from content.domain.rules import fit_problems
from content.domain.states import Platform

log = logging.getLogger(__name__)

MEDIA_INSIGHTS = {"reach": "reach", "views": "views", "saved": "saves", "shares": "shares"}
POLL_DELAYS = (2.0, 4.0, 8.0, 15.0, 30.0, 30.0, 30.0, 30.0, 30.0, 30.0, 30.0)  # ≈ 4 min in all
QUOTA_FALLBACK_WAIT = 3600.0  # when the moment a quota slot frees cannot be worked out
CLOCK_SLACK = timedelta(minutes=5)
CAROUSEL_MIN = 2

NEEDS_ADDRESS = (
    "Instagram needs a public web address for each image, and this channel has neither a "
    "public media address nor a linked Facebook Page to host the images. Ask the administrator "
    "to configure one."
)
QUOTA_FULL = (
    "The Instagram account has published {used} of the {total} posts Instagram allows through "
    "the API in 24 hours. Afisha will publish when a slot frees up, in about {minutes} minutes."
)
PROCESSING_FAILED = "Instagram could not process an image ({detail}). Use another image."
STILL_PROCESSING = (
    "Instagram was still processing the images after several minutes, so nothing was "
    "published. Afisha will try again."
)
CONTAINER_EXPIRED = (
    "Instagram's prepared upload expired before it was published, so nothing was published. "
    "Afisha will upload the images again."
)


class PublicCollector(Protocol):
    """Reads public counts of posts by shortcode (e.g. `InstaloaderCollector`)."""

    async def collect(self, shortcodes: Mapping[str, str]) -> dict[str, Metrics]: ...


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


class InstagramChannel:
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
        self._sleep = sleep
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
        self.insight_metrics = dict(insight_metrics)
        # None: not known yet; False: the token may not read them (asked once, then never).
        self.insights_allowed: bool | None = None if insight_metrics else False
        self._hosted: dict[Path, str] = {}  # prepared file -> the address Instagram fetches

    # --- publishing ---------------------------------------------------------------------------

    async def publish(
        self, outgoing: Outgoing, checkpoint: Checkpoint = no_checkpoint
    ) -> Published:
        """Publish one image or a carousel of 2-10; see the module docstring for the flow."""
        caption = compose_caption(outgoing)
        problems = fit_problems(self.platform, caption, len(outgoing.images), self.name)
        if problems:
            raise Rejected(" ".join(str(p) for p in problems), platform=self.platform)
        prepared = [
            await asyncio.to_thread(prepare_for_instagram, image, pad_to_fit=outgoing.pad_to_fit)
            for image in outgoing.images
        ]
        await self._check_quota()
        urls = [
            await self._image_url(image, ready)
            for image, ready in zip(outgoing.images, prepared, strict=True)
        ]
        children: list[str] = []
        if len(urls) == 1:
            container = await self._container(
                image_url=urls[0], caption=caption, alt_text=outgoing.images[0].alt_text
            )
        else:
            for url, image in zip(urls, outgoing.images, strict=True):
                children.append(
                    await self._container(
                        image_url=url, is_carousel_item="true", alt_text=image.alt_text
                    )
                )
            container = await self._container(
                media_type="CAROUSEL", children=",".join(children), caption=caption
            )
        await checkpoint({"container_id": container, "child_container_ids": children})
        await self._wait_until_finished([*children, container])
        answer = await self.graph.post(
            f"{self.ig_user_id}/media_publish", {"creation_id": container}
        )
        media_id = str(answer["id"])
        permalink, shortcode = await self._permalink(media_id)
        extra = {"container_id": container, "child_container_ids": children}
        if shortcode:
            extra["shortcode"] = shortcode
        return Published(media_id, permalink, extra)

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

    async def _image_url(self, image: OutgoingImage, prepared: PreparedImage) -> str:
        """A public address Instagram can fetch the prepared image from."""
        if image.public_url and not prepared.changed:
            return image.public_url
        if self.public_media_url and self.media_root:
            try:
                relative = prepared.path.resolve().relative_to(self.media_root.resolve())
            except ValueError:
                pass
            else:
                return f"{self.public_media_url}/{quote(relative.as_posix())}"
        if prepared.path in self._hosted:
            return self._hosted[prepared.path]
        if not self.page_id:
            raise Rejected(NEEDS_ADDRESS, platform=self.platform)
        data = await asyncio.to_thread(prepared.path.read_bytes)
        # Unpublished: followers never see it, so repeating it after a lost answer is harmless.
        uploaded = await self.page_graph.post(
            f"{self.page_id}/photos",
            {"published": "false"},
            files={"source": (prepared.path.name, data, "image/jpeg")},
            idempotent=True,
        )
        photo = await self.page_graph.get(str(uploaded["id"]), fields="images,picture")
        sources = [i for i in photo.get("images") or [] if isinstance(i, dict) and i.get("source")]
        if sources:
            url = str(max(sources, key=lambda i: _number(i.get("width")) or 0)["source"])
        elif photo.get("picture"):
            url = str(photo["picture"])
        else:
            raise NotSent(
                "Facebook stored the image but did not say where; Afisha will try again.",
                platform=self.platform,
            )
        self._hosted[prepared.path] = url
        return url

    async def _container(self, **params: str | None) -> str:
        """A media container; creating one publishes nothing (it expires unused after 24 h)."""
        data = {k: v for k, v in params.items() if v}
        answer = await self.graph.post(f"{self.ig_user_id}/media", data, idempotent=True)
        return str(answer["id"])

    async def _wait_until_finished(self, containers: Sequence[str]) -> None:
        """Poll each container's status with growing pauses until all are FINISHED."""
        pending = list(containers)
        for delay in (*self._poll_delays, None):
            still: list[str] = []
            for container in pending:
                answer = await self.graph.get(container, fields="status_code,status")
                status = str(answer.get("status_code") or "")
                if status == "ERROR":
                    detail = str(answer.get("status") or "error")
                    raise Rejected(PROCESSING_FAILED.format(detail=detail), platform=self.platform)
                if status == "EXPIRED":
                    raise NotSent(CONTAINER_EXPIRED, platform=self.platform)
                if status not in ("FINISHED", "PUBLISHED"):
                    still.append(container)
            pending = still
            if not pending:
                return
            if delay is not None:
                await self._sleep(delay)
        raise NotSent(STILL_PROCESSING, platform=self.platform)

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

    # --- engagement ---------------------------------------------------------------------------

    def _fields(self, with_insights: bool) -> str:
        fields = "like_count,comments_count,shortcode"
        if with_insights:
            fields += f",insights.metric({','.join(self.insight_metrics)})"
        return fields

    async def fetch_engagement(self, remote_ids: Sequence[str]) -> dict[str, Metrics]:
        """Likes and comments, plus reach, views, saves and shares where the token may read
        insights (one batch call per 50 media). Without insights, the optional public collector
        fills in what it can see (views of videos); unknown values stay None."""
        ids = list(dict.fromkeys(remote_ids))
        bodies: dict[str, Mapping[str, Any]] = {}
        retry: list[str] = []
        for start in range(0, len(ids), BATCH_LIMIT):
            chunk = ids[start : start + BATCH_LIMIT]
            with_insights = self.insights_allowed is not False
            for media_id, answer in zip(chunk, await self._read(chunk, with_insights), strict=True):
                if isinstance(answer, GraphCallError):
                    if with_insights and refuses_insights(answer):
                        self.insights_allowed = False
                        retry.append(media_id)
                    else:
                        self._skip(media_id, answer)
                    continue
                if with_insights:
                    self.insights_allowed = True
                bodies[media_id] = answer
        for start in range(0, len(retry), BATCH_LIMIT):
            chunk = retry[start : start + BATCH_LIMIT]
            for media_id, answer in zip(chunk, await self._read(chunk, False), strict=True):
                if isinstance(answer, GraphCallError):
                    self._skip(media_id, answer)
                else:
                    bodies[media_id] = answer
        result = {media_id: self._metrics(media_id, body) for media_id, body in bodies.items()}
        if self.collector is not None and self.insights_allowed is False:
            await self._add_public_counts(result, bodies)
        return result

    async def _read(self, ids: Sequence[str], with_insights: bool) -> list[Any]:
        query = urlencode({"fields": self._fields(with_insights)})
        return await self.graph.batch([BatchRequest("GET", f"{i}?{query}") for i in ids])

    def _skip(self, media_id: str, error: GraphCallError) -> None:
        failure = self.graph.classify(error)
        if isinstance(failure, AuthExpired):
            raise failure
        log.info("no engagement for Instagram media %s: %s", media_id, failure.reason)

    def _metrics(self, media_id: str, body: Mapping[str, Any]) -> Metrics:
        values: dict[str, int | None] = {}
        for entry in (body.get("insights") or {}).get("data") or []:
            points = entry.get("values") or []
            field_name = self.insight_metrics.get(str(entry.get("name")))
            if field_name and points:
                values[field_name] = _number(points[-1].get("value"))
        return Metrics(
            remote_id=media_id,
            reactions=_number(body.get("like_count")),
            comments=_number(body.get("comments_count")),
            shares=values.get("shares"),
            views=values.get("views"),
            reach=values.get("reach"),
            saves=values.get("saves"),
            source="graph+insights" if values else "graph",
        )

    async def _add_public_counts(
        self, result: dict[str, Metrics], bodies: Mapping[str, Mapping[str, Any]]
    ) -> None:
        assert self.collector is not None
        shortcodes = {m: str(b["shortcode"]) for m, b in bodies.items() if b.get("shortcode")}
        try:
            public = await self.collector.collect(shortcodes)
        except ChannelError as error:
            log.info("public Instagram counts not read: %s", error.reason)
            return
        for media_id, seen in public.items():
            mine = result.get(media_id)
            if mine is None:
                continue
            result[media_id] = Metrics(
                remote_id=media_id,
                reactions=mine.reactions if mine.reactions is not None else seen.reactions,
                comments=mine.comments if mine.comments is not None else seen.comments,
                shares=mine.shares,
                views=seen.views,
                reach=mine.reach,
                saves=mine.saves,
                source=f"{mine.source}+{seen.source}",
            )

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
