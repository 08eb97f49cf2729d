"""Fixtures for the Graph emulator tests: the real facebook-sdk pointed at the sandbox, and a
loopback HTTP server standing in for the public web that Meta fetches image URLs from.

Test modules bind them by assignment (`graph = graph_fixtures.graph`) so pytest finds them.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import facebook
import pytest
from PIL import Image

from sandbox.graph_state import GraphState
from sandbox.runner import SandboxThread


def image_bytes(fmt: str, size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 60, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


class ImageServer:
    """Serves fixed bytes at fixed paths over loopback; everything else is 404."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str]] = {
            "/poster.jpg": (image_bytes("JPEG"), "image/jpeg"),
            "/poster.png": (image_bytes("PNG"), "image/png"),
            # A PNG served under a .jpg name and type: only the bytes count.
            "/disguised.jpg": (image_bytes("PNG"), "image/jpeg"),
            "/page.html": (b"<html>not an image</html>", "text/html"),
        }
        files = self.files

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                body, kind = files.get(self.path, (b"", ""))
                self.send_response(200 if kind else 404)
                self.send_header("Content-Type", kind or "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture(scope="module")
def image_server() -> Iterator[ImageServer]:
    server = ImageServer()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def graph_url(sandbox: SandboxThread, monkeypatch: pytest.MonkeyPatch) -> str:
    url = sandbox.base_url + "/graph/"
    monkeypatch.setattr(facebook, "FACEBOOK_GRAPH_URL", url)
    return url


def client(token: str, timeout: float = 5) -> facebook.GraphAPI:
    """facebook-sdk as the product uses it: default construction, then the version workaround."""
    api = facebook.GraphAPI(access_token=token, timeout=timeout)
    api.version = "v21.0"
    return api


@pytest.fixture
def page_graph(sandbox: SandboxThread, graph_url: str) -> facebook.GraphAPI:
    """A client holding the first Page's token."""
    return client(sandbox.sandbox.fixtures.pages[0].access_token)


@pytest.fixture
def ig_graph(sandbox: SandboxThread, graph_url: str) -> facebook.GraphAPI:
    """A client holding the Instagram account's token."""
    return client(sandbox.sandbox.fixtures.instagram[0].access_token)


def state(sandbox: SandboxThread) -> GraphState:
    part = sandbox.sandbox.parts["graph"]
    assert isinstance(part, GraphState)
    return part


def on_loop(sandbox: SandboxThread, fn: Callable[[GraphState], Any]) -> Any:
    """Run `fn(state)` on the sandbox's loop thread."""
    return sandbox.call(lambda: fn(state(sandbox)))


def advance(sandbox: SandboxThread, seconds: float) -> None:
    sandbox.call(lambda: sandbox.sandbox.clock.advance(seconds))
