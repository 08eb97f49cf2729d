"""Run the sandbox in a background thread with its own event loop (tests, demo, benchmarks).

Synchronous clients (facebook-sdk) and asynchronous ones (python-telegram-bot) can then both
talk to it over loopback without sharing the caller's event loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web

from sandbox.app import Sandbox, start

T = TypeVar("T")


class SandboxThread:
    """A sandbox served from a daemon thread; use as a context manager or call start/stop."""

    def __init__(self, seed: int = 0, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sandbox = Sandbox(seed=seed)
        self.host = host
        self.port = port
        self.base_url = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    def start(self) -> SandboxThread:
        self._thread.start()
        self._runner, self.base_url = self.run(start(self.sandbox, self.host, self.port))
        return self

    def run(self, coro: Any) -> Any:
        """Run a coroutine on the sandbox's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    def call(self, fn: Callable[[], T]) -> T:
        """Run a plain function on the sandbox's loop thread (safe access to its state)."""
        future: Future[T] = Future()

        def wrapper() -> None:
            try:
                future.set_result(fn())
            except Exception as exc:  # noqa: BLE001 - handed to the caller
                future.set_exception(exc)

        self._loop.call_soon_threadsafe(wrapper)
        return future.result(timeout=30)

    def stop(self) -> None:
        if self._runner is not None:
            self.run(self._runner.cleanup())
            self._runner = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> SandboxThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
