"""The public web app: /events.ics, /media/<path> without path traversal, /healthz."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.orm import Session

from afisha.config import Settings
from afisha.web import make_web_app, media_file
from afisha.wiring import Afisha, open_afisha
from content.domain.states import Platform
from content.queueing.scheduling import NewEvent, NewPost, add_event, queue_post
from content.storage.db import make_engine
from content.storage.models import Organization
from content.storage.registry import add_channel
from tests.support.images import make_image


@pytest.fixture
def afisha(database_url: str, tmp_path: Path) -> Iterator[Afisha]:
    settings = Settings(
        database_url=database_url,
        organization="Central Library",
        timezone="Europe/Vilnius",
        media_dir=str(tmp_path / "media"),
    )
    core = open_afisha(settings, migrate=True)
    try:
        yield core
    finally:
        core.close()


def add_news_channel(afisha: Afisha, session: Session, org: Organization) -> None:
    add_channel(
        session,
        org,
        afisha.cipher,
        name="news",
        platform=Platform.TELEGRAM,
        external_id="@library_news",
        token=None,
        language=None,
        actor="test",
    )


@pytest.fixture
async def client(afisha: Afisha) -> AsyncIterator[TestClient[object, object]]:
    async with TestClient(TestServer(make_web_app(afisha))) as test_client:
        yield test_client


async def test_events_ics_serves_the_upcoming_events(
    afisha: Afisha, client: TestClient[object, object]
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    with afisha.transaction() as (session, org):
        add_news_channel(afisha, session, org)
        new = NewEvent(
            title="Knygų mainų popietė",
            starts_at=now + timedelta(days=3),
            channels=["news"],
            announce_at=now,
            reminder_offsets=[120],
        )
        event_id = add_event(session, org, new, afisha.settings.media_path, now, "test").id
    response = await client.get("/events.ics")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(await response.read())
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"afisha-event-{event_id}@central-library"
    assert str(event["SUMMARY"]) == "Knygų mainų popietė"


async def test_media_files_are_served_from_the_media_directory_only(
    afisha: Afisha, client: TestClient[object, object], tmp_path: Path
) -> None:
    image = make_image(tmp_path / "poster.jpg")
    with afisha.transaction() as (session, org):
        add_news_channel(afisha, session, org)
        post = queue_post(
            session,
            org,
            NewPost("x", ["news"], datetime.now(UTC), images=[image]),
            afisha.settings.media_path,
            "test",
        )
        stored = post.media[0].media.path
    response = await client.get(f"/media/{stored}")
    assert response.status == 200
    assert await response.read() == image.read_bytes()
    (tmp_path / "secret.txt").write_text("not public")
    for path in (
        "/media/../secret.txt",
        "/media/%2e%2e/secret.txt",
        "/media/..%2fsecret.txt",
        "/media/nothing.jpg",
        f"/media/{tmp_path}/secret.txt",
    ):
        answer = await client.get(path)
        assert answer.status == 404, path
        assert "not public" not in await answer.text()


def test_media_paths_never_leave_the_root(tmp_path: Path) -> None:
    root = tmp_path / "media"
    (root / "ab").mkdir(parents=True)
    (root / "ab" / "x.jpg").write_bytes(b"x")
    (tmp_path / "outside.txt").write_text("no")
    (root / "link.txt").symlink_to(tmp_path / "outside.txt")
    assert media_file(root, "ab/x.jpg") == (root / "ab" / "x.jpg").resolve()
    for bad in ("../outside.txt", "ab/../../outside.txt", "/etc/passwd", "link.txt", "ab", "\0"):
        assert media_file(root, bad) is None, bad


async def test_healthz_reports_the_database_and_the_queue(
    afisha: Afisha, client: TestClient[object, object]
) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"ok": True, "database": True, "queue": 0}


async def test_healthz_says_when_the_database_is_unreachable(tmp_path: Path) -> None:
    settings = replace(Settings(), database_url=f"sqlite:///{tmp_path}/gone/afisha.db")
    core = open_afisha(settings, migrate=True)
    # Point the sessions at a database that no longer answers.
    core.sessions.configure(bind=make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    try:
        async with TestClient(TestServer(make_web_app(core))) as client:
            response = await client.get("/healthz")
            assert response.status == 503
            assert await response.json() == {"ok": False, "database": False, "queue": None}
    finally:
        core.close()
