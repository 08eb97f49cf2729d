"""Approvals: managers receive an editor's post with Approve / Reject; the author hears back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.access import Permission
from bot.drafting import OpenDraft, actor, park_unfinished
from bot.formatting import STATUS, quoted
from bot.router import Router
from bot.turn import Button, Keyboard, Reply, Turn
from content.domain.callback_data import CallbackData
from content.domain.states import PostStatus, Role
from content.domain.templates import local_time
from content.domain.text import excerpt
from content.i18n import N_, translate
from content.queueing.drafts import approve_post, get_post, reject_post
from content.storage.models import Channel, Organization, Post, StaffMember
from content.storage.organizations import ancestors
from content.storage.store import post_people

FLOW = "approval"
APPROVERS = (Role.MANAGER, Role.ADMIN)
# Posts of one import listed to an approver; a message holds 4096 characters and 100 buttons.
MOST_LISTED = 30


routes = Router()


@dataclass(frozen=True)
class Decision(CallbackData, prefix="ap"):
    """Approve or Reject under a post sent to the managers, or Show it from a list."""

    action: Literal["ok", "no", "show"]
    post_id: int


def _author(turn: Turn, post: Post) -> StaffMember | None:
    return turn.session.get(StaffMember, post.author_id) if post.author_id else None


def _approvers(session: Session, post: Post) -> list[StaffMember]:
    """Who decides on `post`: the managers and administrators of its library (all but its
    author), or, if it has none, of the nearest library above it that has."""
    org = session.get_one(Organization, post.organization_id)
    for library in (org, *ancestors(session, org)):
        found = [
            manager
            for manager in session.scalars(
                select(StaffMember)
                .where(
                    StaffMember.organization_id == library.id,
                    StaffMember.role.in_(APPROVERS),
                )
                .order_by(StaffMember.id)
            )
            if manager.id != post.author_id
        ]
        if found:
            return found
    return []


def approval_request(
    session: Session,
    media_dir: Path,
    tz: ZoneInfo,
    now: datetime,
    post: Post,
    manager: StaffMember,
) -> list[Reply]:
    """The message (with its photo, if any) asking `manager` to approve or reject `post`."""
    channels = session.scalars(
        select(Channel.name).where(Channel.id.in_(post.planned_channels)).order_by(Channel.name)
    ).all()
    language = manager.language
    when = local_time(post.planned_at or now, tz, language, now)
    lines = [
        translate(
            language,
            N_("📨 Post #{id} from {author} is waiting for your approval."),
            id=post.id,
            author=post_people(session, post)[0] or "?",
        ),
        "",
        quoted(post.text),
        "",
        "🕒 " + when,
        "📣 " + ", ".join(channels),
    ]
    if manager.organization_id != post.organization_id:  # a library below the manager's
        lines.insert(0, "🏛 " + session.get_one(Organization, post.organization_id).name)
    replies = []
    chat = manager.telegram_user_id
    if post.media:
        lines.append(translate(language, N_("🖼 Photos: {count}"), count=len(post.media)))
        replies.append(
            Reply(
                translate(language, N_("Post #{id}"), id=post.id),
                chat_id=chat,
                photo=media_dir / post.media[0].media.path,
            )
        )
    buttons = [
        Button(translate(language, N_("✅ Approve")), data=Decision("ok", post.id).pack()),
        Button(translate(language, N_("↩️ Reject")), data=Decision("no", post.id).pack()),
    ]
    replies.append(Reply("\n".join(lines), [buttons], chat_id=chat))
    return replies


def ask_managers(turn: Turn, post: Post) -> None:
    """Send `post` to every manager and administrator (but its author) to decide on."""
    approvers = _approvers(turn.session, post)
    for manager in approvers:
        turn.replies.extend(
            approval_request(
                turn.session, turn.services.media_dir, turn.tz, turn.now(), post, manager
            )
        )
    if not approvers:
        turn.say(turn._("No manager can approve posts yet: ask an administrator to add one."))


def ask_about_imported(
    session: Session, post_ids: list[int], tz: ZoneInfo, now: datetime, language: str
) -> list[Reply]:
    """One message to each approver listing the posts an import left waiting, a button to open
    each (a request per post would be dozens of messages, past Telegram's pace); or, with no
    approver, a word to the importer (in `language`) on who can help."""
    posts = list(session.scalars(select(Post).where(Post.id.in_(post_ids)).order_by(Post.id)))
    approvers = _approvers(session, posts[0]) if posts else []
    if not approvers:
        return [
            Reply(
                translate(
                    language,
                    N_("No manager can approve posts yet: ask an administrator to add one."),
                )
            )
        ]
    author = post_people(session, posts[0])[0] or "?"
    replies = []
    for manager in approvers:
        lines = [
            translate(
                manager.language,
                N_(
                    "📨 {author} imported a plan: {count} post(s) wait for your approval. Open "
                    "each to approve or reject it."
                ),
                author=author,
                count=len(posts),
            ),
            "",
        ]
        keyboard: Keyboard = []
        for post in posts[:MOST_LISTED]:
            when = local_time(post.planned_at or now, tz, manager.language, now)
            lines.append(f"#{post.id} · {when} · {excerpt(post.text, 50)}")
            keyboard.append(
                [
                    Button(
                        f"👀 #{post.id} · {excerpt(post.text, 30)}",
                        data=Decision("show", post.id).pack(),
                    )
                ]
            )
        if len(posts) > MOST_LISTED:
            lines.append(
                translate(
                    manager.language,
                    N_("… and {count} more: see /drafts"),
                    count=len(posts) - MOST_LISTED,
                )
            )
        replies.append(Reply("\n".join(lines), keyboard, chat_id=manager.telegram_user_id))
    return replies


def _decided(turn: Turn, post: Post) -> bool:
    """True (and says so) if someone already decided on `post`."""
    if post.status is PostStatus.PENDING_APPROVAL:
        return False
    reviewer = post_people(turn.session, post)[1]
    turn.answer(turn._("Already decided"))
    turn.edit(
        turn._(
            "Post #{id} was already decided by {name}: it is {status} now.",
            id=post.id,
            name=reviewer or "?",
            status=turn._(STATUS[post.status]),
        )
    )
    return True


@routes.button(Decision, Permission.APPROVE)
async def pressed(turn: Turn, decision: Decision) -> None:
    action, post = decision.action, get_post(turn.session, turn.organization, decision.post_id)
    if action == "show":  # from the list of an import's waiting posts, which stays as it is
        if post.status is not PostStatus.PENDING_APPROVAL:
            turn.answer(turn._("Already decided"))
        elif turn.staff is not None:
            turn.answer(turn._("Post #{id}", id=post.id))
            turn.replies.extend(
                approval_request(
                    turn.session,
                    turn.services.media_dir,
                    turn.tz,
                    turn.now(),
                    post,
                    turn.staff,
                )
            )
        return
    if _decided(turn, post):
        return
    if action == "ok":
        _approve(turn, post)
    else:
        park_unfinished(turn)
        turn.conversation.start(
            FLOW, "reason", post_id=post.id, message_id=turn.incoming.callback_message_id
        )
        turn.say(
            turn._(
                "Why is post #{id} returned? Write a few words for its author, or /cancel.",
                id=post.id,
            )
        )


@routes.step(FLOW, "reason", Permission.APPROVE)
async def reason(turn: Turn) -> None:
    text = (turn.incoming.text or "").strip()
    if not text:
        turn.say(turn._("Write the reason as a message, or /cancel."))
        return
    data = turn.conversation.data
    post = get_post(turn.session, turn.organization, data["post_id"])
    message_id = data.get("message_id")
    turn.conversation.end()
    if post.status is not PostStatus.PENDING_APPROVAL:
        turn.say(turn._("Post #{id} was decided meanwhile; nothing changed.", id=post.id))
        return
    assert turn.staff is not None  # Permission.APPROVE was required for this step
    reject_post(turn.session, turn.organization, post.id, turn.staff.id, text, actor(turn))
    done = turn._("↩️ Post #{id} is returned to its author.", id=post.id)
    if message_id is not None:
        turn.say(done, edit_message_id=message_id)  # the buttons go with the decision
    turn.say(done)
    author = _author(turn, post)
    open_draft = OpenDraft(post.id).pack()
    if author is not None:
        turn.say(
            translate(
                author.language,
                N_(
                    "↩️ {name} returned your post #{id}: «{reason}». Open it, change it and "
                    "send it again."
                ),
                name=turn.staff.name,
                id=post.id,
                reason=text,
            ),
            [[Button(translate(author.language, N_("✏️ Open the draft")), data=open_draft)]],
            chat_id=author.telegram_user_id,
        )


def _approve(turn: Turn, post: Post) -> None:
    assert turn.staff is not None  # Permission.APPROVE was required
    approve_post(turn.session, turn.organization, post.id, turn.staff.id, turn.now(), actor(turn))
    turn.queue_changed = True
    due = min(p.due_at for p in post.publications)
    turn.answer(turn._("Approved"))
    turn.edit(
        turn._(
            "✅ Post #{id} is approved: it goes out {when}.",
            id=post.id,
            when=local_time(due, turn.tz, turn.language, turn.now()),
        )
    )
    author = _author(turn, post)
    if author is not None and author.id != turn.staff.id:
        turn.say(
            translate(
                author.language,
                N_("✅ {name} approved your post #{id}: it goes out {when}."),
                name=turn.staff.name,
                id=post.id,
                when=local_time(due, turn.tz, author.language, turn.now()),
            ),
            chat_id=author.telegram_user_id,
        )
