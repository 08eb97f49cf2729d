"""InstaloaderCollector: instaloader's real HTTP layer against hand-made Instagram answers
served over loopback (no network, no mocked instaloader classes)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from channels.base import Metrics, NotSent, Outgoing, RateLimited
from channels.instagram_public import InstaloaderCollector
from sandbox.runner import SandboxThread
from tests.channels.graph_helpers import instagram_channel, stored_image

# The start page carries the tokens a logged-out web app sends with its GraphQL queries.
START_PAGE = (
    '<html><script>{"define":[["LSD",[],{"token":"lsd-abc"},323]]}'
    '{"IG_USER_EIMU":"0"}</script></html>'
)
POST_QUERY_DOC_ID = "27128499623469141"


def web_info(code: str, media_type: int, likes: int, comments: int, views: int | None) -> Any:
    """The shape of `xdt_api__v1__media__shortcode__web_info`, trimmed to what is read."""
    item: dict[str, Any] = {
        "code": code,
        "pk": "3300000000000000001",
        "media_type": media_type,
        "taken_at": 1_780_000_000,
        "user": {"pk": "17841400000000001", "username": "regional_library"},
        "like_count": likes,
        "comment_count": comments,
        "caption": {"text": "Poetry night"},
        "image_versions2": {"candidates": [{"url": "https://cdn.example/p.jpg"}]},
    }
    if views is not None:
        item.update(view_count=views, video_versions=[{"url": "https://cdn.example/v.mp4"}])
    return {"data": {"xdt_api__v1__media__shortcode__web_info": {"items": [item]}}}


ANSWERS = {
    "IMAGEcode": web_info("IMAGEcode", 1, 41, 5, None),
    "VIDEOcode": web_info("VIDEOcode", 2, 12, 3, 980),
}


class FakeInstagram:
    """www.instagram.com as a logged-out visitor sees it, for a few shortcodes."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, list[str]]]] = []
        self.throttle = False
        self.answers = dict(ANSWERS)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                fake.requests.append(("GET", self.path, {}))
                if self.path == "/":
                    body = START_PAGE.encode()
                    self.send_response(200)
                    self.send_header("Set-Cookie", "csrftoken=csrf-xyz; Path=/")
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                else:
                    self._json(404, {"message": "not found", "status": "fail"})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                form = parse_qs(self.rfile.read(length).decode())
                fake.requests.append(("POST", self.path, form))
                if fake.throttle:
                    self._json(429, {"message": "Please wait a few minutes", "status": "fail"})
                    return
                if self.path != "/api/graphql" or form.get("doc_id") != [POST_QUERY_DOC_ID]:
                    self._json(400, {"message": "bad query", "status": "fail"})
                    return
                shortcode = json.loads(form["variables"][0])["shortcode"]
                empty: dict[str, Any] = {
                    "data": {"xdt_api__v1__media__shortcode__web_info": {"items": []}}
                }
                self._json(200, fake.answers.get(shortcode, empty))

            def _json(self, status: int, payload: Any) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def instagram_web() -> Iterator[FakeInstagram]:
    fake = FakeInstagram()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


async def test_public_counts_by_shortcode(instagram_web: FakeInstagram) -> None:
    collector = InstaloaderCollector(instagram_web.base, timeout=5)

    got = await collector.collect({"1": "IMAGEcode", "2": "VIDEOcode", "3": "GONEcode"})

    assert got == {
        "1": Metrics("1", reactions=41, comments=5, views=None, source="instaloader_public"),
        "2": Metrics("2", reactions=12, comments=3, views=980, source="instaloader_public"),
    }
    posts = [r for r in instagram_web.requests if r[0] == "POST"]
    assert [r[1] for r in posts] == ["/api/graphql"] * 3
    assert posts[0][2]["lsd"] == ["lsd-abc"]  # instaloader's own logged-out flow ran
    collector.close()


async def test_throttling_is_rate_limited(instagram_web: FakeInstagram) -> None:
    instagram_web.throttle = True

    with pytest.raises(RateLimited) as caught:
        await InstaloaderCollector(instagram_web.base, timeout=5).collect({"1": "IMAGEcode"})

    assert caught.value.retry_after == 3600


async def test_unreachable_is_not_sent() -> None:
    with pytest.raises(NotSent):
        await InstaloaderCollector("http://127.0.0.1:9", timeout=2).collect({"1": "IMAGEcode"})


async def test_fills_views_when_the_token_may_not_read_insights(
    sandbox: SandboxThread, instagram_web: FakeInstagram, tmp_path: Path
) -> None:
    channel = instagram_channel(
        sandbox,
        insight_metrics={"impressions": "views"},  # refused, like a token without insights
        collector=InstaloaderCollector(instagram_web.base, timeout=5),
    )
    media_id = (await channel.publish(Outgoing("p", (stored_image(tmp_path, "p.jpg"),)))).remote_id
    shortcode = sandbox.call(lambda: sandbox.sandbox.parts["graph"].media[media_id].shortcode)
    instagram_web.answers[shortcode] = web_info(shortcode, 2, 7, 1, 321)

    got = (await channel.fetch_engagement([media_id]))[media_id]

    assert (got.reactions, got.comments, got.views, got.reach) == (0, 0, 321, None)
    assert got.source == "graph+instaloader_public"
