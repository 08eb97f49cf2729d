"""Someone taken off staff is a stranger at once: their conversations end, their posts keep
their name."""

from __future__ import annotations

from sqlalchemy import select

from content.domain.states import PostStatus
from content.storage.models import BotConversation, Organization
from content.storage.registry import remove_staff
from tests.bot.conftest import ADMIN, EDITOR, MANAGER, Library
from tests.bot.harness import BotHarness
from tests.bot.posting import manual_clock, posts, press_and_read, require_approval, set_language
from tests.bot.test_approvals import submit


def _remove(library: Library, *user_ids: int) -> None:
    with library.sessions.begin() as session:
        org = session.scalars(select(Organization)).one()
        for user_id in user_ids:
            remove_staff(session, org, user_id, "cli")


def _conversations(library: Library) -> list[int]:
    with library.sessions() as session:
        return list(session.scalars(select(BotConversation.user_id)))


class FloodClock:
    """The sandbox's flood-control clock, moved on by the test: two posts with photos sent to
    two approvers are more messages in a second than Telegram lets a bot send."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_a_removed_manager_cannot_finish_a_rejection_and_their_names_stay(
    bot: BotHarness, library: Library
) -> None:
    manual_clock(library)
    flood = FloodClock()
    bot.server.call(lambda: setattr(bot.state.flood, "clock", flood))
    require_approval(library)
    set_language(library, ADMIN, "en")
    await submit(bot, library)
    flood.now += 2
    await submit(bot, library)
    flood.now += 2
    first, second = posts(library)
    await bot.press(MANAGER, f"ap:no:{first.id}")
    await bot.send(MANAGER, "Please add the time")  # Marat reviewed the first post
    await bot.press(MANAGER, f"ap:no:{second.id}")  # and is about to reject the second
    assert MANAGER in _conversations(library)

    _remove(library, MANAGER, EDITOR)
    flood.now += 2

    assert _conversations(library) == []
    (reply,) = await bot.send(MANAGER, "It is too long")
    assert str(MANAGER) in reply["text"]  # the stranger's refusal, with the id to pass on
    assert [p.status for p in posts(library)] == [PostStatus.DRAFT, PostStatus.PENDING_APPROVAL]
    assert posts(library)[1].review_note is None
    (refused,) = await bot.send(EDITOR, "/drafts")
    assert str(EDITOR) in refused["text"]

    late = await press_and_read(bot, ADMIN, f"ap:ok:{first.id}")
    assert "already decided by Marat" in late["text"]
    (drafts,) = await bot.send(ADMIN, "/drafts")
    assert f"#{first.id} · Egle" in drafts["text"]
    assert f"#{second.id} · Egle" in drafts["text"]
