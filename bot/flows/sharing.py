"""/published and "Share to the network": a member library's staff share a post that is out
with a library above theirs (its network head), choosing copy or forward for Telegram.

The library is the one the person is staff of; each button's post is looked up within it,
so a forged payload naming another library's post or a library outside the network is
refused (content.queueing.sharing) and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.access import Permission
from bot.drafting import actor
from bot.formatting import quoted
from bot.router import Router
from bot.turn import Button, Keyboard, Turn
from content.domain.callback_data import CallbackData
from content.domain.states import Platform, PublicationState, ShareMode
from content.domain.templates import local_time
from content.domain.text import excerpt
from content.domain.timeparse import zone
from content.i18n import N_
from content.queueing.drafts import get_post
from content.queueing.sharing import (
    ShareChoice,
    published_posts,
    share_post,
    share_target,
    share_targets,
    shared_post_ids,
)
from content.storage.models import Organization, Post

routes = Router()


@dataclass(frozen=True)
class ShowPublished(CallbackData, prefix="sh:view"):
    post_id: int


@dataclass(frozen=True)
class ShareTo(CallbackData, prefix="sh:to"):
    """Share a post to a library above: `mode` "ask" asks Telegram's copy or forward first."""

    post_id: int
    target_id: int
    mode: Literal["ask", "copy", "forward"]


@dataclass(frozen=True)
class ShareStart(CallbackData, prefix="sh:go"):
    """ "Share to the network" under a published post."""

    post_id: int


def _library(turn: Turn) -> Organization:
    """The library the person acts for: the one they are staff of."""
    assert turn.staff is not None  # Permission.EDIT holds
    return turn.session.get_one(Organization, turn.staff.organization_id)


@routes.command("published", Permission.EDIT, N_("Published posts, to share with the network"))
async def published(turn: Turn) -> None:
    library = _library(turn)
    posts = published_posts(turn.session, library)
    if not posts:
        turn.say(turn._("Nothing of {org} is published yet.", org=library.name))
        return
    rows: Keyboard = [
        [Button(f"#{p.id} · {excerpt(p.text, 40)}", data=ShowPublished(p.id).pack())] for p in posts
    ]
    turn.say(turn._("📰 Published posts of {org}:", org=library.name), rows)


def _sent_on(post: Post) -> list[str]:
    return [
        p.channel.name
        for p in post.publications
        if p.state is PublicationState.SENT and p.shared_from_id is None
    ]


@routes.button(ShowPublished, Permission.EDIT)
async def show_pressed(turn: Turn, pressed: ShowPublished) -> None:
    library = _library(turn)
    post = get_post(turn.session, library, pressed.post_id)
    tz = zone(library.timezone)
    lines = [turn._("Post #{id}", id=post.id), "", quoted(post.text), ""]
    for publication in post.publications:
        if publication.state is PublicationState.SENT and publication.sent_at:
            when = local_time(publication.sent_at, tz, turn.language, turn.now())
            lines.append(f"📣 {publication.channel.name}: {when}")
    rows: Keyboard = []
    if not _sent_on(post):
        lines.append(turn._("It is not published yet."))
    elif post.id in shared_post_ids(turn.session, [post.id]):
        lines.append(turn._("✅ Shared with the network."))
    if _sent_on(post) and share_targets(turn.session, library):
        rows.append([Button(turn._("🔁 Share to the network"), data=ShareStart(post.id).pack())])
    turn.edit("\n".join(lines), rows or None)


@routes.button(ShareStart, Permission.EDIT)
async def share_pressed(turn: Turn, pressed: ShareStart) -> None:
    library = _library(turn)
    post = get_post(turn.session, library, pressed.post_id)
    targets = share_targets(turn.session, library)
    if not targets:
        turn.edit(turn._("{org} belongs to no network: there is no one to share with.",
                         org=library.name))  # fmt: skip
        return
    if len(targets) == 1:
        _ask_mode(turn, post, targets[0])
        return
    rows: Keyboard = [
        [Button(target.name, data=ShareTo(post.id, target.id, "ask").pack())] for target in targets
    ]
    turn.edit(turn._("Share post #{id} with:", id=post.id), rows)


def _ask_mode(turn: Turn, post: Post, target: Organization) -> None:
    telegram = any(
        p.channel.platform is Platform.TELEGRAM
        for p in post.publications
        if p.state is PublicationState.SENT
    )
    if not telegram:  # a Facebook post is shared by its link: nothing to choose
        _share(turn, post.id, target.id, ShareMode.COPY)
        return
    turn.edit(
        turn._(
            "Share post #{id} to the channels of {org}. In Telegram, copy it (it reads as "
            "{org}'s own) or forward it (it shows it comes from {source})?",
            id=post.id,
            org=target.name,
            source=_library(turn).name,
        ),
        [
            [
                Button(turn._("📄 Copy"), data=ShareTo(post.id, target.id, "copy").pack()),
                Button(turn._("↪ Forward"), data=ShareTo(post.id, target.id, "forward").pack()),
            ]
        ],
    )


@routes.button(ShareTo, Permission.EDIT)
async def target_pressed(turn: Turn, pressed: ShareTo) -> None:
    if pressed.mode == "ask":
        library = _library(turn)
        post = get_post(turn.session, library, pressed.post_id)
        target = share_target(turn.session, library, _name(turn, pressed.target_id))
        _ask_mode(turn, post, target)
        return
    mode = ShareMode.FORWARD if pressed.mode == "forward" else ShareMode.COPY
    _share(turn, pressed.post_id, pressed.target_id, mode)


def _name(turn: Turn, organization_id: int) -> str:
    # An id of no organisation reads as a name no library above has: refused the same way.
    target = turn.session.get(Organization, organization_id)
    return target.name if target is not None else f"#{organization_id}"


def _share(turn: Turn, post_id: int, target_id: int, mode: ShareMode) -> None:
    library = _library(turn)
    name = _name(turn, target_id)
    shared = share_post(
        turn.session, library, post_id, ShareChoice(name, (), mode), turn.now(), actor(turn)
    )
    turn.queue_changed = True
    turn.answer(turn._("Shared"))
    channels = ", ".join(p.channel.name for p in shared.publications)
    turn.edit(
        turn._(
            "🔁 Post #{id} is shared to {org}: it goes out now on {channels}.",
            id=post_id,
            org=name,
            channels=channels,
        )
    )
