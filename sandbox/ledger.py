"""What the platforms received: every published item once, and every call counted."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class LedgerItem:
    """One item that became visible to followers (a message, a post, a photo, an IG media)."""

    platform: str  # telegram | facebook | instagram
    target: str  # chat id, page id or IG user id
    remote_id: str
    text: str
    media_count: int
    at: datetime
    kind: str = "post"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        return data


@dataclass
class Ledger:
    """Append-only record of published items plus per-method call counts."""

    items: list[LedgerItem] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)

    def record(self, item: LedgerItem) -> LedgerItem:
        self.items.append(item)
        return item

    def count_call(self, platform: str, method: str) -> None:
        self.calls[f"{platform}.{method}"] += 1

    def remove(self, platform: str, remote_id: str) -> None:
        """Forget an item that was deleted on the platform."""
        self.items = [
            i for i in self.items if not (i.platform == platform and i.remote_id == remote_id)
        ]

    def clear(self) -> None:
        self.items.clear()
        self.calls.clear()

    def to_json(self) -> dict[str, Any]:
        return {"items": [i.to_json() for i in self.items], "calls": dict(self.calls)}
