"""Making one Instagram account's media containers and waiting until Instagram has processed
them: the steps of publishing that publish nothing (an unused container expires after 24 h).

Containers made ahead are kept in the publication's progress: `container_id` and
`child_container_ids` (what `media_publish` is given, and what `verify` reads), and `prepared`,
which says for which content they were made, when, and when they were seen FINISHED.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from channels.base import NotSent, Outgoing, OutgoingImage, Rejected, Sleep
from channels.graph import GraphClient
from channels.media import PreparedImage, prepare_for_instagram
from content.domain.states import Platform

# Waiting at the due moment (nothing was prepared, or it is not processed yet): short pauses
# first, so that the post goes out within half a second of Instagram finishing with it; about
# four minutes in all.
POLL_DELAYS = (0.5,) * 20 + (1.0,) * 20 + (2.0,) * 10 + (5.0,) * 6 + (15.0,) * 6 + (30.0,) * 2
# Waiting ahead of time (≈ 5 min): nothing hurries, but the time it takes is what the lead is
# chosen from.
PREPARE_POLL_DELAYS = (1.0, 1.0, 1.0, 2.0, 2.0, 3.0, 5.0, 5.0, 10.0, 10.0, 15.0, 15.0) + (30.0,) * 7
# Containers live 24 h; ones older than this are made again rather than trusted.
REUSE_WITHIN = timedelta(hours=23)

NEEDS_ADDRESS = (
    "Instagram needs a public web address for each image, and this channel has neither a "
    "public media address nor a linked Facebook Page to host the images. Ask the administrator "
    "to configure one."
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


def _number(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class Containers:
    """One account's containers: where Instagram fetches each image, creating, waiting.

    Args:
        page_graph: the client for uploads to the linked Page (`page_id`), which hosts images
            that have no public address.
        public_media_url: base address where `media_root` is served publicly; preferred over
            hosting on the Page when set.
        sleep: awaited between container status polls (tests pass a no-op).
    """

    platform = Platform.INSTAGRAM

    def __init__(
        self,
        ig_user_id: str,
        graph: GraphClient,
        page_graph: GraphClient,
        *,
        page_id: str | None,
        public_media_url: str | None,
        media_root: Path | None,
        sleep: Sleep,
        poll_delays: Sequence[float],
    ) -> None:
        self.ig_user_id = ig_user_id
        self.graph = graph
        self.page_graph = page_graph
        self.page_id = page_id
        self.public_media_url = public_media_url
        self.media_root = media_root
        self._sleep = sleep
        self._poll_delays = tuple(poll_delays)
        self._hosted: dict[Path, str] = {}  # prepared file -> the address Instagram fetches

    async def image_url(self, image: OutgoingImage, prepared: PreparedImage) -> str:
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

    async def create(self, **params: str | None) -> str:
        """A media container; creating one publishes nothing (it expires unused after 24 h)."""
        data = {k: v for k, v in params.items() if v}
        answer = await self.graph.post(f"{self.ig_user_id}/media", data, idempotent=True)
        return str(answer["id"])

    @staticmethod
    async def prepare_images(outgoing: Outgoing) -> list[PreparedImage]:
        """Each image as Instagram takes it (JPEG, within its limits); Rejected if one cannot
        be, before any request is made."""
        return [
            await asyncio.to_thread(prepare_for_instagram, image, pad_to_fit=outgoing.pad_to_fit)
            for image in outgoing.images
        ]

    async def make(
        self, outgoing: Outgoing, caption: str, prepared: Sequence[PreparedImage]
    ) -> tuple[str, list[str]]:
        """Create the containers of a post: (the one to publish, its carousel items)."""
        urls = [
            await self.image_url(image, ready)
            for image, ready in zip(outgoing.images, prepared, strict=True)
        ]
        if len(urls) == 1:
            alt_text = outgoing.images[0].alt_text
            return await self.create(image_url=urls[0], caption=caption, alt_text=alt_text), []
        children = [
            await self.create(image_url=url, is_carousel_item="true", alt_text=image.alt_text)
            for url, image in zip(urls, outgoing.images, strict=True)
        ]
        carousel = await self.create(
            media_type="CAROUSEL", children=",".join(children), caption=caption
        )
        return carousel, children

    async def wait(self, containers: Sequence[str], delays: Sequence[float]) -> Processing:
        """Poll the containers, pausing `delays` between rounds, until all are FINISHED, one
        EXPIRED or ERROR, or the pauses run out (IN_PROGRESS)."""
        pending = list(containers)
        waited = False
        for delay in (*delays, None):
            still: list[str] = []
            for container in pending:
                answer = await self.graph.get(container, fields="status_code,status")
                status = str(answer.get("status_code") or "")
                if status in (Status.ERROR, Status.EXPIRED):
                    detail = str(answer.get("status") or status.lower())
                    return Processing(Status(status), waited, detail)
                if status not in (Status.FINISHED, Status.PUBLISHED):
                    still.append(container)
            pending = still
            if not pending:
                return Processing(Status.FINISHED, waited)
            if delay is not None:
                waited = True
                await self._sleep(delay)
        return Processing(Status.IN_PROGRESS, waited)


class Status(enum.StrEnum):
    """A container's `status_code` (IG Container reference)."""

    EXPIRED = "EXPIRED"
    ERROR = "ERROR"
    FINISHED = "FINISHED"
    IN_PROGRESS = "IN_PROGRESS"
    PUBLISHED = "PUBLISHED"


@dataclass(frozen=True)
class Processing:
    """How waiting on containers ended: FINISHED (all of them), EXPIRED or ERROR (one of them,
    `detail` saying why), IN_PROGRESS (still, when the pauses ran out); `waited`: whether any
    was still in progress at first."""

    status: Status
    waited: bool
    detail: str = ""


def content_key(outgoing: Outgoing, caption: str) -> str:
    """What the containers hold (caption, images, alt texts, padding), hashed: containers made
    for other content (the post was edited since) are not published."""
    images = [
        [str(i.path), i.media_type, i.width, i.height, i.alt_text, i.public_url]
        for i in outgoing.images
    ]
    text = json.dumps([caption, images, outgoing.pad_to_fit], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Prepared:
    """Containers made for one content, as kept in a publication's progress."""

    key: str  # content_key of what they hold
    container: str
    children: tuple[str, ...]
    created_at: datetime
    ready_at: datetime | None = None  # when all were seen FINISHED
    failed: str | None = None  # why preparing gave up (processing failed twice)

    @property
    def ids(self) -> list[str]:
        return [*self.children, self.container]

    @classmethod
    def read(cls, progress: Mapping[str, Any] | None, key: str, now: datetime) -> Prepared | None:
        """The containers in `progress`, if they were made for `key` recently enough to use."""
        entry = (progress or {}).get("prepared")
        container = (progress or {}).get("container_id")
        if not isinstance(entry, Mapping) or entry.get("for") != key or not container:
            return None
        try:
            created = datetime.fromisoformat(str(entry["created_at"]))
            ready = datetime.fromisoformat(entry["ready_at"]) if entry.get("ready_at") else None
        except (KeyError, TypeError, ValueError):
            return None
        if now - created >= REUSE_WITHIN:
            return None
        children = tuple(str(c) for c in (progress or {}).get("child_container_ids") or ())
        failed = entry.get("failed")
        return cls(key, str(container), children, created, ready, str(failed) if failed else None)

    def ready(self, at: datetime) -> Prepared:
        return replace(self, ready_at=at)

    def progress(self) -> dict[str, Any]:
        """The progress keys these containers are kept in (all of them, so none is stale)."""
        return {
            "container_id": self.container,
            "child_container_ids": list(self.children),
            "prepared": {
                "for": self.key,
                "created_at": self.created_at.isoformat(),
                "ready_at": self.ready_at.isoformat() if self.ready_at else None,
                "failed": self.failed,
            },
        }
