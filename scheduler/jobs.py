"""A claimed publication as the engine carries it from claim to record, and the loop's timing
of such jobs."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from channels.base import Outgoing
from content.storage.models import Channel
from scheduler.limits import Rate

# Database work that can wait (a claim ahead, a record) waits for a gap before the event loop
# is needed (a begin, a request begun ahead) of at least this many times the longest of its
# recent durations, within bounds: it blocks the event loop while it runs.
GAP_FACTOR = 1.5
GAP_BOUNDS = (0.005, 0.1)


@dataclass(frozen=True)
class Job:
    """A claimed publication, composed and ready to send."""

    publication_id: int
    channel: Channel
    outgoing: Outgoing
    rates: list[Rate]
    due_at: datetime
    post_id: int | None = None
    progress: Mapping[str, Any] | None = None  # as claimed (a send may add to it)
    booked: float = 0.0  # when the pacer booked its send (0: not paced)


def gap(durations: Sequence[float]) -> float:
    """The quiet time database work of these recent durations waits for (within bounds)."""
    wanted = GAP_FACTOR * max(durations, default=0.0)
    return min(max(wanted, GAP_BOUNDS[0]), GAP_BOUNDS[1])


def seconds_to_send(in_flight: Iterable[tuple[Job, int]], now: datetime) -> float:
    """Seconds until the first job begun ahead sends its request (inf: none waits)."""
    waiting = [job.due_at for job, _ in in_flight if job.due_at > now]
    return (min(waiting) - now).total_seconds() if waiting else math.inf


def due_count(pending: list[Job], now: datetime, room: int) -> int:
    """How many of the first `pending` jobs (in due order) are due at `now`, at most `room`."""
    count = 0
    while count < min(room, len(pending)) and pending[count].due_at <= now:
        count += 1
    return count
