"""Pacing sends so platforms never need to answer 429 in normal operation.

Sliding windows per key (a bot, a Telegram chat, a Facebook Page...) with an injectable clock, so
the engine can ask how many sends a channel may start now when it claims work, and block a key
for the `retry_after` a platform asked for. Platforms count sends in the last N seconds, so a
token bucket (which allows a full burst and then the refill rate, more than N in some windows)
earns 429s; a window that holds the times of the sends does not. Each window is a little longer
than the platform's, so sends that reach it a few milliseconds apart still fit.
(aiolimiter, which PTB uses, reads the event loop's clock and cannot answer "how much capacity
is there" for a claim, hence this small class.) Workers sharing one PostgreSQL database share
the windows too: scheduler.pacing_pg.
"""

from __future__ import annotations

import bisect
import hashlib
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from scheduler.clock import Clock

# How much longer than the platform's window ours is: a share of it plus a fixed margin.
SLACK_SHARE = 0.01
SLACK_SECONDS = 0.05
# A send booked and not answered counts at most this long (a worker that stopped mid-send).
FLIGHT_MAX = 60.0
# How long after its booking a send flying elsewhere is guessed to be answered, and how soon a
# window held full by such sends is looked at again.
FLIGHT_GUESS = 0.25
POLL_SECONDS = 0.05


@dataclass(frozen=True)
class Rate:
    key: str
    count: int
    seconds: float


class _Window:
    """The sends under one key within the last `span` seconds.

    `sent` holds the moments sends count from; `flying` the booking times of sends whose answer
    is not known here yet (another worker's, read from the shared table): they count until
    they are answered, or until FLIGHT_MAX has passed.
    """

    def __init__(self, rate: Rate) -> None:
        self.limit = rate.count
        self.span = rate.seconds * (1 + SLACK_SHARE) + SLACK_SECONDS
        self.sent: deque[float] = deque()
        self.flying: list[float] = []
        self.blocked_until = 0.0

    def _prune(self, now: float) -> None:
        if self.flying and self.flying[0] <= now - FLIGHT_MAX:
            stale = [b for b in self.flying if b <= now - FLIGHT_MAX]
            self.flying = [b for b in self.flying if b > now - FLIGHT_MAX]
            for booked in stale:  # a worker that went away mid-send: count it as answered late
                bisect.insort(self.sent, booked + FLIGHT_MAX)
        while self.sent and self.sent[0] <= now - self.span:
            self.sent.popleft()

    def available(self, now: float) -> int:
        if now < self.blocked_until:
            return 0
        self._prune(now)
        return max(0, self.limit - len(self.sent) - len(self.flying))

    def free_at(self, now: float) -> float:
        """When the next send may start (for a send still flying, a guess: it is answered
        FLIGHT_GUESS after its booking, and not before POLL_SECONDS from now)."""
        self._prune(now)
        at = now
        if len(self.sent) + len(self.flying) >= self.limit:
            guessed = (max(b + FLIGHT_GUESS, now + POLL_SECONDS - self.span) for b in self.flying)
            counted = sorted([*self.sent, *guessed])
            at = counted[len(counted) - self.limit] + self.span
        return max(at, self.blocked_until)

    def reserve(self, now: float) -> float:
        """Book one send; returns how long to wait before making it."""
        at = self.free_at(now)
        bisect.insort(self.sent, at)
        return at - now

    def book_flying(self, now: float) -> None:
        """Book a send that starts now and counts until its answer is known (shared pacing)."""
        bisect.insort(self.flying, now)

    def done(self, booked: float, now: float) -> None:
        """A send booked at `booked` got its answer: count it from now, the latest moment the
        platform can have counted it, so that the next window starts late enough."""
        index = bisect.bisect_left(self.flying, booked)
        if index < len(self.flying) and self.flying[index] == booked:
            del self.flying[index]
            bisect.insort(self.sent, max(booked, now))
            return
        index = bisect.bisect_left(self.sent, booked)
        if index < len(self.sent) and self.sent[index] == booked:
            del self.sent[index]
            bisect.insort(self.sent, max(booked, now))


class Pacer:
    """Shared sliding windows; `reserve` books a send and says how long to wait for it."""

    def __init__(self, clock: Clock, enabled: bool = True) -> None:
        self.clock = clock
        self.enabled = enabled
        self._windows: dict[str, _Window] = {}

    def _time(self) -> float:
        return self.clock.now().timestamp()

    def _window(self, rate: Rate) -> _Window:
        window = self._windows.get(rate.key)
        if window is None:
            window = self._windows[rate.key] = _Window(rate)
        return window

    def available(self, rates: list[Rate], taken: Mapping[str, int] | None = None) -> int:
        """How many sends under all of `rates` may start now (less those `taken` per key,
        promised but not yet booked)."""
        if not self.enabled or not rates:
            return 1_000_000
        now = self._time()
        taken = taken or {}
        return min(self._window(rate).available(now) - taken.get(rate.key, 0) for rate in rates)

    def free_at(self, rates: list[Rate]) -> datetime:
        """When a send under all of `rates` may start (now, if it may)."""
        now = self.clock.now()
        if not self.enabled or not rates:
            return now
        stamp = now.timestamp()
        at = max(self._window(rate).free_at(stamp) for rate in rates)
        return datetime.fromtimestamp(at, tz=now.tzinfo) if at > stamp else now

    def reserve(self, rates: list[Rate]) -> float:
        if not self.enabled:
            return 0.0
        now = self._time()
        return max((self._window(rate).reserve(now) for rate in rates), default=0.0)

    def book(self, rates: list[Rate]) -> float:
        """Book a send that starts now (as `reserve`); returns the booking's time stamp."""
        if not self.enabled or not rates:
            return 0.0
        now = self._time()
        for rate in rates:
            self._window(rate).reserve(now)
        return now

    def book_batch(self, batch: Sequence[list[Rate]]) -> list[float | None]:
        """Book, in order, each send of `batch` (its rates) that may start now; returns each
        one's booking time stamp, or None for those that must wait."""
        booked: list[float | None] = []
        for rates in batch:
            booked.append(self.book(rates) if self.available(rates) > 0 else None)
        return booked

    def refresh(self, rates: Iterable[Rate] = ()) -> None:
        """Read the other workers' sends (SharedPacer); a process pacing alone knows them all."""

    def flush(self) -> None:
        """Tell the other workers what was answered (SharedPacer); nothing to tell here."""

    def close(self) -> None:
        """Give back what the pacer holds between its calls (SharedPacer: a connection)."""

    def done(self, rates: list[Rate], booked: float) -> None:
        """The send booked at `booked` is answered: it counts from now in every window."""
        if not self.enabled or not booked:
            return
        now = self._time()
        for rate in rates:
            self._window(rate).done(booked, now)

    def block(self, rates: list[Rate], seconds: float) -> None:
        """The platform asked for a pause: nothing under these keys starts before it ends."""
        now = self._time()
        for rate in rates:
            window = self._window(rate)
            window.blocked_until = max(window.blocked_until, now + seconds)

    def blocked_until(self, rates: list[Rate]) -> datetime | None:
        now = self._time()
        until = max((self._window(r).blocked_until for r in rates), default=0.0)
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
