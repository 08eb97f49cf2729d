"""A Channel of our own protocol whose outcomes a test scripts (no client library involved).

Engine tests use it to drive every outcome deterministically; the channels' own tests and the
end-to-end tests use the real clients against the sandbox.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from channels.base import (
    ChannelError,
    Checkpoint,
    CredentialStatus,
    Metrics,
    Outgoing,
    Published,
    Reconciliation,
    Verdict,
    no_checkpoint,
)
from content.domain.states import Platform

_ids = itertools.count(1000)


@dataclass
class ScriptedChannel:
    platform: Platform = Platform.TELEGRAM
    # Raised in order by publish; when empty, publish succeeds.
    failures: list[ChannelError] = field(default_factory=list)
    # An error raised *after* the item was recorded as posted (the "did it post?" case).
    lose_response: ChannelError | None = None
    verdict: Verdict = Verdict.UNKNOWN
    published: list[Outgoing] = field(default_factory=list)
    posted: dict[str, Outgoing] = field(default_factory=dict)
    metrics: dict[str, Metrics] = field(default_factory=dict)
    # Whether publish saves progress before returning (Telegram only does between parts).
    checkpoints: bool = True

    async def publish(
        self, outgoing: Outgoing, checkpoint: Checkpoint = no_checkpoint
    ) -> Published:
        if self.failures:
            raise self.failures.pop(0)
        remote = str(next(_ids))
        if self.checkpoints:
            await checkpoint({"message_id": remote})
        self.published.append(outgoing)
        self.posted[remote] = outgoing
        if self.lose_response is not None:
            error, self.lose_response = self.lose_response, None
            raise error
        return Published(remote, f"https://example.test/{remote}")

    async def verify(
        self, outgoing: Outgoing, progress: Mapping[str, Any], sent_after: datetime
    ) -> Reconciliation:
        if self.verdict is Verdict.POSTED:
            remote = next(r for r, o in self.posted.items() if o.text == outgoing.text)
            return Reconciliation(Verdict.POSTED, Published(remote))
        return Reconciliation(self.verdict)

    async def fetch_engagement(self, remote_ids: Sequence[str]) -> dict[str, Metrics]:
        return {r: self.metrics[r] for r in remote_ids if r in self.metrics}

    async def check_credentials(self) -> CredentialStatus:
        return CredentialStatus(valid=True)

    async def close(self) -> None:
        return None
