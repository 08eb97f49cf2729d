"""The machine a figure was measured on: cores, CPU model, versions, load, and how much of the
CPU the hypervisor took away ("steal") and how fast plain Python ran: on a shared 2-core VM the
same code measures up to three times slower from one hour to the next."""

from __future__ import annotations

import os
import platform
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench.harness import PG_ADMIN_URL, load_average


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def postgres_version() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL)
        with engine.connect() as connection:
            version = connection.scalar(text("SHOW server_version"))
        engine.dispose()
    except Exception:  # noqa: BLE001 - no server is an answer too
        return None
    return str(version)


def cpu_times() -> list[int]:
    """The machine's CPU time counters (/proc/stat: user ... steal), or [] where there are none."""
    try:
        return [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return []


def steal_percent(before: list[int], after: list[int]) -> float | None:
    """Of the CPU time between two readings, the share the hypervisor gave to other machines."""
    if len(before) < 8 or len(after) < 8:
        return None
    total = sum(after) - sum(before)
    return round(100 * (after[7] - before[7]) / total, 1) if total > 0 else None


def python_loop_ms() -> float:
    """Milliseconds for a fixed pure-Python loop (best of three): a speed gauge."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for i in range(2_000_000):
            total += i
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 1)


def describe() -> dict[str, Any]:
    memory = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu_model(),
        "memory_gib": memory,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres_version(),
        "kernel": platform.release(),
        "load_average_at_start": load_average(),
        "python_loop_ms": python_loop_ms(),
    }
