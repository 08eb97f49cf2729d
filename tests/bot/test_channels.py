"""/channels: status and token health for admins, and resuming a channel after a fix."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from content.domain.states import ChannelStatus, PublicationState
from content.queueing.scheduling import NewPost, queue_post
from content.storage.models import Channel, Publication, StaffMember
from scheduler.clock import ManualClock
from tests.bot.conftest import ADMIN, EDITOR, MANAGER, STRANGER, Library
from tests.bot.harness import BotHarness
from tests.bot.world import manual_clock, organization, press, staff_id


@pytest.fixture
def clock(library: Library) -> ManualClock:
    return manual_clock(library)


def expire_fb(library: Library, clock: ManualClock) -> int:
    """The Page token stopped working while a post was waiting; returns the channel id."""
    with library.sessions.begin() as session:
        queue_post(
            session,
            organization(session),
            NewPost("For the Page", ["fb"], clock.now()),
            library.services.media_dir,
            "test",
        )
        fb = session.scalars(select(Channel).where(Channel.name == "fb")).one()
        fb.status = ChannelStatus.AUTH_EXPIRED
        fb.status_reason = "Error validating access token: the session has been invalidated"
        for publication in session.scalars(select(Publication)):
            publication.state = PublicationState.PAUSED
        news = session.scalars(select(Channel).where(Channel.name == "news")).one()
        news.token_checked_at = clock.now()
        fb.token_checked_at = clock.now()
        fb.token_expires_at = clock.now() + timedelta(days=3)
        return fb.id


async def test_channels_show_status_token_health_and_resume(
    bot: BotHarness, library: Library, clock: ManualClock
) -> None:
    fb_id = expire_fb(library, clock)
    await bot.send(ADMIN, "/lang")
    await bot.press(ADMIN, "lang:en")
    (reply,) = await bot.send(ADMIN, "/channels")
    text = str(reply["text"])
    assert "🔴 fb (facebook) — access expired" in text
    assert "session has been invalidated" in text
    assert "⚠️ expires 4 December, Friday, 14:00" in text
    assert "1 publication(s) waiting" in text
    assert "🟢 news (telegram) — active" in text
    assert BotHarness.buttons(reply) == [f"chan:resume:{fb_id}"]

    done = await press(bot, ADMIN, f"chan:resume:{fb_id}")
    assert "1 waiting publication(s) go out now" in str(done["text"])
    with library.sessions() as session:
        assert session.get_one(Channel, fb_id).status is ChannelStatus.ACTIVE
        (publication,) = session.scalars(select(Publication)).all()
        assert publication.state is PublicationState.SCHEDULED
    (reply,) = await bot.send(ADMIN, "/channels")
    assert BotHarness.buttons(reply) == []


@pytest.mark.parametrize(
    ("language", "heading", "unchecked"),
    [
        ("en", "Channels:", "token not checked yet"),
        ("ru", "Каналы:", "токен ещё не проверялся"),
        ("kk", "Арналар:", "токен әлі тексерілмеген"),
        ("lt", "Kanalai:", "prieigos raktas dar netikrintas"),
    ],
)
async def test_channels_read_in_each_language(
    bot: BotHarness, library: Library, language: str, heading: str, unchecked: str
) -> None:
    with library.sessions.begin() as session:
        session.get_one(StaffMember, staff_id(library, ADMIN)).language = language
    (reply,) = await bot.send(ADMIN, "/channels")
    assert str(reply["text"]).startswith(heading)
    assert unchecked in str(reply["text"])


async def test_only_admins_see_channels(bot: BotHarness, library: Library) -> None:
    for user in (MANAGER, EDITOR):
        (reply,) = await bot.send(user, "/channels")
        assert "fb" not in str(reply["text"])
    (reply,) = await bot.send(STRANGER, "/channels")
    assert str(STRANGER) in str(reply["text"])
