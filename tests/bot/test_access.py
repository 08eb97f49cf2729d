"""Who may do what is decided at every step, from the role a person has now: a conversation
begun under one role is not finished under another, nor after leaving the staff."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from content.domain.states import PostStatus, PublicationState, Role
from content.i18n import translate
from content.queueing.drafts import save_draft
from content.queueing.scheduling import NewPost, queue_post
from content.storage.models import BotConversation, Organization, Publication, StaffMember
from content.storage.registry import add_staff, remove_staff
from tests.bot.conftest import EDITOR, MANAGER, Library
from tests.bot.harness import BotHarness
from tests.bot.posting import START, manual_clock, posts, publications, require_approval
from tests.bot.test_approvals import submit
from tests.bot.test_buttons import press_forged
from tests.bot.world import staff_id

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


# --- whose drafts and posts -------------------------------------------------------------------

OTHER_EDITOR = 500000031
NOT_YOURS = (
    "post #{id} is another person's: only its author, a manager or an administrator may open "
    "or change it"
)


def add_other_editor(library: Library) -> int:
    with library.sessions.begin() as session:
        org = session.scalars(select(Organization)).one()
        return add_staff(session, org, OTHER_EDITOR, "Jonas", "editor", "en", "test").id


def draft(library: Library, text: str, author_id: int | None) -> int:
    with library.sessions.begin() as session:
        org = session.scalars(select(Organization)).one()
        new = NewPost(text, ["news"], None, author_id=author_id)
        return save_draft(session, org, new, library.services.media_dir, "test").id


def queued(library: Library, text: str, author_id: int | None) -> int:
    with library.sessions.begin() as session:
        org = session.scalars(select(Organization)).one()
        new = NewPost(text, ["news"], START + timedelta(days=2), author_id=author_id)
        return queue_post(session, org, new, library.services.media_dir, "test").id


def snapshot(library: Library) -> list[tuple[object, ...]]:
    return [(p.id, p.status, p.text) for p in posts(library)] + [
        (p.id, p.state, p.due_at) for p in publications(library)
    ]


async def test_an_editor_sees_their_own_drafts_and_a_manager_sees_all(
    bot: BotHarness, library: Library
) -> None:
    manual_clock(library)
    jonas = add_other_editor(library)
    mine = draft(library, "Egle's reading club", staff_id(library, EDITOR))
    his = draft(library, "Jonas's chess evening", jonas)
    feed = draft(library, "From the city's news feed", None)
    (listed,) = await bot.send(EDITOR, "/drafts")
    assert "Egle's reading club" in listed["text"]
    assert "From the city's news feed" in listed["text"]  # nobody's: the library's own
    assert "Jonas's chess evening" not in listed["text"]
    assert f"np:open:{his}" not in BotHarness.buttons(listed)
    assert {f"np:open:{mine}", f"np:open:{feed}"} <= set(BotHarness.buttons(listed))
    (everything,) = await bot.send(MANAGER, "/drafts")
    assert "Jonas's chess evening" in everything["text"]
    assert f"np:open:{his}" in BotHarness.buttons(everything)
    opened = await bot.press(MANAGER, f"np:open:{his}")
    assert f"#{his}" in opened[0]["text"]
    assert conversation_of(library, MANAGER) is not None


@pytest.mark.parametrize(
    "forged",
    [
        "np:open:{draft}",
        "d:del:{draft}",
        "d:delok:{draft}",
        "q:now:{post}",
        "q:move:{post}",
        "q:del:{post}",
        "q:delok:{post}",
        "ntc:drop:{publication}",
        "ntc:edit:{publication}",
    ],
)
async def test_an_editor_cannot_act_on_another_persons_draft_or_post(
    bot: BotHarness, library: Library, forged: str
) -> None:
    manual_clock(library)
    jonas = add_other_editor(library)
    his_draft = draft(library, "Jonas's chess evening", jonas)
    his_post = queued(library, "Jonas's chess tournament", jonas)
    with library.sessions.begin() as session:
        (publication,) = session.scalars(
            select(Publication).where(Publication.post_id == his_post)
        ).all()
        publication.state = PublicationState.FAILED  # a notice could be about it
        publication_id = publication.id
    before = snapshot(library)
    data = forged.format(draft=his_draft, post=his_post, publication=publication_id)
    replies = await press_forged(bot, EDITOR, data)
    shown = "\n".join(m.get("text") or "" for m in replies)
    number = his_draft if "{draft}" in forged else his_post
    assert translate("lt", NOT_YOURS, id=number) in shown  # Egle speaks Lithuanian
    assert "chess" not in shown
    assert snapshot(library) == before
    assert conversation_of(library, EDITOR) is None


async def test_the_queue_offers_an_editor_changes_only_to_their_own_posts(
    bot: BotHarness, library: Library
) -> None:
    manual_clock(library)
    his = queued(library, "Jonas's chess tournament", add_other_editor(library))
    mine = queued(library, "Egle's reading club", staff_id(library, EDITOR))
    await bot.send(EDITOR, "/queue")
    (his_view,) = await bot.press(EDITOR, f"q:view:{his}:0")
    assert "Jonas's chess tournament" in his_view["text"]  # the schedule is everyone's to read
    assert BotHarness.buttons(his_view) == ["q:page:0"]
    await bot.send(EDITOR, "/queue")
    (my_view,) = await bot.press(EDITOR, f"q:view:{mine}:0")
    assert f"q:now:{mine}" in BotHarness.buttons(my_view)
    await bot.send(MANAGER, "/queue")
    (managed,) = await bot.press(MANAGER, f"q:view:{his}:0")
    assert f"q:now:{his}" in BotHarness.buttons(managed)
