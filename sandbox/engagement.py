"""Deterministic engagement growth: counts of a published item as a function of sandbox time."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Engagement:
    views: int
    reach: int
    reactions: int
    comments: int
    shares: int
    saves: int


def _unit(seed: int, key: str, salt: str) -> float:
    digest = hashlib.sha256(f"{seed}:{key}:{salt}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def engagement_at(seed: int, key: str, published_at: datetime, now: datetime) -> Engagement:
    """Counts for the item `key` published at `published_at`, seen at `now`.

    Growth saturates over about two days; the same seed and key always give the same curve,
    and counts never decrease as time moves on.
    """
    hours = max(0.0, (now - published_at).total_seconds() / 3600)
    growth = 1 - math.exp(-hours / 12)
    peak_views = 200 + int(_unit(seed, key, "views") * 1800)
    views = int(peak_views * growth)
    reach = int(views * (0.6 + 0.3 * _unit(seed, key, "reach")))
    reactions = int(views * (0.03 + 0.07 * _unit(seed, key, "reactions")))
    comments = int(views * 0.01 * _unit(seed, key, "comments"))
    shares = int(views * 0.008 * _unit(seed, key, "shares"))
    saves = int(views * 0.01 * _unit(seed, key, "saves"))
    return Engagement(views, reach, reactions, comments, shares, saves)
