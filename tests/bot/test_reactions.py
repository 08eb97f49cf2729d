"""Reaction counts Telegram pushes to the bot are stored as the publication's engagement."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.app import ALLOWED_UPDATES
from channels.base import Outgoing
from channels.telegram import TelegramChannel
from content.domain.states import PublicationState
from content.queueing.scheduling import NewPost, queue_post
from content.storage.models import EngagementSnapshot, Organization, Publication
from sandbox.runner import SandboxThread
from tests.bot.conftest import Library
from tests.bot.harness import BotHarness


async def test_a_reaction_update_is_stored_for_its_publication(
    library: Library, bot: BotHarness, sandbox: SandboxThread
) -> None:
    fixtures = sandbox.sandbox.fixtures
    news = fixtures.chats[0].id
    channel = TelegramChannel(fixtures.bot_token, sandbox.base_url, news)
    try:
        published = await channel.publish(Outgoing("React to this"))
    finally:
        await channel.close()
    with library.sessions.begin() as session:
        org = session.scalars(select(Organization)).one()
        now = datetime.now(UTC)
        new = NewPost("React to this", ["news"], now)
        post = queue_post(session, org, new, library.services.media_dir, "test")
        session.flush()
        (publication,) = post.publications
        publication.state, publication.remote_id = PublicationState.SENT, published.remote_id
        publication.progress = {"chat_id": news, "message_ids": [int(published.remote_id)]}
        publication_id = publication.id

    telegram = bot.application.bot
    assert await telegram.get_updates(timeout=0, allowed_updates=ALLOWED_UPDATES) == ()
    sandbox.call(lambda: sandbox.sandbox.clock.advance(6 * 3600))
    sandbox.call(bot.state.on_clock_advanced)  # as the admin API's clock/advance does
    updates = await telegram.get_updates(timeout=0)
    assert any(u.message_reaction_count is not None for u in updates)
    for update in updates:
        await bot.application.process_update(update)

    history = bot.history(news)
    expected = sum(history[-1]["reactions"].values())
    assert expected > 0
    with library.sessions() as session:
        stored = session.get(Publication, publication_id)
        assert stored is not None
        assert stored.latest_reactions == expected
        snapshots = session.scalars(
            select(EngagementSnapshot).where(EngagementSnapshot.publication_id == publication_id)
        ).all()
        assert [(s.reactions, s.source) for s in snapshots] == [(expected, "telegram_reactions")]
