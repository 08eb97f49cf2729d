"""When to try again: exponential backoff with jitter, honouring what the platform asked."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float = 30.0
    cap_seconds: float = 1800.0
    max_not_sent: int = 5  # attempts that certainly did not reach the platform
    jitter: float = 0.2  # ±20%, so many publications that failed together spread out

    def backoff(self, failures: int, rng: random.Random) -> timedelta:
        """Delay before the next try after `failures` consecutive not-sent attempts (≥ 1)."""
        delay = min(self.cap_seconds, self.base_seconds * 2 ** max(0, failures - 1))
        return timedelta(seconds=delay * rng.uniform(1 - self.jitter, 1 + self.jitter))

    def after_rate_limit(self, retry_after: float, rng: random.Random) -> timedelta:
        """Never earlier than asked; a little later so waiting publications do not stampede."""
        return timedelta(seconds=retry_after * rng.uniform(1.0, 1 + self.jitter) + 0.05)

    def gives_up(self, failures: int) -> bool:
        return failures >= self.max_not_sent
