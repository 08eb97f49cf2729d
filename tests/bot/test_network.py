"""The bot serves a network of libraries: each person acts in the libraries they reach, with
the role they hold there; one with several chooses the library once; approvals go to the
library's managers or the nearest above; forged buttons reach no other library."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.notify import plan_messages
from bot.router import STALE_BUTTON
from content.domain.states import PostStatus, PublicationState
from content.domain.templates import local_time
from content.i18n import translate
from content.storage.models import (
    BotConversation,
    Channel,
    ChosenOrganization,
    Event,
    Notice,
    Organization,
    Post,
    Publication,
    StaffMember,
)
from content.storage.notices import NoticeKind, add_notice
from tests.bot.harness import BotHarness
from tests.bot.network import (
    ALMATY,
    ALMATY_EDITOR,
    ALMATY_MANAGER,
    BOTH_EDITOR,
    CITY,
    HEAD,
    HEAD_EDITOR,
    HEAD_MANAGER,
    MIXED,
    OUTSIDER,
    VILNIUS,
    VILNIUS_EDITOR,
    Network,
    bot,
    network,
)
from tests.bot.posting import START
from tests.bot.test_buttons import press_forged
from tests.bot.world import callback_answer, send_document

__all__ = ["bot", "network"]  # the fixtures, used by name


async def forge(bot: BotHarness, user_id: int, data: str) -> list[dict[str, Any]]:
    """Press a button the bot never made, in the middle of a conversation (no /start first)."""
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("?", callback_data=data)]])
    await bot.application.bot.send_message(user_id, "·", reply_markup=markup)
    return await bot.press(user_id, data)


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or m.get("caption") or "" for m in messages)


def choices(message: dict[str, Any]) -> set[str]:
    return {b for b in BotHarness.buttons(message) if b.startswith("org:")}


def due_of(network: Network, post_id: int) -> datetime:
    with network.library.sessions() as session:
        return min(
            session.scalars(select(Publication.due_at).where(Publication.post_id == post_id))
        )


def snapshot(network: Network) -> list[tuple[object, ...]]:
    """Everything a refused button must leave as it was."""
    with network.library.sessions() as session:
        rows: list[tuple[object, ...]] = []
        for post in session.scalars(select(Post).order_by(Post.id)):
            rows.append((post.id, post.status, post.text, post.reviewed_by, post.organization_id))
        for p in session.scalars(select(Publication).order_by(Publication.id)):
            rows.append((p.id, p.state, p.due_at, p.channel_id))
        for event in session.scalars(select(Event).order_by(Event.id)):
            rows.append((event.id, event.status, event.starts_at))
        for channel in session.scalars(select(Channel).order_by(Channel.id)):
            rows.append((channel.id, channel.status))
        for chosen in session.scalars(select(ChosenOrganization)):
            rows.append((chosen.telegram_user_id, chosen.organization_id))
        for c in session.scalars(select(BotConversation).order_by(BotConversation.user_id)):
            rows.append((c.user_id, c.flow, c.step, repr(sorted(c.data.items()))))
        return rows


async def test_someone_on_one_librarys_staff_is_asked_nothing(
    bot: BotHarness, network: Network
) -> None:
    network.queued(ALMATY, "Almaty book fair", "almaty-news")
    network.queued(VILNIUS, "Vilnius poetry night", "vilnius-news")
    (listing,) = await bot.send(ALMATY_EDITOR, "/queue")
    assert "Almaty book fair" in listing["text"]
    assert "Vilnius poetry night" not in listing["text"]
    assert "🏛" not in listing["text"]  # one library: no header, no question
    assert not choices(listing)
    (prompt,) = await bot.send(ALMATY_EDITOR, "/new")
    assert not choices(prompt)
    assert "🏛" not in prompt["text"]


async def test_a_person_in_two_libraries_chooses_once_and_sees_which(
    bot: BotHarness, network: Network
) -> None:
    network.queued(ALMATY, "Almaty book fair", "almaty-news")
    network.queued(VILNIUS, "Vilnius poetry night", "vilnius-news")
    vilnius, almaty = network.orgs[VILNIUS], network.orgs[ALMATY]
    (question,) = await bot.send(BOTH_EDITOR, "/queue")
    assert "/queue" in question["text"]
    assert choices(question) == {f"org:{vilnius}:queue", f"org:{almaty}:queue"}  # not the head
    shown = texts(await bot.press(BOTH_EDITOR, f"org:{vilnius}:queue"))
    assert f"🏛 {VILNIUS}" in shown
    assert "Vilnius poetry night" in shown
    assert "Almaty book fair" not in shown

    (prompt,) = await bot.send(BOTH_EDITOR, "/new")  # remembered: not asked again
    assert not choices(prompt)
    assert prompt["text"].startswith(f"🏛 {VILNIUS}")
    await bot.send(BOTH_EDITOR, "Skaitymų vakaras")
    (channels,) = await bot.press(BOTH_EDITOR, "np:next")
    offered = {b for b in BotHarness.buttons(channels) if b.startswith("np:ch:")}
    assert offered == {f"np:ch:{network.channels['vilnius-news']}"}

    kept, switch = await bot.send(BOTH_EDITOR, "/library")
    assert "kept as draft" in kept["text"]  # the unfinished post is not lost
    assert choices(switch) == {f"org:{vilnius}:library", f"org:{almaty}:library"}
    (switched,) = await bot.press(BOTH_EDITOR, f"org:{almaty}:library")
    assert ALMATY in switched["text"]
    (listing,) = await bot.send(BOTH_EDITOR, "/queue")
    assert listing["text"].startswith(f"🏛 {ALMATY}")
    assert "Almaty book fair" in listing["text"]
    assert "Vilnius poetry night" not in listing["text"]
    with network.library.sessions() as session:
        assert session.get_one(ChosenOrganization, BOTH_EDITOR).organization_id == almaty


async def test_the_heads_manager_reaches_every_member_library_in_its_own_zone(
    bot: BotHarness, network: Network
) -> None:
    network.queued(ALMATY, "Almaty book fair", "almaty-news")
    vilnius_post = network.queued(VILNIUS, "Vilnius poetry night", "vilnius-news")
    network.queued(CITY, "City jazz evening", "city-news")
    (question,) = await bot.send(HEAD_MANAGER, "/queue")
    orgs = network.orgs
    assert choices(question) == {f"org:{orgs[n]}:queue" for n in (HEAD, VILNIUS, ALMATY)}
    shown = texts(await bot.press(HEAD_MANAGER, f"org:{orgs[VILNIUS]}:queue"))
    due = due_of(network, vilnius_post)
    in_vilnius = local_time(due, ZoneInfo("Europe/Vilnius"), "en", START)
    in_almaty = local_time(due, ZoneInfo("Asia/Almaty"), "en", START)
    assert in_vilnius != in_almaty
    assert in_vilnius in shown  # the library's own time zone
    assert "Vilnius poetry night" in shown
    assert "City jazz evening" not in shown
    assert "Almaty book fair" not in shown
    (view,) = await bot.press(HEAD_MANAGER, f"q:view:{vilnius_post}:0")
    assert f"q:now:{vilnius_post}" in BotHarness.buttons(view)  # a manager there: may change it


NOT_POST = "no post has id {id}"
NOT_EVENT = "no event has id {id}"
NOT_PUBLICATION = "no publication has id {id}"
NOT_CHANNEL = (
    "channel #{id} is not a channel of a library you work for: choose one of the channels shown"
)
NOT_ORGANIZATION = "no organisation has id {id}"


@pytest.mark.parametrize(
    ("user", "language", "forged", "refusal"),
    [
        (ALMATY_EDITOR, "kk", "q:view:{post}:0", NOT_POST),
        (ALMATY_EDITOR, "kk", "q:now:{post}", NOT_POST),
        (ALMATY_EDITOR, "kk", "q:delok:{post}", NOT_POST),
        (ALMATY_EDITOR, "kk", "np:open:{draft}", NOT_POST),
        (ALMATY_EDITOR, "kk", "d:delok:{draft}", NOT_POST),
        (ALMATY_MANAGER, "kk", "ap:ok:{pending}", NOT_POST),
        (ALMATY_MANAGER, "kk", "ap:no:{pending}", NOT_POST),
        (ALMATY_EDITOR, "kk", "evt:cancel:{event}", NOT_EVENT),
        (ALMATY_EDITOR, "kk", "evt:cx:{event}:1", NOT_EVENT),
        (ALMATY_EDITOR, "kk", "ntc:drop:{publication}", NOT_PUBLICATION),
        (ALMATY_EDITOR, "kk", "np:ch:{channel}", NOT_CHANNEL),
        (ALMATY_EDITOR, "kk", "org:{org}:queue", NOT_ORGANIZATION),
        (ALMATY_EDITOR, "kk", "org:999999:library", NOT_ORGANIZATION),  # none such
        (ALMATY_EDITOR, "kk", "org:{org}:library", NOT_ORGANIZATION),
        (OUTSIDER, "ru", "chan:resume:{channel}", NOT_CHANNEL),
        (OUTSIDER, "ru", "ap:ok:{pending}", NOT_POST),
        (VILNIUS_EDITOR, "lt", "q:view:{head_post}:0", NOT_POST),  # a member does not reach up
    ],
)
async def test_a_forged_button_reaches_no_other_library(
    bot: BotHarness,
    network: Network,
    user: int,
    language: str,
    forged: str,
    refusal: str,
) -> None:
    author = network.staff_id(VILNIUS_EDITOR, VILNIUS)
    ids = {
        "post": network.queued(VILNIUS, "Vilnius chess tournament", "vilnius-news"),
        "draft": network.draft(VILNIUS, "Vilnius chess club draft", "vilnius-news"),
        "pending": network.pending(VILNIUS, "Vilnius chess final", "vilnius-news", author),
        "event": network.event(VILNIUS, "Vilnius chess evening", "vilnius-news"),
        "channel": network.channels["vilnius-news"],
        "org": network.orgs[VILNIUS],
        "head_post": network.queued(HEAD, "Regional chess cup", "region-news"),
    }
    with network.library.sessions.begin() as session:
        publication = session.get_one(Publication, network.publication_of(ids["post"]))
        publication.state = publication.state.FAILED  # a notice could be about it
        ids["publication"] = publication.id
    await bot.send(user, "/start")
    before = snapshot(network)
    data = forged.format(**ids)
    replies = await press_forged(bot, user, data)
    shown = texts(replies)
    number = int(next(part for part in data.split(":") if part.isdigit() and len(part) > 0))
    assert translate(language, refusal, id=number) in shown
    assert "chess" not in shown
    assert snapshot(network) == before


async def test_a_network_editor_queues_for_a_member_library_and_nowhere_else(
    bot: BotHarness, network: Network
) -> None:
    almaty, channels = network.orgs[ALMATY], network.channels
    (question,) = await bot.send(HEAD_EDITOR, "/new")
    assert f"org:{almaty}:new" in choices(question)
    assert f"org:{network.orgs[CITY]}:new" not in choices(question)
    await bot.press(HEAD_EDITOR, f"org:{almaty}:new")
    await bot.send(HEAD_EDITOR, "Readers' marathon in Almaty")
    (offered,) = await bot.press(HEAD_EDITOR, "np:next")
    assert {b for b in BotHarness.buttons(offered) if b.startswith("np:ch:")} == {
        f"np:ch:{channels['almaty-news']}"
    }
    before = snapshot(network)
    outside = texts(await forge(bot, HEAD_EDITOR, f"np:ch:{channels['city-news']}"))
    assert translate("en", NOT_CHANNEL, id=channels["city-news"]) in outside
    assert snapshot(network) == before
    other = texts(await forge(bot, HEAD_EDITOR, f"np:ch:{channels['vilnius-news']}"))
    assert (
        translate(
            "en",
            "channel {channel} is not one of {library}'s channels: choose one of the "
            "channels shown",
            channel="vilnius-news",
            library=ALMATY,
        )
        in other
    )
    assert snapshot(network) == before
    await forge(bot, HEAD_EDITOR, "np:ch:999999")  # no such channel: the flow's own answer
    assert callback_answer(bot) == translate("en", STALE_BUTTON)
    assert snapshot(network) == before
    await bot.press(HEAD_EDITOR, f"np:ch:{channels['almaty-news']}")
    await bot.press(HEAD_EDITOR, "np:chok")
    await bot.press(HEAD_EDITOR, "nt:tomorrow")
    queued = texts(await bot.press(HEAD_EDITOR, "np:ok"))
    with network.library.sessions() as session:
        (post,) = session.scalars(select(Post)).all()
        assert (post.organization_id, post.status) == (almaty, PostStatus.QUEUED), queued
        assert post.author_id == network.staff_id(HEAD_EDITOR, HEAD)
        assert {p.channel_id for p in post.publications} == {channels["almaty-news"]}


def require_approval(network: Network, *names: str) -> None:
    with network.library.sessions.begin() as session:
        for name in names:
            session.get_one(Organization, network.orgs[name]).requires_approval = True


async def submit(bot: BotHarness, network: Network, user: int, text: str, channel: str) -> None:
    await bot.send(user, "/new")
    await bot.send(user, text)
    await bot.press(user, "np:next")
    await bot.press(user, f"np:ch:{network.channels[channel]}")
    await bot.press(user, "np:chok")
    await bot.press(user, "nt:tomorrow")
    await bot.press(user, "np:ok")


def approval_requests(bot: BotHarness, user: int) -> list[str]:
    return [b for m in bot.history(user) for b in BotHarness.buttons(m) if b.startswith("ap:ok:")]


async def test_approvals_go_to_the_librarys_managers_or_the_nearest_above(
    bot: BotHarness, network: Network
) -> None:
    require_approval(network, VILNIUS, ALMATY)
    for manager in (HEAD_MANAGER, ALMATY_MANAGER, OUTSIDER):
        await bot.send(manager, "/start")
    await submit(bot, network, VILNIUS_EDITOR, "Vilniaus poezijos vakaras", "vilnius-news")
    await submit(bot, network, ALMATY_EDITOR, "Almaty book fair", "almaty-news")
    with network.library.sessions() as session:
        by_org = {p.organization_id: p.id for p in session.scalars(select(Post))}
    vilnius_post, almaty_post = by_org[network.orgs[VILNIUS]], by_org[network.orgs[ALMATY]]
    assert network.post(vilnius_post).status is PostStatus.PENDING_APPROVAL
    # Vilnius has no manager: the network head's managers decide; Almaty has its own.
    assert approval_requests(bot, HEAD_MANAGER) == [f"ap:ok:{vilnius_post}"]
    assert approval_requests(bot, ALMATY_MANAGER) == [f"ap:ok:{almaty_post}"]
    assert approval_requests(bot, OUTSIDER) == []
    (request,) = [m for m in bot.history(HEAD_MANAGER) if BotHarness.buttons(m)]
    assert request["text"].startswith(f"🏛 {VILNIUS}")  # the head's managers see whose it is

    before = snapshot(network)
    refused = texts(await press_forged(bot, ALMATY_MANAGER, f"ap:ok:{vilnius_post}"))
    assert translate("kk", NOT_POST, id=vilnius_post) in refused
    assert snapshot(network) == before

    await bot.press(HEAD_MANAGER, f"ap:ok:{vilnius_post}")
    approved = network.post(vilnius_post)
    assert approved.status is PostStatus.QUEUED
    assert approved.reviewed_by == network.staff_id(HEAD_MANAGER, HEAD)
    told = texts(bot._new_bot_messages(VILNIUS_EDITOR))
    when = local_time(due_of(network, vilnius_post), ZoneInfo("Europe/Vilnius"), "lt", START)
    assert (
        translate(
            "lt",
            "✅ {name} approved your post #{id}: it goes out {when}.",
            name="Marat",
            id=vilnius_post,
            when=when,
        )
        in told
    )  # in the author's language, at the time of the post's library


async def test_stats_of_a_post_by_number_only_in_a_library_one_reaches(
    bot: BotHarness, network: Network
) -> None:
    vilnius_post = network.queued(VILNIUS, "Vilnius chess tournament", "vilnius-news")
    before = snapshot(network)
    (refused,) = await bot.send(ALMATY_MANAGER, f"/stats {vilnius_post}")
    assert refused["text"] == translate("kk", "no {kind} has id {id}", kind="post", id=vilnius_post)
    assert snapshot(network) == before
    await bot.send(HEAD_MANAGER, "/library")
    await bot.press(HEAD_MANAGER, f"org:{network.orgs[HEAD]}:library")
    (shown,) = await bot.send(HEAD_MANAGER, f"/stats {vilnius_post}")  # the head reaches it
    assert "Vilnius chess tournament" in shown["text"]


async def test_an_unfinished_post_stays_in_its_library_when_a_button_acts_in_another(
    bot: BotHarness, network: Network
) -> None:
    require_approval(network, VILNIUS)
    await bot.send(HEAD_MANAGER, "/start")
    await submit(bot, network, VILNIUS_EDITOR, "Vilniaus poezijos vakaras", "vilnius-news")
    (waiting,) = approval_requests(bot, HEAD_MANAGER)
    vilnius_post = int(waiting.rsplit(":", 1)[1])
    await bot.send(HEAD_MANAGER, "/library")
    await bot.press(HEAD_MANAGER, f"org:{network.orgs[HEAD]}:library")
    await bot.send(HEAD_MANAGER, "/new")
    await bot.send(HEAD_MANAGER, "Regional news in progress")
    asked = texts(await bot.press(HEAD_MANAGER, f"ap:no:{vilnius_post}"))
    assert f"#{vilnius_post}" in asked
    with network.library.sessions() as session:
        kept = session.scalars(select(Post).where(Post.text == "Regional news in progress")).one()
        assert kept.organization_id == network.orgs[HEAD]  # not the library of the button
        conversation = session.get_one(BotConversation, HEAD_MANAGER)
        assert conversation.data["organization_id"] == network.orgs[VILNIUS]
    await bot.send(HEAD_MANAGER, "Please name the hall")
    returned = network.post(vilnius_post)
    assert returned.status is PostStatus.DRAFT
    assert returned.reviewed_by == network.staff_id(HEAD_MANAGER, HEAD)


def test_a_librarys_notices_reach_its_own_staff_or_the_nearest_above(network: Network) -> None:
    vilnius_post = network.queued(VILNIUS, "Vilnius chess tournament", "vilnius-news")
    almaty_post = network.queued(ALMATY, "Almaty book fair", "almaty-news")
    with network.library.sessions.begin() as session:
        notices = {}
        for name, post_id in ((VILNIUS, vilnius_post), (ALMATY, almaty_post)):
            publication = session.get_one(Publication, network.publication_of(post_id))
            publication.state = PublicationState.FAILED
            failed = add_notice(
                session,
                NoticeKind.PUBLICATION_FAILED,
                publication_id=publication.id,
                channel_id=publication.channel_id,
                reason="Bad Request",
            )
            session.flush()
            notices[name] = failed.id
        expired = add_notice(
            session,
            NoticeKind.CHANNEL_AUTH_EXPIRED,
            organization_id=network.orgs[ALMATY],
            channel_id=network.channels["almaty-news"],
            reason="token revoked",
        )
        session.flush()
        notices["expired"] = expired.id
    with network.library.sessions() as session:

        def readers(key: str) -> set[int]:
            notice = session.get_one(Notice, notices[key])
            return {m.chat_id for m in plan_messages(session, notice, START)}

        # No author: the library's editors and admins; none from another library.
        assert readers(VILNIUS) == {VILNIUS_EDITOR, BOTH_EDITOR, MIXED}
        assert readers(ALMATY) == {ALMATY_EDITOR, BOTH_EDITOR}
        # Almaty has no admin: the network head's would hear (it has none either), never the
        # city library's administrator.
        assert OUTSIDER not in readers("expired")


async def test_the_choice_keeps_what_was_typed_after_the_command(
    bot: BotHarness, network: Network
) -> None:
    vilnius = network.orgs[VILNIUS]
    (question,) = await bot.send(BOTH_EDITOR, "/new Vilniaus skaitymų vakaras")
    assert f"org:{vilnius}:new" in choices(question)
    (nudge,) = await bot.send(BOTH_EDITOR, "Vilnius, please")  # typed, not pressed
    assert nudge["text"] == translate(
        "en", "Press one of the buttons above to choose the library, or send /cancel."
    )
    await bot.press(BOTH_EDITOR, f"org:{vilnius}:new")
    with network.library.sessions() as session:
        conversation = session.get_one(BotConversation, BOTH_EDITOR)
        assert conversation.flow == "new"
        assert conversation.data["text"] == "Vilniaus skaitymų vakaras"
        assert conversation.data["organization_id"] == vilnius


async def test_a_plan_from_someone_in_two_libraries_waits_for_the_choice(
    bot: BotHarness, network: Network
) -> None:
    plan = b"date,time,channels,text,kind\n2026-12-09,10:00,vilnius-news,Vilnius quiz,post\n"
    await bot.send(BOTH_EDITOR, "/start")  # the chat exists once they have written
    before = snapshot(network)
    (refused,) = await send_document(bot, BOTH_EDITOR, plan, "plan.csv", "text/csv")
    assert "/library" in refused["text"]
    assert snapshot(network) == before
    await bot.send(BOTH_EDITOR, "/library")
    await bot.press(BOTH_EDITOR, f"org:{network.orgs[VILNIUS]}:library")
    replies = await send_document(bot, BOTH_EDITOR, plan, "plan.csv", "text/csv")
    assert replies[0]["text"].startswith(f"🏛 {VILNIUS}")
    with network.library.sessions() as session:
        (post,) = session.scalars(select(Post)).all()
        assert (post.text, post.organization_id) == ("Vilnius quiz", network.orgs[VILNIUS])


async def test_staff_see_their_librarys_events_and_followers_every_librarys(
    bot: BotHarness, network: Network
) -> None:
    network.event(VILNIUS, "Vilnius chess evening", "vilnius-news")
    network.event(ALMATY, "Almaty poetry night", "almaty-news")
    (staff_view,) = await bot.send(ALMATY_EDITOR, "/events")
    assert "Almaty poetry night" in staff_view["text"]
    assert "Vilnius chess evening" not in staff_view["text"]
    (follower_view,) = await bot.send(600000099, "/events")
    assert "Almaty poetry night" in follower_view["text"]
    assert "Vilnius chess evening" in follower_view["text"]


NOT_YOURS = (
    "post #{id} is another person's: only its author, a manager or an administrator may open "
    "or change it"
)


async def test_the_role_that_counts_is_the_one_in_the_library_acted_on(
    bot: BotHarness, network: Network
) -> None:
    almaty_author = network.staff_id(ALMATY_EDITOR, ALMATY)
    vilnius_author = network.staff_id(VILNIUS_EDITOR, VILNIUS)
    almaty_post = network.queued(ALMATY, "Almaty book fair", "almaty-news", almaty_author)
    vilnius_post = network.queued(VILNIUS, "Vilnius poetry night", "vilnius-news", vilnius_author)
    await bot.send(MIXED, "/start")
    before = snapshot(network)
    # An editor in Vilnius: another person's Vilnius post is not theirs to change.
    refused = texts(await press_forged(bot, MIXED, f"q:delok:{vilnius_post}"))
    assert translate("en", NOT_YOURS, id=vilnius_post) in refused
    assert snapshot(network) == before
    # A manager in Almaty: the same button on an Almaty post cancels it.
    await press_forged(bot, MIXED, f"q:delok:{almaty_post}")
    assert network.post(almaty_post).status is PostStatus.CANCELLED
    assert network.post(vilnius_post).status is PostStatus.QUEUED
    # /stats needs a manager: Almaty is the one library it can be for, so nothing is asked.
    (summary, *_charts) = await bot.send(MIXED, "/stats")
    assert summary["text"].startswith(f"🏛 {ALMATY}")
    assert not choices(summary)


async def test_a_conversation_ends_when_its_library_is_out_of_reach(
    bot: BotHarness, network: Network
) -> None:
    await bot.send(BOTH_EDITOR, "/library")
    await bot.press(BOTH_EDITOR, f"org:{network.orgs[VILNIUS]}:library")
    await bot.send(BOTH_EDITOR, "/new")
    await bot.send(BOTH_EDITOR, "Vilniaus naujienos")
    with network.library.sessions.begin() as session:
        membership = session.scalars(
            select(StaffMember).where(
                StaffMember.telegram_user_id == BOTH_EDITOR,
                StaffMember.organization_id == network.orgs[VILNIUS],
            )
        ).one()
        session.delete(membership)
    (answer,) = await bot.send(BOTH_EDITOR, "and more text")
    assert answer["text"].startswith("Send /new to prepare a post")  # nothing left to resume
    with network.library.sessions() as session:
        assert session.get(BotConversation, BOTH_EDITOR) is None
        assert session.scalars(select(Post)).all() == []
    (prompt,) = await bot.send(BOTH_EDITOR, "/new")  # one library left: nothing to choose
    assert not choices(prompt)
    assert "🏛" not in prompt["text"]
