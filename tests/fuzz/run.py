"""`make fuzz`: every fuzz target with its full budget, in two pytest sessions side by side (one
per core), then the count of generated inputs run, which must reach a million."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).parent
# Two halves of about equal running time: the cheap, batched parsers and rules in one, the plans,
# the bot and the web port (each input a real file, transaction or request) in the other.
HALVES = (
    ["test_times.py", "test_rules.py"],
    ["test_plans.py", "test_bot.py", "test_web.py"],
)
GOAL = 1_000_000


def main() -> int:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="afisha-fuzz-") as scratch:
        sessions = []
        for number, files in enumerate(HALVES):
            report = Path(scratch, f"counts-{number}.json")
            env = {**os.environ, "AFISHA_FUZZ": "1", "AFISHA_FUZZ_REPORT": str(report)}
            command = [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:randomly",
                "--timeout=1800",
                *(str(HERE / name) for name in files),
            ]
            sessions.append((subprocess.Popen(command, env=env), report))  # noqa: S603
        failed, cpu = [], []
        for process, _ in sessions:
            # The processor time each session used: what it would take on an idle core, where
            # the wall time of a loaded machine says little.
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
            failed.append(process.returncode != 0)
            cpu.append(usage.ru_utime + usage.ru_stime)
        counts: Counter[str] = Counter()
        for _, report in sessions:
            if report.exists():
                counts.update(json.loads(report.read_text()))
    elapsed = time.monotonic() - started
    total = sum(counts.values())
    lines = [
        f"\nmake fuzz: {total:,} generated inputs run in {elapsed / 60:.1f} min "
        f"(processor time of the two sessions: {cpu[0] / 60:.1f} and {cpu[1] / 60:.1f} min)"
    ]
    lines += [f"  {target}: {count:,}" for target, count in sorted(counts.items())]
    if any(failed):
        lines.append("a fuzz target failed: see above")
    elif total < GOAL:
        lines.append(f"fewer than {GOAL:,} inputs")
    sys.stdout.write("\n".join(lines) + "\n")
    if any(failed) or total < GOAL:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
