"""Starting the sandbox for people: the `afisha sandbox` command and the demo."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping

from content.errors import InvalidInput
from sandbox.app import Sandbox, start
from sandbox.faults import FaultSpecError
from sandbox.graph_state import graph_state


def sandbox_environment(base_url: str, sandbox: Sandbox) -> dict[str, str]:
    """The settings that point Afisha at a running sandbox."""
    return {
        "AFISHA_TELEGRAM_API_URL": base_url,
        "AFISHA_GRAPH_API_URL": f"{base_url}/graph",
        "AFISHA_INSTAGRAM_WEB_URL": f"{base_url}/instagram-web",
        "AFISHA_TELEGRAM_TOKEN": sandbox.fixtures.bot_token,
    }


def make_sandbox(
    seed: int, faults: str, processing: Mapping[str, float | None] | None = None
) -> Sandbox:
    """A sandbox with the given faults and Instagram processing times (None: the default)."""
    sandbox = Sandbox(seed=seed)
    try:
        sandbox.faults.configure(faults)
    except FaultSpecError as exc:
        raise InvalidInput("bad --faults: {reason}", reason=str(exc)) from None
    chosen = {k: v for k, v in (processing or {}).items() if v is not None}
    if chosen:
        graph_state(sandbox).configure_processing(chosen)
    return sandbox


def serve_sandbox(
    host: str,
    port: int,
    seed: int,
    faults: str,
    echo: Callable[[str], None],
    processing: Mapping[str, float | None] | None = None,
) -> None:
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise InvalidInput("the sandbox serves on loopback only, not {host}", host=host)
    sandbox = make_sandbox(seed, faults, processing)

    async def serve() -> None:
        try:
            runner, base_url = await start(sandbox, host, port)
        except OSError as exc:
            raise InvalidInput(
                "cannot listen on {host}:{port} ({reason}): choose another --port",
                host=host,
                port=port,
                reason=exc.strerror or str(exc),
            ) from None
        echo(f"Afisha sandbox at {base_url}  (page: {base_url}/, admin: {base_url}/_sandbox/)")
        echo("Point Afisha at it with:")
        for key, value in sandbox_environment(base_url, sandbox).items():
            echo(f"  export {key}={value}")
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
