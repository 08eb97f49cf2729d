"""Who may do what is decided at every step, from the role a person has now: a conversation
begun under one role is not finished under another, nor after leaving the staff."""

from __future__ import annotations

from sqlalchemy import select

from content.i18n import translate
from content.models import BotConversation, Organization, StaffMember
from content.registry import add_staff, remove_staff
from content.states import PostStatus, Role
from tests.bot.conftest import EDITOR, MANAGER, Library
from tests.bot.harness import BotHarness
from tests.bot.posting import manual_clock, posts, require_approval
from tests.bot.test_approvals import submit

ROLE_REFUSAL = "Your role does not allow this. Ask an administrator if you need it."


def set_role(library: Library, user_id: int, role: Role) -> None:
    with library.sessions.begin() as session:
        member = session.scalars(
            select(StaffMember).where(StaffMember.telegram_user_id == user_id)
        ).one()
        member.role = role


def conversation_of(library: Library, user_id: int) -> BotConversation | None:
    with library.sessions() as session:
        return session.get(BotConversation, user_id)


async def test_a_manager_made_an_editor_mid_rejection_cannot_finish_it(
    bot: BotHarness, library: Library
) -> None:
    manual_clock(library)
    require_approval(library)
    await submit(bot, library)
    (post,) = posts(library)
    await bot.press(MANAGER, f"ap:no:{post.id}")  # asked for the reason
    set_role(library, MANAGER, Role.EDITOR)
    (refused,) = await bot.send(MANAGER, "Please add the time of the event")
    assert refused["text"] == translate("kk", ROLE_REFUSAL)  # Marat speaks Kazakh
    (post,) = posts(library)
    assert post.status is PostStatus.PENDING_APPROVAL
    assert post.reviewed_by is None
    assert conversation_of(library, MANAGER) is None  # the rejection is over, not waiting
    set_role(library, MANAGER, Role.MANAGER)
    await bot.send(MANAGER, "Please add the time of the event")
    assert posts(library)[0].status is PostStatus.PENDING_APPROVAL  # not picked up again


async def test_someone_taken_off_the_staff_mid_conversation_loses_it(
    bot: BotHarness, library: Library
) -> None:
    manual_clock(library)
    await bot.send(EDITOR, "/new")
    await bot.send(EDITOR, "Skaitymų vakaras bibliotekoje")
    assert conversation_of(library, EDITOR) is not None
    with library.sessions.begin() as session:
        org = session.scalars(select(Organization)).one()
        remove_staff(session, org, EDITOR, "test")
    (refused,) = await bot.send(EDITOR, "and a second paragraph")
    assert str(EDITOR) in refused["text"]  # the stranger's refusal, with the id to pass on
    assert conversation_of(library, EDITOR) is None
    with library.sessions.begin() as session:
        org = session.scalars(select(Organization)).one()
        add_staff(session, org, EDITOR, "Egle", "editor", "en", "test")
    (answer,) = await bot.send(EDITOR, "a third paragraph")
    assert answer["text"].startswith("Send /new to prepare a post")  # nothing left to resume
    assert posts(library) == []


async def test_a_button_pressed_after_leaving_the_staff_ends_the_conversation_too(
    bot: BotHarness, library: Library
) -> None:
    manual_clock(library)
    await bot.send(EDITOR, "/new Skaitymų vakaras bibliotekoje")
    with library.sessions.begin() as session:
        org = session.scalars(select(Organization)).one()
        remove_staff(session, org, EDITOR, "test")
    (refused,) = await bot.press(EDITOR, "np:next")
    assert str(EDITOR) in refused["text"]
    assert conversation_of(library, EDITOR) is None
    assert posts(library) == []
