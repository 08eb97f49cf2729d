"""Helpers for the Graph channel tests: channels pointed at the sandbox over loopback, the
sandbox's Graph state, forced faults, and image files."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any, TypeVar

from channels.base import OutgoingImage
from channels.facebook import FacebookChannel
from channels.instagram import InstagramChannel
from sandbox.engagement import Engagement
from sandbox.graph_state import GraphState, graph_state
from sandbox.runner import SandboxThread
from tests.support.images import make_image

T = TypeVar("T")
TIMEOUT = (1.0, 1.0)  # connect, read: short so that "slow" faults time out fast
SLOW_SECONDS = 1.5


def api_url(sandbox: SandboxThread) -> str:
    return sandbox.base_url + "/graph"


def on_state(sandbox: SandboxThread, fn: Callable[[GraphState], T]) -> T:
    """Run `fn` on the sandbox's Graph state, on the sandbox's own thread."""
    return sandbox.call(lambda: fn(graph_state(sandbox.sandbox)))


def http_calls(sandbox: SandboxThread) -> int:
    return int(on_state(sandbox, lambda s: s.http_calls))


def engagement(sandbox: SandboxThread, remote_id: str) -> Engagement:
    """The counts the sandbox reports now for a Page post or an IG media."""

    def read(state: GraphState) -> Engagement:
        item = state.posts.get(remote_id)
        published_at = item.created_at if item else state.media[remote_id].published_at
        return state.engagement(remote_id, published_at)

    return on_state(sandbox, read)


def force(sandbox: SandboxThread, op: str, kind: str) -> None:
    def arm() -> None:
        sandbox.sandbox.faults.slow_seconds = SLOW_SECONDS
        sandbox.sandbox.faults.force(op, kind)

    sandbox.call(arm)


def advance(sandbox: SandboxThread, seconds: float) -> None:
    sandbox.call(lambda: sandbox.sandbox.clock.advance(seconds))


def ledger(sandbox: SandboxThread, platform: str) -> list[tuple[str, str, int]]:
    return [
        (i.remote_id, i.text, i.media_count)
        for i in sandbox.sandbox.ledger.items
        if i.platform == platform
    ]


def facebook_channel(sandbox: SandboxThread, page: int = 0, **kwargs: Any) -> FacebookChannel:
    fixture = sandbox.sandbox.fixtures.pages[page]
    kwargs.setdefault("timeout", TIMEOUT)
    return FacebookChannel(fixture.id, fixture.access_token, api_url(sandbox), "v21.0", **kwargs)


class Sleeps:
    """An injectable sleep that records what it was asked to wait and, given a sandbox, lets
    that much sandbox time pass instead (so Instagram containers process meanwhile)."""

    def __init__(self, sandbox: SandboxThread | None = None) -> None:
        self.delays: list[float] = []
        self.sandbox = sandbox

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        if self.sandbox is not None:
            advance(self.sandbox, seconds)


def instagram_channel(sandbox: SandboxThread, **kwargs: Any) -> InstagramChannel:
    """The sandbox's IG account; images are hosted on its linked Page with the Page's token."""
    account = sandbox.sandbox.fixtures.instagram[0]
    page = next(p for p in sandbox.sandbox.fixtures.pages if p.id == account.page_id)
    kwargs.setdefault("timeout", TIMEOUT)
    kwargs.setdefault("sleep", Sleeps(sandbox))
    kwargs.setdefault("page_token", page.access_token)
    token = kwargs.pop("token", account.access_token)
    return InstagramChannel(account.id, token, api_url(sandbox), "v21.0", page_id=page.id, **kwargs)


def stored_image(
    directory: Path, name: str, size: tuple[int, int] = (800, 1000), fmt: str = "JPEG", **kw: Any
) -> OutgoingImage:
    path = make_image(directory / name, size, fmt)
    media_type = {"JPEG": "image/jpeg", "PNG": "image/png"}.get(fmt, "image/" + fmt.lower())
    return OutgoingImage(path, media_type, size[0], size[1], **kw)


class FileServer:
    """A directory served over loopback: the "public web" Meta fetches image_url from."""

    def __init__(self, root: Path) -> None:
        handler = partial(_QuietHandler, directory=str(root))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FileServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet."""


def file_server(root: Path) -> Iterator[FileServer]:
    with FileServer(root) as server:
        yield server
