"""Reading an Instagram account's engagement: counts and insights in batches, public counts
where the token may not read insights (or the counts at all).

Sources: `graph` (counts only), `graph_insights` (counts and insights), `instaloader_public`
(everything from the public web), `graph+instaloader_public` (Graph's counts, the public web's
video views).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol
from urllib.parse import urlencode

from channels.base import AuthExpired, ChannelError, Metrics
from channels.graph import BATCH_LIMIT, BatchRequest, GraphClient
from channels.graph_errors import GraphCallError, is_permission, refuses_insights

log = logging.getLogger(__name__)

MEDIA_INSIGHTS = {"reach": "reach", "views": "views", "saved": "saves", "shares": "shares"}
GRAPH, GRAPH_INSIGHTS, PUBLIC = "graph", "graph_insights", "instaloader_public"
SHORTCODE = re.compile(r"instagram\.com/(?:[\w.]+/)?(?:p|reel|tv)/([\w-]+)")


class PublicCollector(Protocol):
    """Reads public counts of posts by shortcode (e.g. `InstaloaderCollector`)."""

    async def collect(self, shortcodes: Mapping[str, str]) -> dict[str, Metrics]: ...


def _number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def shortcode_of(address: str | None) -> str | None:
    """The shortcode in a post's permalink (`https://www.instagram.com/p/CODE/`)."""
    found = SHORTCODE.search(address or "")
    return found.group(1) if found else None


class InstagramEngagement:
    """The engagement part of `InstagramChannel` (which sets these attributes)."""

    graph: GraphClient
    insight_metrics: dict[str, str]
    insights_allowed: bool | None
    public_addresses: dict[str, str]
    collector: PublicCollector | None

    def _fields(self, with_insights: bool) -> str:
        fields = "like_count,comments_count,shortcode"
        if with_insights:
            fields += f",insights.metric({','.join(self.insight_metrics)})"
        return fields

    async def fetch_engagement(self, remote_ids: Sequence[str]) -> dict[str, Metrics]:
        """Likes and comments, plus reach, views, saves and shares where the token may read
        insights (one batch call per 50 media). Without insights, the public collector adds
        video views; where Graph refuses a media's counts for want of permission, the public
        collector reads them all from its permalink. Unknown values stay None."""
        ids = list(dict.fromkeys(remote_ids))
        bodies: dict[str, Mapping[str, Any]] = {}
        retry: list[str] = []
        refused: list[str] = []
        for start in range(0, len(ids), BATCH_LIMIT):
            chunk = ids[start : start + BATCH_LIMIT]
            with_insights = self.insights_allowed is not False
            for media_id, answer in zip(chunk, await self._read(chunk, with_insights), strict=True):
                if isinstance(answer, GraphCallError):
                    if with_insights and refuses_insights(answer):
                        self.insights_allowed = False
                        retry.append(media_id)
                    elif is_permission(answer):
                        refused.append(media_id)
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
                    if is_permission(answer):
                        refused.append(media_id)
                    else:
                        self._skip(media_id, answer)
                else:
                    bodies[media_id] = answer
        result = {media_id: self._metrics(media_id, body) for media_id, body in bodies.items()}
        if self.collector is not None:
            wanted = {
                m: str(b["shortcode"])
                for m, b in bodies.items()
                if b.get("shortcode") and self.insights_allowed is False
            }
            for media_id in refused:
                code = shortcode_of(self.public_addresses.get(media_id))
                if code:
                    wanted[media_id] = code
            if wanted:
                await self._add_public_counts(result, wanted)
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
            source=GRAPH_INSIGHTS if values else GRAPH,
        )

    async def _add_public_counts(
        self, result: dict[str, Metrics], shortcodes: Mapping[str, str]
    ) -> None:
        assert self.collector is not None
        try:
            public = await self.collector.collect(shortcodes)
        except ChannelError as error:
            log.info("public Instagram counts not read: %s", error.reason)
            return
        for media_id, seen in public.items():
            mine = result.get(media_id)
            if mine is None:  # Graph refused this one: the public counts are all there is
                result[media_id] = seen
                continue
            merged = Metrics(
                remote_id=media_id,
                reactions=mine.reactions if mine.reactions is not None else seen.reactions,
                comments=mine.comments if mine.comments is not None else seen.comments,
                shares=mine.shares,
                views=mine.views if mine.views is not None else seen.views,
                reach=mine.reach,
                saves=mine.saves,
                source=f"{mine.source}+{seen.source}",
            )
            if replace(merged, source=mine.source) != mine:  # the public web added something
                result[media_id] = merged
