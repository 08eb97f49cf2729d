"""The post being prepared in /new, as conversation data (JSON only, so it survives a restart),
and the ways it becomes or comes from a stored draft."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.access import check_may_change
from bot.turn import Turn
from content.domain.callback_data import CallbackData
from content.queueing.drafts import draft_as_new_post, save_draft
from content.queueing.scheduling import NewPost
from content.storage.models import Channel, Post

FLOW = "new"
NOW = "now"


@dataclass(frozen=True)
class OpenDraft(CallbackData, prefix="np:open"):
    """Continue a stored draft in /new (handled there; /drafts and rejections show it)."""

    post_id: int


def fresh() -> dict[str, Any]:
    """The data of an empty /new conversation.

    images: [{"path": relative to the media directory, "alt": text or None}];
    channels: ids; when: "now", an ISO time, or None; alt_done: how many images were asked
    about; channels_done: the channels were confirmed; draft_id: the stored draft being edited.
    """
    return {
        "text": None,
        "images": [],
        "variants": {},
        "channels": [],
        "channels_done": False,
        "when": None,
        "alt_done": 0,
        "draft_id": None,
    }


def from_post(turn: Turn, post: Post) -> dict[str, Any]:
    """Conversation data that continues editing a stored draft."""
    media_dir = turn.services.media_dir
    new = draft_as_new_post(turn.session, post, media_dir)
    channels = [c for c in turn.channels() if c.name in new.channels]
    data = fresh()
    data.update(
        text=new.text,
        images=[
            {"path": str(path.relative_to(media_dir)), "alt": alt}
            for path, alt in zip(new.images, new.alt_texts, strict=True)
        ],
        variants=dict(new.variants),
        channels=[c.id for c in channels],
        channels_done=bool(channels),
        when=new.due_at.isoformat() if new.due_at and new.due_at > turn.now() else None,
        alt_done=len(new.images),
        draft_id=post.id,
        link=new.link,
    )
    return data


def chosen_channels(turn: Turn) -> list[Channel]:
    ids = list(turn.conversation.data.get("channels") or [])
    found = {c.id: c for c in turn.channels() if c.id in ids}
    return [found[i] for i in ids if i in found]


def due_at(turn: Turn) -> datetime | None:
    """The chosen time; None if none was chosen or it has passed (a minute of slack)."""
    when = turn.conversation.data.get("when")
    if when is None:
        return None
    if when == NOW:
        return turn.now()
    moment = datetime.fromisoformat(when)
    return moment if moment >= turn.now() - timedelta(minutes=1) else None


def as_new_post(turn: Turn, due: datetime | None) -> NewPost:
    data = turn.conversation.data
    media_dir = turn.services.media_dir
    return NewPost(
        text=data.get("text") or "",
        channels=[c.name for c in chosen_channels(turn)],
        due_at=due,
        images=[media_dir / image["path"] for image in data["images"]],
        link=data.get("link"),
        variants=dict(data["variants"]),
        author_id=turn.staff.id if turn.staff else None,
        alt_texts=[image.get("alt") for image in data["images"]],
    )


def the_draft(turn: Turn) -> Post | None:
    """The stored draft being edited, if the person (as they are now) may still change it."""
    draft_id = turn.conversation.data.get("draft_id")
    draft = turn.session.get(Post, draft_id) if draft_id is not None else None
    if draft is not None:
        check_may_change(turn.standing, draft)
    return draft


def actor(turn: Turn) -> str:
    return f"staff:{turn.incoming.user_id}"


def keep_as_draft(turn: Turn) -> Post:
    """Store the post being prepared as a draft (the one it came from, if any)."""
    draft = the_draft(turn)
    return save_draft(
        turn.session,
        turn.organization,
        as_new_post(turn, due_at(turn)),
        turn.services.media_dir,
        actor(turn),
        draft=draft,
    )


def park_unfinished(turn: Turn) -> None:
    """Before another conversation takes over, keep an unfinished /new as a draft, so a button
    pressed elsewhere never throws a person's work away."""
    conversation = turn.conversation
    if conversation.flow != FLOW or not (conversation.data.get("text") or "").strip():
        return
    with turn.in_conversation_library():  # a button may act in another library meanwhile
        post = keep_as_draft(turn)
    conversation.end()
    turn.say(turn._("Your unfinished post is kept as draft #{id}: find it in /drafts.", id=post.id))
