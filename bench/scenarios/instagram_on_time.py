"""(a') Instagram on time: posts with an image due within 60 s -> lateness of the publish call.

Instagram publishes in two steps: a container is created, processed by the platform (seconds),
then published. The worker's `prepare` job creates and waits on the containers ahead of the
due moment (scheduler.prepare), so only the publish call is left for it. Lateness is measured on
the platform, as for Telegram: the moment the sandbox published each media minus its due time.
The sandbox's containers take their default processing time (3 s of its clock, which is the
wall clock here); the images are uploaded to the linked Page (a Facebook channel too) as
unpublished photos and fetched from there, as when Afisha has no public media address; the
account's publishing quota is raised and Afisha's pacing is off, so the figure measures the
engine, not the quota.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from PIL import Image
from sqlalchemy import select

from bench.harness import (
    Context,
    fresh_database,
    install,
    lateness_summary,
    ledger_by_text,
    now,
    sandbox_process,
    spread,
    start_worker,
    wait_ready,
    wait_until,
)
from content.domain.states import PublicationState
from content.queueing.scheduling import NewPost, queue_post
from content.storage.models import Publication

FULL_COUNT = 120
WINDOW_SECONDS = 60.0
# Far enough ahead that the first posts' containers are made and processed before they fall due.
HEAD_START_SECONDS = 30.0


def run(context: Context, database_kind: str = "sqlite") -> dict[str, Any]:
    count = context.size(FULL_COUNT, 10)
    window = max(5.0, WINDOW_SECONDS * min(1.0, context.scale * 10))
    head_start = max(20.0, HEAD_START_SECONDS * min(1.0, context.scale * 10))
    image = context.workdir / "poster.jpg"
    Image.new("RGB", (1080, 1350), (30, 90, 160)).save(image, "JPEG")
    with (
        sandbox_process() as sandbox,
        fresh_database(database_kind, context.workdir) as database,
    ):
        sandbox.limits(ig_quota=count + 10)
        installation = install(database, sandbox, context.workdir, facebook=1, instagram=1)
        start = now() + timedelta(seconds=head_start)
        due = spread(count, start, window)
        with installation.afisha.transaction() as (session, org):
            for i, when in enumerate(due):
                new = NewPost(f"igtime {i}", ["ig0"], when, images=[image])
                queue_post(session, org, new, context.workdir / "media", "bench")
        worker = start_worker(installation, "igtime", pacing=False)
        try:
            wait_ready(worker)
            context.say(f"instagram on time: {count} posts over {window:.0f} s on 1 account")
            settled = (PublicationState.SENT, PublicationState.FAILED, PublicationState.MISSED)
            wait_until(
                lambda: installation.count(*settled) >= count,
                timeout=head_start + window + 120,
                every=1.0,
            )
        finally:
            worker.stop()
        seen = ledger_by_text(sandbox.ledger(), "igtime ")
        with installation.afisha.sessions() as session:
            progress = list(session.scalars(select(Publication.progress)))
        states = installation.states()
        installation.close()
    lateness = [
        (times[0] - due[int(text.split()[1])].timestamp()) * 1000 for text, times in seen.items()
    ]
    prepared = sum(
        1
        for p in progress
        if isinstance(p, dict)
        and isinstance(p.get("prepared"), dict)
        and p["prepared"].get("ready_at")
    )
    return {
        "database": database_kind,
        "publications": count,
        "window_seconds": window,
        "delivered": len(seen),
        "duplicated": sum(1 for times in seen.values() if len(times) > 1),
        "prepared_ahead": prepared,
        "states": states,
        "lateness_ms": lateness_summary(lateness),
    }
