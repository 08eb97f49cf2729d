"""The sandbox's virtual clock: real time plus an offset the admin API can advance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class SandboxClock:
    """Wall-clock UTC time shifted by an adjustable offset (for engagement growth and expiry)."""

    def __init__(self) -> None:
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def timestamp(self) -> int:
        return int(self.now().timestamp())

    def advance(self, seconds: float) -> datetime:
        """Move sandbox time forward; returns the new now."""
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        self._offset += timedelta(seconds=seconds)
        return self.now()

    def reset(self) -> None:
        self._offset = timedelta(0)
