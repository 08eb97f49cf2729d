"""Pacing sends so platforms never need to answer 429 in normal operation.

Token buckets per key (a bot, a Telegram chat, a Facebook Page...) with an injectable clock, so
the engine can ask how many sends a channel may start now when it claims work, and block a key
for the `retry_after` a platform asked for. (aiolimiter, which PTB uses, reads the event loop's
clock and cannot answer "how much capacity is there" for a claim, hence this small class.)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from scheduler.clock import Clock


@dataclass(frozen=True)
class Rate:
    key: str
    count: int
    seconds: float


class _Bucket:
    def __init__(self, rate: Rate, now: float) -> None:
        self.capacity = float(rate.count)
        self.refill = rate.count / rate.seconds
        self.tokens = self.capacity
        self.updated = now
        self.blocked_until = 0.0

    def _refresh(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.refill)
        self.updated = now

    def available(self, now: float) -> int:
        if now < self.blocked_until:
            return 0
        self._refresh(now)
        return int(self.tokens)

    def reserve(self, now: float) -> float:
        """Take one token; returns how long to wait before using it."""
        self._refresh(now)
        self.tokens -= 1
        wait = max(0.0, -self.tokens / self.refill)
        return max(wait, self.blocked_until - now)


class Pacer:
    """Shared token buckets; `reserve` books a send and says how long to wait for it."""

    def __init__(self, clock: Clock, enabled: bool = True) -> None:
        self.clock = clock
        self.enabled = enabled
        self._buckets: dict[str, _Bucket] = {}

    def _time(self) -> float:
        return self.clock.now().timestamp()

    def _bucket(self, rate: Rate, now: float) -> _Bucket:
        bucket = self._buckets.get(rate.key)
        if bucket is None:
            bucket = self._buckets[rate.key] = _Bucket(rate, now)
        return bucket

    def available(self, rates: list[Rate]) -> int:
        """How many sends under all of `rates` may start now."""
        if not self.enabled or not rates:
            return 1_000_000
        now = self._time()
        return min(self._bucket(rate, now).available(now) for rate in rates)

    def reserve(self, rates: list[Rate]) -> float:
        if not self.enabled:
            return 0.0
        now = self._time()
        return max((self._bucket(rate, now).reserve(now) for rate in rates), default=0.0)

    def block(self, rates: list[Rate], seconds: float) -> None:
        """The platform asked for a pause: nothing under these keys starts before it ends."""
        now = self._time()
        for rate in rates:
            bucket = self._bucket(rate, now)
            bucket.blocked_until = max(bucket.blocked_until, now + seconds)
            bucket.tokens = min(bucket.tokens, 0.0)

    def blocked_until(self, rates: list[Rate]) -> datetime | None:
        now = self._time()
        until = max((self._bucket(r, now).blocked_until for r in rates), default=0.0)
        return datetime.fromtimestamp(until, tz=self.clock.now().tzinfo) if until > now else None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


# Telegram's published limits (Bot FAQ): about 30 messages/s per bot, 20/min per group or channel.
TELEGRAM_PER_BOT = (30, 1.0)
TELEGRAM_PER_CHAT = (20, 60.0)
# Facebook Pages: Business Use Case limits are generous for posting; keep a gentle per-Page pace.
FACEBOOK_PER_PAGE = (30, 60.0)
INSTAGRAM_PER_ACCOUNT = (10, 60.0)


def rates_for(platform: str, external_id: str, bot_token: str | None = None) -> list[Rate]:
    """The pacing keys of a channel."""
    if platform == "telegram":
        bot = _digest(bot_token or "")
        return [
            Rate(f"tg-bot:{bot}", *TELEGRAM_PER_BOT),
            Rate(f"tg-chat:{bot}:{external_id}", *TELEGRAM_PER_CHAT),
        ]
    if platform == "facebook":
        return [Rate(f"fb-page:{external_id}", *FACEBOOK_PER_PAGE)]
    return [Rate(f"ig-user:{external_id}", *INSTAGRAM_PER_ACCOUNT)]
