"""The machine a figure was measured on: cores, CPU model, versions, load."""

from __future__ import annotations

import os
import platform
import sqlite3
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
    }
