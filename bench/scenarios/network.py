"""(h) A regional network: 1 regional library and 299 member libraries in one deployment.

Each library has 2 or 3 Telegram channels, a month's plan of 20 posts (6,000 in all) and the
network 1,000 events with an announcement and 3 reminders each, every item on one of its
library's channels; two workers on one PostgreSQL, the platforms' limits on in the sandbox and
Afisha's pacing on. The month is compressed into a window of minutes: 10,000 sends on one bot
token at Telegram's 30 a second need 333 s at the least, so the window is 420 s, and where the
demand of a second exceeds what the limits allow, the pacer holds posts back. Lateness is
therefore reported twice: for every publication, and for those no limit held back (due in a
second whose demand, overall and in their chat over the minute before, stayed under the
limits with a margin). The sandbox counts every answer 429 it gave.

Queueing the plan is timed too: the 6,000 posts through `queue_many`, library by library, in
one transaction (a network import).
"""

from __future__ import annotations

import bisect
import random
import time
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from bench.harness import (
    Context,
    Installation,
    fresh_database,
    install,
    lateness_summary,
    now,
    sandbox_process,
    start_worker,
    wait_ready,
    wait_until,
)
from content.domain.states import PublicationState
from content.queueing.bulk import BulkPost, queue_many
from content.queueing.scheduling import NewEvent, add_event
from content.storage.models import Channel, Organization, Publication

LIBRARIES = 300
POSTS_PER_LIBRARY = 20
EVENTS = 1_000
REMINDER_OFFSETS = (1, 2, 3)  # minutes before the start; the announcement 4 minutes before
ANNOUNCE_BEFORE = timedelta(minutes=4)
WINDOW_SECONDS = 420.0
LEAD_SECONDS = 15.0  # two workers start before the first post is due
WORKERS = 2
PER_SECOND, PER_CHAT_MINUTE = 30, 20
MARGIN = 0.8  # "no limit held it back": the demand stayed under 80% of each limit
ZONES = ("Asia/Almaty", "Asia/Aqtobe", "Europe/Vilnius", "Europe/Moscow")
LANGUAGES = ("kk", "ru", "lt", "en")
UNFINISHED = (PublicationState.SCHEDULED, PublicationState.SENDING, PublicationState.RETRY_WAIT)


def _network(installation: Installation, libraries: int) -> list[tuple[int, list[str]]]:
    """The region (the installation's organisation) and its members, with their channels."""
    afisha = installation.afisha
    names = iter(installation.channel_names)
    built: list[tuple[int, list[str]]] = []
    with afisha.transaction() as (session, head):
        # The channels `install` made belong to the head; they are shared out below.
        channels = {c.name: c for c in session.scalars(select(Channel))}
        for number in range(libraries):
            if number == 0:
                org = head
            else:
                org = Organization(
                    name=f"District library {number}",
                    parent_id=head.id,
                    timezone=ZONES[number % len(ZONES)],
                    language=LANGUAGES[number % len(LANGUAGES)],
                )
                session.add(org)
                session.flush()
            own = [next(names) for _ in range(2 + number % 2)]
            for name in own:
                channels[name].organization_id = org.id
            built.append((org.id, own))
    return built


def _queue_plan(
    installation: Installation, network: list[tuple[int, list[str]]], window: float
) -> tuple[float, int]:
    """Each library's 20 posts over the window; returns (seconds, posts)."""
    rng = random.Random(15)  # noqa: S311 - benchmark data
    start = now() + timedelta(seconds=LEAD_SECONDS)
    plans = [
        (
            org_id,
            [
                BulkPost(
                    f"net {org_id} {i}",
                    [channels[i % len(channels)]],
                    start + timedelta(seconds=rng.uniform(0, window)),
                )
                for i in range(POSTS_PER_LIBRARY)
            ],
        )
        for org_id, channels in network
    ]
    started = time.perf_counter()
    head = installation.afisha.settings.organization
    with installation.afisha.transaction(head) as (session, _head):
        for org_id, posts in plans:
            queue_many(session, session.get_one(Organization, org_id), posts, "bench")
    return time.perf_counter() - started, sum(len(p) for _, p in plans)


def _add_events(
    installation: Installation,
    network: list[tuple[int, list[str]]],
    events: int,
    window: float,
) -> int:
    rng = random.Random(16)  # noqa: S311 - benchmark data
    earliest = LEAD_SECONDS + ANNOUNCE_BEFORE.total_seconds() + 5
    moment = now()
    head = installation.afisha.settings.organization
    with installation.afisha.transaction(head) as (session, _head):
        for k in range(events):
            org_id, channels = network[k % len(network)]
            starts = moment + timedelta(seconds=rng.uniform(earliest, LEAD_SECONDS + window))
            new = NewEvent(
                title=f"netev {org_id} {k}",
                starts_at=starts,
                channels=[channels[k % len(channels)]],
                announce_at=starts - ANNOUNCE_BEFORE,
                reminder_offsets=list(REMINDER_OFFSETS),
            )
            add_event(
                session,
                session.get_one(Organization, org_id),
                new,
                installation.workdir / "media",
                moment,
                "bench",
            )
    return events


def _unconstrained(rows: list[tuple[int, str, datetime]]) -> set[int]:
    """The publications due where the demand stayed under MARGIN of both limits."""
    moments = sorted(due.timestamp() for _, _, due in rows)
    by_chat: dict[str, list[float]] = {}
    for _, chat, due in rows:
        by_chat.setdefault(chat, []).append(due.timestamp())
    for times in by_chat.values():
        times.sort()

    def within(times: list[float], t: float, span: float) -> int:
        return bisect.bisect_right(times, t) - bisect.bisect_left(times, t - span)

    return {
        pid
        for pid, chat, due in rows
        if within(moments, due.timestamp(), 1.0) <= PER_SECOND * MARGIN
        and within(by_chat[chat], due.timestamp(), 60.0) <= PER_CHAT_MINUTE * MARGIN
    }


def run(context: Context) -> dict[str, Any]:
    libraries = max(3, round(LIBRARIES * min(1.0, context.scale)))
    events = max(3, round(EVENTS * min(1.0, context.scale)))
    window = max(20.0, WINDOW_SECONDS * min(1.0, context.scale * 10))
    channels = sum(2 + n % 2 for n in range(libraries))
    with (
        sandbox_process(telegram_channels=channels) as sandbox,
        fresh_database("postgresql", context.workdir) as database,
    ):
        limits = sandbox.limits(
            telegram_flood=True, overall_per_second=PER_SECOND, per_chat_per_minute=PER_CHAT_MINUTE
        )
        installation = install(database, sandbox, context.workdir, telegram=channels)
        network = _network(installation, libraries)
        queue_seconds, posts = _queue_plan(installation, network, window)
        _add_events(installation, network, events, window)
        total = installation.count()
        workers = [start_worker(installation, f"net-w{i + 1}", pacing=True) for i in range(WORKERS)]
        try:
            for worker in workers:
                wait_ready(worker)
            context.say(
                f"network: {libraries} libraries, {posts} posts and {events} events "
                f"({total} publications) over {window:.0f} s, {WORKERS} workers, limits on"
            )
            finished = wait_until(
                lambda: installation.count(*UNFINISHED) == 0,
                timeout=LEAD_SECONDS + window + 300,
                every=2.0,
            )
        finally:
            for worker in workers:
                worker.stop()
        with installation.afisha.sessions() as session:
            rows = session.execute(
                select(
                    Publication.id,
                    Channel.external_id,
                    Publication.due_at,
                    Publication.remote_id,
                    Publication.state,
                ).join(Channel, Channel.id == Publication.channel_id)
            ).all()
        states = installation.states()
        calls = sandbox.calls()
        items = [i for i in sandbox.ledger() if i[0] == "telegram"]
        installation.close()
    published = {(str(target), str(remote)): float(at) for _p, target, remote, _t, at in items}
    lateness: dict[int, float] = {}
    for pid, chat, due, remote, state in rows:
        at = published.get((str(chat), str(remote)))
        if state is PublicationState.SENT and at is not None:
            lateness[pid] = (at - due.timestamp()) * 1000
    free = _unconstrained([(pid, chat, due) for pid, chat, due, _r, _s in rows])
    sent = sum(1 for *_, state in rows if state is PublicationState.SENT)
    sends = int(calls.get("telegram.sendMessage", 0))
    return {
        "database": "postgresql",
        "libraries": libraries,
        "channels": channels,
        "posts": posts,
        "events": events,
        "publications": len(rows),
        "window_seconds": window,
        "workers": WORKERS,
        "sandbox_limits": limits,
        "queue_seconds": round(queue_seconds, 3),
        "finished": finished,
        "sent": sent,
        "lost": len(rows) - sent,
        "extra_copies": len(items) - len(lateness),
        "answers_429_sandbox": sends - len(items),
        "states": states,
        "states_counted": dict(Counter(str(s) for *_, s in rows)),
        "lateness_ms": lateness_summary(list(lateness.values())),
        "unconstrained": len(free),
        "lateness_unconstrained_ms": lateness_summary(
            [ms for pid, ms in lateness.items() if pid in free]
        ),
    }
