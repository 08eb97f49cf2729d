"""The sandbox application: one aiohttp app serving every emulator, the admin API and the page."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from sandbox import admin, graph, instagram_web, page, telegram
from sandbox.clock import SandboxClock
from sandbox.faults import FaultInjector
from sandbox.fixtures import Fixtures, make_fixtures
from sandbox.ledger import Ledger


@dataclass
class Sandbox:
    """The whole outside world's state; the emulators keep their own parts in `parts`."""

    seed: int = 0
    clock: SandboxClock = field(default_factory=SandboxClock)
    ledger: Ledger = field(default_factory=Ledger)
    faults: FaultInjector = field(init=False)
    fixtures: Fixtures = field(init=False)
    rng: random.Random = field(init=False)
    parts: dict[str, Any] = field(default_factory=dict)
    base_url: str = ""

    def __post_init__(self) -> None:
        self.faults = FaultInjector(seed=self.seed)
        self.fixtures = make_fixtures(self.seed)
        self.rng = random.Random(self.seed)

    def reset(self) -> None:
        """Back to the freshly seeded state (ledger, faults, clock, emulator state)."""
        self.clock.reset()
        self.ledger.clear()
        self.faults.reset()
        self.fixtures = make_fixtures(self.seed)
        self.rng = random.Random(self.seed)
        for part in self.parts.values():
            reset = getattr(part, "reset", None)
            if reset is not None:
                reset()


SANDBOX: web.AppKey[Sandbox] = web.AppKey("sandbox", Sandbox)


def build_app(sandbox: Sandbox) -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[SANDBOX] = sandbox
    telegram.add_routes(app, sandbox)
    graph.add_routes(app, sandbox)
    instagram_web.add_routes(app, sandbox)
    admin.add_routes(app, sandbox)
    page.add_routes(app, sandbox)
    return app


async def start(
    sandbox: Sandbox, host: str = "127.0.0.1", port: int = 8700
) -> tuple[web.AppRunner, str]:
    """Start serving; port 0 picks a free one. Returns the runner and the base URL."""
    runner = web.AppRunner(build_app(sandbox), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    assert runner.addresses, "the sandbox did not bind"
    bound_port = runner.addresses[0][1]
    sandbox.base_url = f"http://{host}:{bound_port}"
    return runner, sandbox.base_url


async def serve_forever(sandbox: Sandbox, host: str, port: int) -> None:
    runner, _ = await start(sandbox, host, port)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
