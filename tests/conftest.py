"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from sandbox.runner import SandboxThread

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ.setdefault("PTB_TIMEDELTA", "true")


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[SandboxThread]:
    """A sandbox on a free loopback port, shared by a module's tests."""
    with SandboxThread(seed=42) as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server: SandboxThread) -> SandboxThread:
    """The module's sandbox, reset to its seeded state for each test."""
    sandbox_server.call(sandbox_server.sandbox.reset)
    return sandbox_server


# --- databases: every storage test runs on SQLite and, when it answers, PostgreSQL ---------------


DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_url() -> str | None:
    url = os.environ.get("AFISHA_TEST_DATABASE_URL")
    if url:
        return url
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return DEFAULT_PG
    except OSError:
        return None


POSTGRES_URL = _postgres_url()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/afisha.db"
        return
    if POSTGRES_URL is None:
        pytest.skip(
            "PostgreSQL is not answering on 127.0.0.1:5432 and AFISHA_TEST_DATABASE_URL is unset"
        )
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        # The application name lets a test find (and cut) exactly its own connections.
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}&application_name={schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
