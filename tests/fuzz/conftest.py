"""The count of generated inputs, printed at the end of the session (and written to
$AFISHA_FUZZ_REPORT for `make fuzz`, which runs two sessions side by side)."""

from __future__ import annotations

import json
import os
from typing import Any

from tests.fuzz import COUNTS


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not COUNTS:
        return
    total = sum(COUNTS.values())
    terminalreporter.write_line(f"fuzz: {total:,} generated inputs run")
    for target, count in sorted(COUNTS.items()):
        terminalreporter.write_line(f"  {target}: {count:,}")
    report = os.environ.get("AFISHA_FUZZ_REPORT")
    if report:
        with open(report, "w", encoding="utf-8") as handle:
            json.dump(dict(COUNTS), handle)
