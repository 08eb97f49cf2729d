"""(e) Collection cost: engagement of 10,000 Facebook and 2,000 Instagram publications.

The posts exist on the sandbox's Pages and Instagram account (created there directly, an hour
old) and in the database as sent publications whose first collection is due. The product's
`collect_due` then runs round after round, as the worker's periodic job does, until nothing is
due; the sandbox counts the Graph HTTP calls. The floor is one batch call per 50 posts of one
account: ⌈N/50⌉ for each Page and Instagram account.
"""

from __future__ import annotations

import asyncio
import math
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import insert

from afisha.runtime import build_engine
from bench.harness import Context, channel_ids, fresh_database, install, now, sandbox_process
from content.domain.states import PublicationKind, PublicationState
from content.storage.models import Publication
from scheduler.collect import collect_due

FULL_FACEBOOK = 10_000
FULL_INSTAGRAM = 2_000


def run(context: Context) -> dict[str, Any]:
    facebook = context.size(FULL_FACEBOOK, 120)
    instagram = context.size(FULL_INSTAGRAM, 60)
    with sandbox_process() as sandbox, fresh_database("sqlite", context.workdir) as database:
        # A large budget, enforced: with none the sandbox still reports usage against the default
        # 4,800 calls an hour per Page, and 5,000 reads per Page would make Afisha pause near
        # the allowance (as it should with Meta) and this would measure the pauses.
        sandbox.limits(graph_page_budget=1_000_000)
        installation = install(database, sandbox, context.workdir, facebook=2, instagram=1)
        ids = channel_ids(installation)
        pages = {p["id"]: f"fb{i}" for i, p in enumerate(sandbox.info["pages"][:2])}
        seeded = sandbox.request(
            "POST", "/_bench/seed_graph", {"facebook": facebook, "instagram": instagram}
        )
        sent_at = now() - timedelta(hours=1)
        rows = [
            {"channel_id": ids[pages[item["page_id"]]], "remote_id": item["remote_id"]}
            for item in seeded["facebook"]
        ]
        rows += [
            {"channel_id": ids["ig0"], "remote_id": item["remote_id"]}
            for item in seeded["instagram"]
        ]
        with installation.afisha.sessions.begin() as session:
            session.execute(
                insert(Publication),
                [
                    {
                        **row,
                        "kind": PublicationKind.POST,
                        "due_at": sent_at,
                        "state": PublicationState.SENT,
                        "attempts": 1,
                        "sent_at": sent_at,
                        "next_collect_at": sent_at + timedelta(hours=1) - timedelta(seconds=5),
                        "collect_stage": 0,
                    }
                    for row in rows
                ],
            )
        per_account: dict[str, int] = {}
        for item in seeded["facebook"]:
            per_account[item["page_id"]] = per_account.get(item["page_id"], 0) + 1
        per_account["ig"] = instagram
        floor_facebook = sum(math.ceil(n / 50) for k, n in per_account.items() if k != "ig")
        floor_instagram = math.ceil(instagram / 50)
        context.say(f"collection: {facebook} Facebook and {instagram} Instagram publications")
        before = sandbox.graph_calls()
        parts = build_engine(installation.afisha, pacing=True)
        rounds = 0
        stored = 0

        async def collect_everything() -> None:
            nonlocal rounds, stored
            while True:
                got = await collect_due(parts.engine)
                rounds += 1
                stored += got
                if got == 0 or rounds > 200:
                    break
            await parts.factory.close()

        started = time.perf_counter()
        asyncio.run(collect_everything())
        seconds = time.perf_counter() - started
        calls = sandbox.graph_calls() - before
        installation.close()
    floor = floor_facebook + floor_instagram
    return {
        "facebook": facebook,
        "instagram": instagram,
        "snapshots": stored,
        "graph_calls": calls,
        "floor": floor,
        "floor_facebook": floor_facebook,
        "floor_instagram": floor_instagram,
        "calls_over_floor": round(calls / floor, 3) if floor else None,
        "seconds": round(seconds, 2),
        "rounds": rounds,
    }
