"""The web port's routes: any path, any webhook body and secret, through aiohttp's real server on
loopback (the raw path as sent: no client normalises it)."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from hypothesis import example, given
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import select
from telegram import Update
from yarl import URL

from afisha.config import Settings
from afisha.web import make_web_app, media_file
from afisha.webhook import SECRET_HEADER, WEBHOOK_PATH, WebhookSink
from afisha.wiring import open_afisha
from bot.app import build_application
from bot.services import BotServices
from channels.download import download_image
from content.storage.orm_base import Base
from scheduler.clock import SystemClock
from tests.fuzz import batch, budget, ran

SECRET = "s3cret_for-the-webhook"
SEGMENTS = [
    "media",
    "events.ics",
    "healthz",
    "telegram",
    "webhook",
    "..",
    ".",
    "%2e%2e",
    "%2E%2e",
    "%2f",
    "%5c",
    "\\",
    "%00",
    "ab",
    "x.jpg",
    "secret.txt",
    "link.txt",
    "etc",
    "passwd",
    "",
    "%252e",
    "..%2f",
    "%c0%ae%c0%ae",
    "~",
    "*",
    "?",
    "#",
    "%",
    "%zz",
]
URL_SAFE = st.characters(min_codepoint=0x21, max_codepoint=0x7E, blacklist_characters="#?")
PATHS = st.one_of(
    st.lists(st.one_of(st.sampled_from(SEGMENTS), st.text(URL_SAFE, max_size=6)), max_size=6).map(
        lambda parts: "/" + "/".join(parts)
    ),
    st.text(URL_SAFE, max_size=40).map(lambda t: "/" + t),
)


class WebUnderTest:
    """`afisha run`'s web app on a real loopback server, over a SQLite library."""

    def __init__(self, folder: Path) -> None:
        self.root = folder / "media"
        (self.root / "ab").mkdir(parents=True)
        Image.new("RGB", (4, 4)).save(self.root / "ab" / "x.jpg", "JPEG")
        (folder / "secret.txt").write_text("not public")
        (self.root / "link.txt").symlink_to(folder / "secret.txt")
        settings = Settings(
            database_url=f"sqlite:///{folder}/afisha.db",
            timezone="Europe/Vilnius",
            media_dir=str(self.root),
        )
        self.core = open_afisha(settings, migrate=True)
        with self.core.transaction():
            pass  # the organisation exists before any request, as after `afisha init`
        sink = WebhookSink(SECRET)
        services = BotServices(
            self.core.sessions, SystemClock(), self.root, "en", fetch_image=download_image
        )
        sink.application = build_application(services, "123456:ABCdef", "http://127.0.0.1:9")
        self.queue = sink.application.update_queue
        self.loop = asyncio.new_event_loop()
        self.server = TestServer(make_web_app(self.core, sink), host="127.0.0.1")
        self.loop.run_until_complete(self.server.start_server())
        self.client = self.loop.run_until_complete(self._session())

    async def _session(self) -> ClientSession:
        return ClientSession()

    def close(self) -> None:
        self.loop.run_until_complete(self.client.close())
        self.loop.run_until_complete(self.server.close())
        self.loop.close()
        self.core.close()

    def rows(self) -> dict[str, list[tuple[Any, ...]]]:
        with self.core.sessions() as session:
            return {
                name: sorted(map(tuple, session.execute(select(table))), key=repr)
                for name, table in Base.metadata.tables.items()
            }

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        async def send() -> tuple[int, bytes]:
            raw = URL(f"http://127.0.0.1:{self.server.port}{path}", encoded=True)
            data = None if body is None else io.BytesIO(body)
            async with self.client.request(method, raw, data=data, headers=headers) as answer:
                return answer.status, await answer.read()

        status, content = self.loop.run_until_complete(send())
        while not self.queue.empty():  # nobody runs the bot here: drop what was handed on
            self.queue.get_nowait()
        return status, content


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebUnderTest]:
    under_test = WebUnderTest(tmp_path_factory.mktemp("web"))
    yield under_test
    under_test.close()


@budget(4_000, 30)
@given(path=PATHS, method=st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE"]))
@example(path="/media/../secret.txt", method="GET")
@example(path="/media/link.txt", method="GET")
def test_any_path(web: WebUnderTest, path: str, method: str) -> None:
    ran("web.path")
    before = web.rows() if method != "GET" else None
    status, body = web.request(method, path)
    assert status < 500, (path, status, body[:200])
    assert b"not public" not in body
    if status == 200 and path.startswith("/media/"):
        assert body.startswith(b"\xff\xd8")  # the one image, nothing else
    if before is not None:
        assert web.rows() == before


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
UPDATE_FIELDS = set(Update.__slots__) | {"from"}
UPDATE_KEYS = st.sampled_from(
    [
        "update_id",
        "message",
        "callback_query",
        "edited_message",
        "message_reaction_count",
        "from",
        "chat",
        "text",
        "data",
        "id",
        "date",
        "message_id",
    ]
)
UPDATE_LIKE = st.recursive(
    st.one_of(st.integers(), st.text(max_size=10), st.none()),
    lambda inner: st.dictionaries(st.one_of(UPDATE_KEYS, st.text(max_size=6)), inner, max_size=5),
    max_leaves=15,
)


def _not_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return True
    return False


# Bodies that are no JSON at all, or objects of fields an update does not have: refused (400) or
# taken (200), never a crash. Any JSON at all, update-like or not, is the next target's.
PLAIN_BODIES = st.one_of(
    st.binary(max_size=100).filter(_not_json),
    st.dictionaries(
        st.text(max_size=8).filter(lambda k: k not in UPDATE_FIELDS), JSON_VALUES, max_size=5
    ).map(lambda d: json.dumps(d).encode()),
    st.builds(
        lambda n, d: json.dumps({"update_id": n, **d}).encode(),
        st.integers(),
        st.dictionaries(
            st.text(max_size=8).filter(lambda k: k not in UPDATE_FIELDS), JSON_VALUES, max_size=3
        ),
    ),
)
ANY_BODIES = st.one_of(
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(UPDATE_KEYS, UPDATE_LIKE, min_size=1, max_size=4).map(
        lambda d: json.dumps(d).encode()
    ),
)
SECRETS = st.one_of(st.just(SECRET), st.none(), st.text(max_size=30))


def _webhook(web: WebUnderTest, body: bytes, secret: str | None) -> None:
    before = web.rows()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    try:
        status, answer = web.request("POST", WEBHOOK_PATH, body, headers)
    except ValueError:
        return  # a header value aiohttp itself will not send
    if secret != SECRET:
        assert status == 403, body
    else:
        assert status in (200, 400), (status, body, answer[:200])
    assert web.rows() == before


@budget(4_000, 30)
@given(body=PLAIN_BODIES, secret=SECRETS)
def test_webhook_bodies(web: WebUnderTest, body: bytes, secret: str | None) -> None:
    ran("web.webhook")
    _webhook(web, body, secret)


@budget(5_000, 40)
@given(body=ANY_BODIES, secret=st.just(SECRET))
@example(body=b"[]", secret=SECRET)
@example(body=b'{"update_id": 1, "message": 5}', secret=SECRET)  # found by this target
def test_webhook_any_json(web: WebUnderTest, body: bytes, secret: str) -> None:
    ran("web.webhook(any JSON)")
    _webhook(web, body, secret)


@budget(3_000, 20)
@given(paths=batch(st.one_of(PATHS, st.text()), 20))
def test_media_file_stays_in_its_root(web: WebUnderTest, paths: list[str]) -> None:
    for relative in paths:
        ran("web.media_file")
        found = media_file(web.root, relative.lstrip("/"))
        if found is not None:
            assert found.is_relative_to(web.root.resolve())
            assert found.is_file()
