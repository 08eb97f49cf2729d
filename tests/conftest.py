"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from sandbox.runner import SandboxThread

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ.setdefault("PTB_TIMEDELTA", "true")


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[SandboxThread]:
    """A sandbox on a free loopback port, shared by a module's tests."""
    with SandboxThread(seed=42) as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server: SandboxThread) -> Iterator[SandboxThread]:
    """The module's sandbox, reset to its seeded state for each test."""
    sandbox_server.call(sandbox_server.sandbox.reset)
    yield sandbox_server
