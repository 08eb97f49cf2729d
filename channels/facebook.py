"""Facebook Pages: text, link, photo and multi-photo posts; reconciliation; engagement."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from channels.base import (
    AuthExpired,
    ChannelError,
    Checkpoint,
    CredentialStatus,
    Metrics,
    Outgoing,
    OutgoingImage,
    Published,
    Reconciliation,
    Rejected,
    ShareOf,
    Verdict,
    no_checkpoint,
)
from channels.graph import (
    BATCH_LIMIT,
    DEFAULT_API_URL,
    DEFAULT_TIMEOUT,
    DEFAULT_VERSION,
    BatchRequest,
    GraphClient,
    Sleep,
    text_fingerprint,
)
from channels.graph_errors import GraphCallError, refuses_insights
from content.domain.rules import fit_problems
from content.domain.states import Platform, ShareMode

log = logging.getLogger(__name__)

ENGAGEMENT_FIELDS = (
    "reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0),shares"
)
# Current post metrics (the *_impressions_* family is deprecated) -> Metrics fields.
POST_INSIGHTS = {"post_media_view": "views", "post_total_media_view_unique": "reach"}
# Posts created a little before `sent_after` still count: clocks differ between us and Meta.
CLOCK_SLACK = timedelta(minutes=5)
VERIFY_PAGES = 4  # pages of 50 posts read when looking for a post
NOT_A_LINK_SHARE = "A Facebook Page shares a post by its link; it cannot {mode} a message."
SHARE_NOT_FOUND = "No post on the Page shares that post yet: look at the Page to be sure."
NOTHING_TO_POST = "The post has no text, link or image, so there is nothing to publish."


def compose_message(outgoing: Outgoing) -> str:
    """The Page post's text: Pages have no buttons, so button links are appended as lines.

    A link goes in `link` (Facebook previews it) unless the post has photos, which cannot carry
    a link preview; then it is appended to the text too.
    """
    lines = [outgoing.text.strip()] if outgoing.text.strip() else []
    extras: list[str] = []
    if outgoing.link and outgoing.images:
        extras.append(outgoing.link)
    extras += [f"{b.text}: {b.url}" for b in outgoing.buttons if b.url]
    if extras:
        lines.append("\n".join(extras))
    return "\n\n".join(lines)


def _photo_source(image: OutgoingImage) -> tuple[dict[str, str], dict[str, Any] | None]:
    """`url` when the image is public (Facebook fetches it), else the stored file's bytes."""
    if image.public_url:
        return {"url": image.public_url}, None
    data = image.path.read_bytes()
    return {}, {"source": (image.path.name, data, image.media_type)}


def _parse_time(raw: Any) -> datetime | None:
    try:
        return datetime.strptime(str(raw), "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None


def _insight_values(body: Any) -> dict[str, int]:
    """{metric name: value} from an `insights` edge; non-numeric values are skipped."""
    values: dict[str, int] = {}
    for entry in (body or {}).get("data") or []:
        points = entry.get("values") or []
        value = points[-1].get("value") if points else None
        if isinstance(value, int) and not isinstance(value, bool):
            values[str(entry.get("name"))] = value
    return values


def _summary_total(body: Mapping[str, Any], edge: str) -> int | None:
    total = ((body.get(edge) or {}).get("summary") or {}).get("total_count")
    return total if isinstance(total, int) else None


class FacebookChannel:
    """One Facebook Page, published to with its Page access token."""

    platform = Platform.FACEBOOK

    def __init__(
        self,
        page_id: str,
        token: str,
        api_url: str = DEFAULT_API_URL,
        version: str = DEFAULT_VERSION,
        *,
        name: str | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        sleep: Sleep = asyncio.sleep,
        insight_metrics: Mapping[str, str] = POST_INSIGHTS,
    ) -> None:
        self.page_id = page_id
        self.name = name or f"Facebook Page {page_id}"
        self.graph = GraphClient(
            token,
            platform=self.platform,
            service="Facebook",
            api_url=api_url,
            version=version,
            timeout=timeout,
            sleep=sleep,
        )
        self.insight_metrics = dict(insight_metrics)
        # None: not known yet; False: the token may not read them (asked once, then never).
        self.insights_allowed: bool | None = None if insight_metrics else False

    # --- publishing ---------------------------------------------------------------------------

    async def publish(
        self, outgoing: Outgoing, checkpoint: Checkpoint = no_checkpoint
    ) -> Published:
        """Post text (with a link), one photo, or several photos in one post; or share another
        Page's post (`outgoing.share`) by its permalink, with the text as a comment."""
        if outgoing.share is not None:
            return await self._share(outgoing)
        message = compose_message(outgoing)
        problems = fit_problems(self.platform, message, len(outgoing.images), self.name)
        if problems:
            raise Rejected(" ".join(str(p) for p in problems), platform=self.platform)
        if not message and not outgoing.link and not outgoing.images:
            raise Rejected(NOTHING_TO_POST, platform=self.platform)
        extra: dict[str, Any] = {}
        if not outgoing.images:
            data = {"message": message}
            if outgoing.link:
                data["link"] = outgoing.link
            post_id = str((await self.graph.post(f"{self.page_id}/feed", data))["id"])
        elif len(outgoing.images) == 1:
            post_id, photo_id = await self._photo_post(outgoing.images[0], message)
            extra["photo_ids"] = [photo_id]
        else:
            photo_ids = [await self._upload_hidden(image) for image in outgoing.images]
            extra["photo_ids"] = photo_ids
            await checkpoint({"photo_ids": photo_ids})
            data = {"message": message}
            for index, photo_id in enumerate(photo_ids):
                data[f"attached_media[{index}]"] = f'{{"media_fbid":"{photo_id}"}}'
            post_id = str((await self.graph.post(f"{self.page_id}/feed", data))["id"])
        return Published(post_id, await self._permalink(post_id), extra)

    async def _share(self, outgoing: Outgoing) -> Published:
        share = outgoing.share
        assert share is not None
        if share.mode is not ShareMode.LINK or not share.permalink:
            raise Rejected(NOT_A_LINK_SHARE.format(mode=share.mode), platform=self.platform)
        data = {"link": share.permalink, "message": outgoing.text.strip()}
        post_id = str((await self.graph.post(f"{self.page_id}/feed", data))["id"])
        return Published(post_id, await self._permalink(post_id), {"shared": share.permalink})

    async def _photo_post(self, image: OutgoingImage, message: str) -> tuple[str, str]:
        where, files = await asyncio.to_thread(_photo_source, image)
        data = {**where, "caption": message, "published": "true"}
        if image.alt_text:
            data["alt_text_custom"] = image.alt_text
        answer = await self.graph.post(f"{self.page_id}/photos", data, files=files)
        photo_id = str(answer["id"])
        return str(answer.get("post_id") or f"{self.page_id}_{photo_id}"), photo_id

    async def _upload_hidden(self, image: OutgoingImage) -> str:
        """An unpublished photo to attach: followers never see it alone, so a repeated upload
        after a lost answer costs nothing but an orphan (hence idempotent)."""
        where, files = await asyncio.to_thread(_photo_source, image)
        data = {**where, "published": "false"}
        if image.alt_text:
            data["alt_text_custom"] = image.alt_text
        answer = await self.graph.post(f"{self.page_id}/photos", data, files=files, idempotent=True)
        return str(answer["id"])

    async def _permalink(self, post_id: str) -> str:
        """Read after posting; built from the id if that read fails (the post is there)."""
        try:
            answer = await self.graph.get(post_id, fields="permalink_url")
            if answer.get("permalink_url"):
                return str(answer["permalink_url"])
        except ChannelError as error:
            log.info("permalink of a new Facebook post not read: %s", error.__class__.__name__)
        page, _, number = post_id.partition("_")
        return f"https://www.facebook.com/{page}/posts/{number or page}"

    # --- reconciling --------------------------------------------------------------------------

    async def verify(
        self, outgoing: Outgoing, progress: Mapping[str, Any], sent_after: datetime
    ) -> Reconciliation:
        """Find the post among the Page's posts since `sent_after` by its text fingerprint.

        The fingerprint is `text_fingerprint` of the message `publish` composes (text plus
        appended links), compared with the fingerprint of each post's `message`. NOT_POSTED is
        trustworthy once the client's read timeout has passed since the attempt (a request
        that Meta is still working on may otherwise appear later). AuthExpired is raised;
        other failures to read give UNKNOWN. A share is found by its parent post instead (never
        NOT_POSTED: whether the Page's post names its parent is Facebook's to decide).
        """
        if outgoing.share is not None:
            return await self._verify_share(outgoing.share, sent_after)
        message = compose_message(outgoing)
        if not message:
            return Reconciliation(
                Verdict.UNKNOWN, detail="A post without text cannot be recognised on the Page."
            )
        wanted = text_fingerprint(message)
        since = sent_after - CLOCK_SLACK
        try:
            posts = await self._recent_posts(since)
        except AuthExpired:
            raise
        except ChannelError as error:
            return Reconciliation(Verdict.UNKNOWN, detail=error.reason)
        matches = [p for p in posts if text_fingerprint(str(p.get("message") or "")) == wanted]
        if not matches:
            return Reconciliation(
                Verdict.NOT_POSTED, detail=f"No post with this text on the Page since {since:%c}."
            )
        found = min(matches, key=lambda p: _parse_time(p.get("created_time")) or since)
        post_id = str(found["id"])
        url = found.get("permalink_url") or await self._permalink(post_id)
        detail = "" if len(matches) == 1 else f"{len(matches)} posts with this text; the first."
        return Reconciliation(Verdict.POSTED, Published(post_id, str(url)), detail)

    async def _verify_share(self, share: ShareOf, sent_after: datetime) -> Reconciliation:
        try:
            posts = await self._recent_posts(sent_after - CLOCK_SLACK)
        except AuthExpired:
            raise
        except ChannelError as error:
            return Reconciliation(Verdict.UNKNOWN, detail=error.reason)
        found = [p for p in posts if share.post_id and p.get("parent_id") == share.post_id]
        if not found:
            return Reconciliation(Verdict.UNKNOWN, detail=SHARE_NOT_FOUND)
        post_id = str(found[-1]["id"])  # the oldest: posts are listed newest first
        url = found[-1].get("permalink_url") or await self._permalink(post_id)
        return Reconciliation(Verdict.POSTED, Published(post_id, str(url)))

    async def _recent_posts(self, since: datetime) -> list[dict[str, Any]]:
        posts: list[dict[str, Any]] = []
        params = {
            "fields": "id,message,created_time,permalink_url,parent_id",
            "since": str(int(since.timestamp())),
            "limit": "50",
        }
        for _ in range(VERIFY_PAGES):
            answer = await self.graph.get(f"{self.page_id}/posts", **params)
            page = [p for p in answer.get("data") or [] if isinstance(p, dict)]
            fresh = [p for p in page if (_parse_time(p.get("created_time")) or since) >= since]
            posts += fresh
            after = ((answer.get("paging") or {}).get("cursors") or {}).get("after")
            if len(fresh) < len(page) or not after or not (answer.get("paging") or {}).get("next"):
                break
            params["after"] = str(after)
        return posts

    # --- engagement ---------------------------------------------------------------------------

    def _fields(self, with_insights: bool) -> str:
        if not with_insights:
            return ENGAGEMENT_FIELDS
        return f"{ENGAGEMENT_FIELDS},insights.metric({','.join(self.insight_metrics)})"

    async def fetch_engagement(self, remote_ids: Sequence[str]) -> dict[str, Metrics]:
        """Reactions, comments, shares and (where the token may) views and reach.

        One batch call per 50 posts, each item reading the counts and the insights together
        through field expansion: 120 posts cost 3 HTTP calls. If the token may not read
        insights, the refused items are read again without them, once; afterwards insights are
        never asked for again. Deleted or unknown posts are left out.
        """
        ids = list(dict.fromkeys(remote_ids))
        result: dict[str, Metrics] = {}
        retry: list[str] = []
        for start in range(0, len(ids), BATCH_LIMIT):
            chunk = ids[start : start + BATCH_LIMIT]
            with_insights = self.insights_allowed is not False
            answers = await self._read(chunk, with_insights)
            for post_id, answer in zip(chunk, answers, strict=True):
                if isinstance(answer, GraphCallError):
                    if with_insights and refuses_insights(answer):
                        self.insights_allowed = False
                        retry.append(post_id)
                    else:
                        self._skip(post_id, answer)
                    continue
                if with_insights:
                    self.insights_allowed = True
                result[post_id] = self._metrics(post_id, answer)
        for start in range(0, len(retry), BATCH_LIMIT):
            chunk = retry[start : start + BATCH_LIMIT]
            for post_id, answer in zip(chunk, await self._read(chunk, False), strict=True):
                if isinstance(answer, GraphCallError):
                    self._skip(post_id, answer)
                else:
                    result[post_id] = self._metrics(post_id, answer)
        return result

    async def _read(self, ids: Sequence[str], with_insights: bool) -> list[Any]:
        query = urlencode({"fields": self._fields(with_insights)})
        return await self.graph.batch([BatchRequest("GET", f"{i}?{query}") for i in ids])

    def _skip(self, post_id: str, error: GraphCallError) -> None:
        failure = self.graph.classify(error)
        if isinstance(failure, AuthExpired):
            raise failure
        log.info("no engagement for Facebook post %s: %s", post_id, failure.reason)

    def _metrics(self, post_id: str, body: Mapping[str, Any]) -> Metrics:
        values: dict[str, int | None] = {"views": None, "reach": None}
        insights = _insight_values(body.get("insights"))
        for metric, field_name in self.insight_metrics.items():
            if metric in insights:
                values[field_name] = insights[metric]
        shares = body.get("shares")
        return Metrics(
            remote_id=post_id,
            reactions=_summary_total(body, "reactions"),
            comments=_summary_total(body, "comments"),
            # Graph leaves `shares` out while nobody has shared the post.
            shares=int(shares.get("count", 0)) if isinstance(shares, dict) else 0,
            views=values.get("views"),
            reach=values.get("reach"),
            saves=None,  # Pages do not report saves
            source="graph_insights" if insights else "graph",
        )

    # --- health -------------------------------------------------------------------------------

    async def check_credentials(self) -> CredentialStatus:
        return await self.graph.check_credentials(self.page_id)

    async def close(self) -> None:
        self.graph.close()
