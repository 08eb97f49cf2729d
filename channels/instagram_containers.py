"""Making one Instagram account's media containers and waiting until Instagram has processed
them: the steps of publishing that publish nothing (an unused container expires after 24 h)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from channels.base import NotSent, OutgoingImage, Rejected
from channels.graph import GraphClient, Sleep
from channels.media import PreparedImage
from content.states import Platform

POLL_DELAYS = (2.0, 4.0, 8.0, 15.0, 30.0, 30.0, 30.0, 30.0, 30.0, 30.0, 30.0)  # ≈ 4 min in all

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

    async def wait_until_finished(self, containers: Sequence[str]) -> None:
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
