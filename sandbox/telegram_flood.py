"""Telegram's flood control: about 30 messages a second per bot, 20 a minute per group or channel.

Real Telegram does not publish exact numbers (Bot FAQ, "My bot is hitting limits"); these are the
documented ones, configurable through the admin API and switchable off for benchmarks. Windows use
real monotonic time, injectable for tests, not the sandbox clock: flood control protects the
servers in the present, whatever sandbox time says.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class FloodLimits:
    enabled: bool = True
    overall_per_second: int = 30
    per_chat_per_minute: int = 20


class FloodControl:
    """Sliding windows of sent messages; `admit` answers a retry delay or records the sends."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.limits = FloodLimits()
        self._overall: deque[float] = deque()
        self._per_chat: defaultdict[int, deque[float]] = defaultdict(deque)
        self.refused = 0  # requests answered 429, for tests and benchmarks to count

    def reset(self) -> None:
        self.clock = time.monotonic
        self.limits = FloodLimits()
        self.refused = 0
        self._overall.clear()
        self._per_chat.clear()

    def admit(self, chat_id: int, is_group: bool, count: int = 1) -> int | None:
        """Record `count` messages to the chat, or return seconds to wait if that is too many."""
        if not self.limits.enabled:
            return None
        now = self.clock()
        waits = [_wait(self._overall, now, 1.0, self.limits.overall_per_second, count)]
        if is_group:
            chat = self._per_chat[chat_id]
            waits.append(_wait(chat, now, 60.0, self.limits.per_chat_per_minute, count))
        worst = max(waits)
        if worst > 0:
            self.refused += 1
            return max(1, math.ceil(worst))
        for _ in range(count):
            self._overall.append(now)
            if is_group:
                self._per_chat[chat_id].append(now)
        return None


def _wait(window: deque[float], now: float, span: float, limit: int, count: int) -> float:
    """Seconds until `count` more sends fit in the window (0 if they fit now)."""
    while window and window[0] <= now - span:
        window.popleft()
    excess = len(window) + count - limit
    if excess <= 0:
        return 0.0
    if excess > len(window):  # more than the limit in one request: wait out a whole window
        return span
    return window[excess - 1] + span - now
