"""Meta's usage headers, read from every Graph answer, and the pacing they suggest.

`channels.graph.GraphClient` reads `X-App-Usage` and `X-Business-Use-Case-Usage` with
`parse_usage` and waits `suggested_delay` before its next call, so that Meta does not have to
throttle; `channels.graph_errors` uses the reading for how long a throttled call must wait.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

# When Meta throttles without saying how long (no usage header), wait this long: its guide
# says limits are computed over a rolling hour, and five minutes lets the usage fall a little.
DEFAULT_RETRY_AFTER = 300.0
# Usage readings older than this say nothing about the current window.
USAGE_FRESH_SECONDS = 300.0
# Before Meta throttles, slow down as usage (percent of the allowance) climbs.
PACING = ((95, 10.0), (90, 5.0), (80, 1.0))


@dataclass(frozen=True)
class GraphUsage:
    """Meta's latest usage report, in percent of the allowance (100 means throttled)."""

    app_percent: int | None
    business_percent: int | None
    regain_seconds: float
    observed_at: float  # time.monotonic() of the answer

    @property
    def percent(self) -> int:
        return max(self.app_percent or 0, self.business_percent or 0)


def _percent(entry: Any) -> int | None:
    if not isinstance(entry, dict):
        return None
    values = [
        v
        for k in ("call_count", "total_cputime", "total_time")
        if isinstance(v := entry.get(k), int)
    ]
    return max(values) if values else None


def parse_usage(headers: Mapping[str, str], observed_at: float | None = None) -> GraphUsage | None:
    """The usage headers of one answer, or None when it carries none."""
    lowered = {k.lower(): v for k, v in headers.items()}
    app_raw, buc_raw = lowered.get("x-app-usage"), lowered.get("x-business-use-case-usage")
    if app_raw is None and buc_raw is None:
        return None
    app = business = None
    regain = 0.0
    try:
        app = _percent(json.loads(app_raw)) if app_raw else None
        if buc_raw:
            for entries in json.loads(buc_raw).values():
                for entry in entries if isinstance(entries, list) else []:
                    pct = _percent(entry)
                    if pct is not None:
                        business = max(business or 0, pct)
                    minutes = entry.get("estimated_time_to_regain_access") or 0
                    if isinstance(minutes, int | float):
                        regain = max(regain, float(minutes) * 60)
    except (ValueError, AttributeError, TypeError):
        log.debug("unreadable Graph usage headers")
    stamp = time.monotonic() if observed_at is None else observed_at
    return GraphUsage(app, business, regain, stamp)


def suggested_delay(usage: GraphUsage | None, now: float | None = None) -> float:
    """Seconds to wait before the next call so that Meta does not have to throttle us."""
    if usage is None:
        return 0.0
    elapsed = (time.monotonic() if now is None else now) - usage.observed_at
    if usage.percent >= 100:
        wait = (usage.regain_seconds or DEFAULT_RETRY_AFTER) - elapsed
        return max(wait, 0.0)
    if elapsed > USAGE_FRESH_SECONDS:
        return 0.0
    return next((delay for level, delay in PACING if usage.percent >= level), 0.0)
