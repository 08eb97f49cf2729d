"""Fault injection: per-method probabilities of platform failures, deterministic under the seed.

A spec is `METHOD:KIND=P[,KIND=P...]` entries joined by `;`, for example
`sendMessage:429=0.2,5xx=0.1;*:drop_after=0.05`. METHOD is the emulator's name for the call
(a Telegram method such as `sendMessage`, or a Graph operation such as `feed`, `photos`, `media`,
`media_publish`, `batch`, `read`, `insights`); `*` matches every method.

Kinds:
- `429`: the platform's throttling answer (Telegram 429 with retry_after, Graph throttling codes);
- `5xx`: an internal server error, nothing recorded;
- `slow`: the answer comes after `slow_seconds` (longer than a client's read timeout);
- `drop_before`: the connection is dropped before anything is recorded;
- `drop_after`: the item is recorded, then the connection is dropped ("did it post?");
- `echo`: a refusal that quotes the request, credentials and all, as a filtering proxy's error
  page does (Telegram: a plain-text 400 naming the URL, which holds the bot token; Graph: an
  error answer naming the Authorization header), nothing recorded. Tests use it to show that
  no secret reaches a log, a message or the database by way of a failure.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

KINDS = ("429", "5xx", "slow", "drop_before", "drop_after", "echo")


class FaultSpecError(ValueError):
    """The fault spec text is malformed."""


def parse_spec(spec: str) -> dict[str, dict[str, float]]:
    """Parse a fault spec into {method: {kind: probability}}."""
    rules: dict[str, dict[str, float]] = {}
    for entry in filter(None, (part.strip() for part in spec.split(";"))):
        method, sep, kinds = entry.partition(":")
        if not sep or not method:
            raise FaultSpecError(f"fault entry {entry!r} must look like METHOD:KIND=P")
        for pair in filter(None, (p.strip() for p in kinds.split(","))):
            kind, eq, prob = pair.partition("=")
            if not eq or kind not in KINDS:
                raise FaultSpecError(f"unknown fault {pair!r}; kinds are {', '.join(KINDS)}")
            try:
                value = float(prob)
            except ValueError:
                raise FaultSpecError(f"probability {prob!r} is not a number") from None
            if not 0 <= value <= 1:
                raise FaultSpecError(f"probability {value} is outside 0..1")
            rules.setdefault(method, {})[kind] = value
    return rules


@dataclass
class FaultInjector:
    """Draws faults for calls; the same seed and call sequence give the same faults."""

    seed: int = 0
    rules: dict[str, dict[str, float]] = field(default_factory=dict)
    slow_seconds: float = 6.0
    retry_after: int = 3
    forced: list[tuple[str, str]] = field(default_factory=list)
    injected: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def configure(self, spec: str) -> None:
        self.rules = parse_spec(spec)

    def force(self, method: str, kind: str) -> None:
        """Make the next call of `method` (or `*`) fail with `kind`, once."""
        if kind not in KINDS:
            raise FaultSpecError(f"unknown fault {kind!r}")
        self.forced.append((method, kind))

    def reset(self) -> None:
        self.rules = {}
        self.forced.clear()
        self.injected.clear()
        self._rng = random.Random(self.seed)

    def draw(self, method: str) -> str | None:
        """The fault for this call of `method`, or None for a normal answer."""
        for i, (m, kind) in enumerate(self.forced):
            if m in (method, "*"):
                del self.forced[i]
                return self._note(method, kind)
        for key in (method, "*"):
            for kind, prob in self.rules.get(key, {}).items():
                if prob and self._rng.random() < prob:
                    return self._note(method, kind)
        return None

    def _note(self, method: str, kind: str) -> str:
        self.injected.append({"method": method, "kind": kind})
        return kind


def drop_connection(request: web.Request) -> web.StreamResponse:
    """Abort the TCP connection so the client sees a disconnect instead of an answer."""
    if request.transport is not None:
        request.transport.abort()
    raise ConnectionResetError("sandbox dropped the connection on purpose")
