"""/queue (a page at a time: view, reschedule, cancel, publish now) and /drafts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.access import Permission, check_may_change, may_change
from bot.drafting import OpenDraft, actor, park_unfinished
from bot.formatting import STATE, STATUS, quoted
from bot.keyboards import (
    TimeChoice,
    chosen_time,
    pager,
    pick_prompt,
    time_keyboard,
    time_prompt,
    typed_time,
)
from bot.router import Router
from bot.turn import Button, Keyboard, Turn
from content.domain.callback_data import CallbackData
from content.domain.states import PostStatus
from content.domain.templates import local_time
from content.domain.text import excerpt
from content.errors import InvalidInput
from content.i18n import N_, explain
from content.queueing.drafts import discard_draft, get_post, list_drafts
from content.queueing.post_queue import next_due, publish_now, queue_page, reschedule_post
from content.queueing.scheduling import cancel_post
from content.storage.models import Post
from content.storage.store import post_people

FLOW = "queue"
PAGE_SIZE = 5

routes = Router()


@dataclass(frozen=True)
class QueuePage(CallbackData, prefix="q:page"):
    page: int


@dataclass(frozen=True)
class ViewPost(CallbackData, prefix="q:view"):
    post_id: int
    page: int  # the queue's page to go back to


@dataclass(frozen=True)
class ChangePost(CallbackData, prefix="q"):
    """Publish now, reschedule, cancel (asked first, then confirmed) a queued post."""

    action: Literal["now", "move", "del", "delok"]
    post_id: int


@dataclass(frozen=True)
class MoveTime(CallbackData, prefix="qt"):
    """The reschedule conversation's time buttons."""

    choice: TimeChoice


@dataclass(frozen=True)
class DraftsPage(CallbackData, prefix="d:page"):
    page: int


@dataclass(frozen=True)
class DeleteDraft(CallbackData, prefix="d"):
    """Delete a draft: asked first, then confirmed."""

    action: Literal["del", "delok"]
    post_id: int


@routes.command("queue", Permission.EDIT, N_("Posts waiting to go out"), per_organization=True)
async def queue(turn: Turn) -> None:
    _show_queue(turn, 0, edit=False)


@routes.command(
    "drafts",
    Permission.EDIT,
    N_("Drafts and posts waiting for approval"),
    per_organization=True,
)
async def drafts(turn: Turn) -> None:
    _show_drafts(turn, 0, edit=False)


@routes.button(QueuePage, Permission.EDIT)
async def queue_page_pressed(turn: Turn, pressed: QueuePage) -> None:
    _show_queue(turn, pressed.page, edit=True)


@routes.button(ViewPost, Permission.EDIT)
async def view_pressed(turn: Turn, pressed: ViewPost) -> None:
    _show_post(turn, pressed.post_id, pressed.page)


@routes.button(ChangePost, Permission.EDIT)
async def change_pressed(turn: Turn, pressed: ChangePost) -> None:
    check_may_change(turn.standing, get_post(turn.session, turn.organization, pressed.post_id))
    change = {
        "now": _publish_now,
        "move": _ask_new_time,
        "del": _confirm_cancel,
        "delok": _cancel,
    }[pressed.action]
    change(turn, pressed.post_id)


@routes.button(MoveTime, Permission.EDIT)
async def move_pressed(turn: Turn, pressed: MoveTime) -> None:
    if turn.conversation.flow != FLOW:
        turn.say(turn._("That change is no longer open: send /queue to start again."))
        return
    try:
        moment = chosen_time(turn, pressed.choice)
    except InvalidInput as err:
        turn.say(explain(err, turn.language), _move_keyboard(turn))
        return
    if moment is None:
        turn.say(pick_prompt(turn))
        return
    _move(turn, moment)


@routes.step(FLOW, "time", Permission.EDIT)
async def move_typed(turn: Turn) -> None:
    try:
        moment = typed_time(turn, turn.incoming.text or "")
    except InvalidInput as err:
        turn.say(explain(err, turn.language), _move_keyboard(turn))
        return
    _move(turn, moment)


@routes.button(DraftsPage, Permission.EDIT)
async def drafts_page_pressed(turn: Turn, pressed: DraftsPage) -> None:
    _show_drafts(turn, pressed.page, edit=True)


@routes.button(DeleteDraft, Permission.EDIT)
async def delete_pressed(turn: Turn, pressed: DeleteDraft) -> None:
    post = get_post(turn.session, turn.organization, pressed.post_id)
    check_may_change(turn.standing, post)
    if pressed.action == "del":
        turn.edit(
            turn._("Delete draft #{id}? This cannot be undone.", id=pressed.post_id),
            [
                [
                    Button(
                        turn._("🗑 Yes, delete it"),
                        data=DeleteDraft("delok", pressed.post_id).pack(),
                    ),
                    Button(turn._("◀ No"), data=DraftsPage(0).pack()),
                ]
            ],
        )
        return
    if post.status is not PostStatus.DRAFT:
        turn.edit(turn._("Post #{id} is no longer a draft.", id=post.id))
        return
    discard_draft(turn.session, turn.organization, post.id, actor(turn))
    turn.edit(turn._("🗑 Draft #{id} is deleted.", id=post.id))


def _show(turn: Turn, text: str, rows: Keyboard, *, edit: bool) -> None:
    if edit:
        turn.edit(text, rows or None)
    else:
        turn.say(text, rows or None)


# --- the queue -----------------------------------------------------------------------------------


def _show_queue(turn: Turn, page: int, *, edit: bool) -> None:
    result = queue_page(turn.session, turn.organization, page, PAGE_SIZE)
    if not result.total:
        _show(turn, turn._("The queue is empty. Send /new to prepare a post."), [], edit=edit)
        return
    lines = [
        turn._(
            "📋 Posts in the queue: {total} (page {page} of {pages})",
            total=result.total,
            page=result.page + 1,
            pages=result.pages,
        )
    ]
    rows: Keyboard = []
    for post in result.posts:
        due = next_due(post)
        when = local_time(due, turn.tz, turn.language, turn.now()) if due else "—"
        names = ", ".join(sorted({p.channel.name for p in post.publications}))
        lines += ["", f"#{post.id} · {when} · {names}", excerpt(post.text, 80)]
        rows.append(
            [
                Button(
                    f"#{post.id} · {excerpt(post.text, 40)}",
                    data=ViewPost(post.id, result.page).pack(),
                )
            ]
        )
    if nav := pager(QueuePage, result.page, result.pages):
        rows.append(nav)
    _show(turn, "\n".join(lines), rows, edit=edit)


def _show_post(turn: Turn, post_id: int, page: int) -> None:
    post = get_post(turn.session, turn.organization, post_id)
    author, _reviewer = post_people(turn.session, post)
    lines = [
        turn._("Post #{id} · {status}", id=post.id, status=turn._(STATUS[post.status])),
    ]
    if author is not None:
        lines.append(turn._("Author: {name}", name=author))
    lines += ["", quoted(post.text), ""]
    if post.media:
        lines.append(turn._("🖼 Photos: {count}", count=len(post.media)))
    for publication in post.publications:
        when = local_time(publication.due_at, turn.tz, turn.language, turn.now())
        state = turn._(STATE[publication.state])
        lines.append(f"📣 {publication.channel.name}: {when} · {state}")
    rows: Keyboard = []
    if (
        post.status is PostStatus.QUEUED
        and next_due(post) is not None
        and may_change(turn.standing, post)
    ):
        rows += [
            [
                Button(turn._("🕒 Reschedule"), data=ChangePost("move", post.id).pack()),
                Button(turn._("🚀 Publish now"), data=ChangePost("now", post.id).pack()),
            ],
            [Button(turn._("✖ Cancel the post"), data=ChangePost("del", post.id).pack())],
        ]
    rows.append([Button(turn._("◀ Back to the queue"), data=QueuePage(page).pack())])
    turn.edit("\n".join(lines), rows)


def _still_queued(turn: Turn, post: Post) -> bool:
    if post.status is PostStatus.QUEUED and next_due(post) is not None:
        return True
    turn.answer(turn._("Nothing to change"))
    turn.say(
        turn._(
            "Post #{id} is no longer waiting in the queue (it is {status}).",
            id=post.id,
            status=turn._(STATUS[post.status]),
        )
    )
    return False


def _publish_now(turn: Turn, post_id: int) -> None:
    post = get_post(turn.session, turn.organization, post_id)
    if not _still_queued(turn, post):
        return
    count = publish_now(turn.session, turn.organization, post_id, turn.now(), actor(turn))
    turn.queue_changed = True
    turn.answer(turn._("On its way"))
    turn.edit(
        turn._("🚀 Post #{id} goes out now (channels: {count}).", id=post_id, count=count),
        [[Button(turn._("◀ Back to the queue"), data=QueuePage(0).pack())]],
    )


def _confirm_cancel(turn: Turn, post_id: int) -> None:
    post = get_post(turn.session, turn.organization, post_id)
    if not _still_queued(turn, post):
        return
    turn.edit(
        turn._("Cancel post #{id}? It will not go out anywhere.", id=post_id),
        [
            [
                Button(turn._("✖ Yes, cancel it"), data=ChangePost("delok", post_id).pack()),
                Button(turn._("◀ No, keep it"), data=ViewPost(post_id, 0).pack()),
            ]
        ],
    )


def _cancel(turn: Turn, post_id: int) -> None:
    post = get_post(turn.session, turn.organization, post_id)
    if not _still_queued(turn, post):
        return
    cancel_post(turn.session, turn.organization, post_id, actor(turn))
    turn.edit(
        turn._("✖ Post #{id} is cancelled: it will not go out.", id=post_id),
        [[Button(turn._("◀ Back to the queue"), data=QueuePage(0).pack())]],
    )


def _move_keyboard(turn: Turn) -> Keyboard:
    return time_keyboard(turn, MoveTime)


def _ask_new_time(turn: Turn, post_id: int) -> None:
    post = get_post(turn.session, turn.organization, post_id)
    if not _still_queued(turn, post):
        return
    park_unfinished(turn)
    turn.conversation.start(FLOW, "time", post_id=post_id)
    lines = [
        turn._("🕒 A new time for post #{id}.", id=post_id),
        time_prompt(turn),
        turn._("/cancel keeps the old time."),
    ]
    turn.say("\n".join(lines), _move_keyboard(turn))


def _move(turn: Turn, moment: datetime) -> None:
    post_id = int(turn.conversation.data["post_id"])
    reschedule_post(turn.session, turn.organization, post_id, moment, turn.now(), actor(turn))
    turn.conversation.end()
    turn.queue_changed = True
    turn.say(
        turn._(
            "🕒 Post #{id} now goes out {when}.",
            id=post_id,
            when=local_time(moment, turn.tz, turn.language, turn.now()),
        ),
        [[Button(turn._("📋 Open the queue"), data=QueuePage(0).pack())]],
    )


# --- drafts --------------------------------------------------------------------------------------


def _show_drafts(turn: Turn, page: int, *, edit: bool) -> None:
    drafts = list_drafts(turn.session, turn.organization)
    posts = [p for p in drafts if may_change(turn.standing, p)]
    if not posts:
        _show(turn, turn._("There are no drafts. Send /new to prepare a post."), [], edit=edit)
        return
    pages = -(-len(posts) // PAGE_SIZE)
    page = min(max(page, 0), pages - 1)
    lines = [
        turn._(
            "📝 Drafts: {total} (page {page} of {pages})",
            total=len(posts),
            page=page + 1,
            pages=pages,
        )
    ]
    rows: Keyboard = []
    for post in posts[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]:
        author, _reviewer = post_people(turn.session, post)
        head = f"#{post.id}"
        if author is not None:
            head += f" · {author}"
        if post.status is PostStatus.PENDING_APPROVAL:
            head += " · ⏳ " + turn._(STATUS[post.status])
        lines += ["", head, excerpt(post.text, 80)]
        if post.review_note:
            lines.append("↩️ " + turn._("Returned: «{note}»", note=post.review_note))
        if post.status is PostStatus.DRAFT:
            rows.append(
                [
                    Button(
                        f"✏️ #{post.id} · {excerpt(post.text, 30)}", data=OpenDraft(post.id).pack()
                    ),
                    Button("🗑", data=DeleteDraft("del", post.id).pack()),
                ]
            )
    if nav := pager(DraftsPage, page, pages):
        rows.append(nav)
    _show(turn, "\n".join(lines), rows, edit=edit)
