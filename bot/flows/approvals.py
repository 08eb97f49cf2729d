"""Approvals: managers receive an editor's post with Approve / Reject; the author hears back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select

from bot.access import Permission
from bot.drafting import actor, park_unfinished
from bot.formatting import STATUS, quoted
from bot.router import Router
from bot.turn import Button, Turn
from content.domain.callback_data import CallbackData
from content.domain.states import PostStatus, Role
from content.domain.templates import local_time
from content.i18n import N_, translate
from content.queueing.drafts import approve_post, get_post, reject_post
from content.storage.models import Channel, Post, StaffMember

FLOW = "approval"
APPROVERS = (Role.MANAGER, Role.ADMIN)

routes = Router()


@dataclass(frozen=True)
class Decision(CallbackData, prefix="ap"):
    """Approve or Reject under a post sent to the managers."""

    action: Literal["ok", "no"]
    post_id: int


def _author(turn: Turn, post: Post) -> StaffMember | None:
    return turn.session.get(StaffMember, post.author_id) if post.author_id else None


def ask_managers(turn: Turn, post: Post) -> None:
    """Send `post` to every manager and administrator (but its author) to decide on."""
    author = _author(turn, post)
    approvers = turn.session.scalars(
        select(StaffMember).where(
            StaffMember.organization_id == post.organization_id,
            StaffMember.role.in_(APPROVERS),
        )
    ).all()
    channels = turn.session.scalars(
        select(Channel.name).where(Channel.id.in_(post.planned_channels)).order_by(Channel.name)
    ).all()
    sent = 0
    for manager in approvers:
        if author is not None and manager.id == author.id:
            continue
        language = manager.language
        when = local_time(post.planned_at or turn.now(), turn.tz, language, turn.now())
        lines = [
            translate(
                language,
                N_("📨 Post #{id} from {author} is waiting for your approval."),
                id=post.id,
                author=author.name if author else "?",
            ),
            "",
            quoted(post.text),
            "",
            "🕒 " + when,
            "📣 " + ", ".join(channels),
        ]
        if post.media:
            lines.append(translate(language, N_("🖼 Photos: {count}"), count=len(post.media)))
        chat = manager.telegram_user_id
        if post.media:
            turn.say(
                translate(language, N_("Post #{id}"), id=post.id),
                chat_id=chat,
                photo=turn.services.media_dir / post.media[0].media.path,
            )
        turn.say(
            "\n".join(lines),
            [
                [
                    Button(
                        translate(language, N_("✅ Approve")), data=Decision("ok", post.id).pack()
                    ),
                    Button(
                        translate(language, N_("↩️ Reject")), data=Decision("no", post.id).pack()
                    ),
                ]
            ],
            chat_id=chat,
        )
        sent += 1
    if not sent:
        turn.say(turn._("No manager can approve posts yet: ask an administrator to add one."))


def _decided(turn: Turn, post: Post) -> bool:
    """True (and says so) if someone already decided on `post`."""
    if post.status is PostStatus.PENDING_APPROVAL:
        return False
    reviewer = turn.session.get(StaffMember, post.reviewed_by) if post.reviewed_by else None
    turn.answer(turn._("Already decided"))
    turn.edit(
        turn._(
            "Post #{id} was already decided by {name}: it is {status} now.",
            id=post.id,
            name=reviewer.name if reviewer else "?",
            status=turn._(STATUS[post.status]),
        )
    )
    return True


@routes.button(Decision, Permission.APPROVE)
async def pressed(turn: Turn, decision: Decision) -> None:
    post = get_post(turn.session, turn.organization, decision.post_id)
    if _decided(turn, post):
        return
    if decision.action == "ok":
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
    open_draft = f"np:open:{post.id}"
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
