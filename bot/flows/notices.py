"""The buttons under the engine's notices: retry or edit a failed publication, settle an
unconfirmed one, publish, reschedule or drop a missed one (content.queueing.settle does the
work)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.access import Permission, check_may_change
from bot.describe import describe_publication
from bot.flows.events import TRY_AGAIN, actor, example_time
from bot.keyboards import typed_time
from bot.router import Router
from bot.turn import Turn
from content.domain.callback_data import CallbackData
from content.domain.states import PublicationState
from content.domain.templates import local_time
from content.errors import InvalidInput
from content.i18n import N_, explain
from content.queueing.settle import (
    drop_publication,
    get_publication,
    publish_missed_now,
    replace_text_and_retry,
    reschedule_publication,
    retry_failed,
    settle_unconfirmed,
)

FLOW = "settle"
NoticeActionName = Literal["retry", "yes", "no", "now", "drop", "edit", "later"]
DONE = {
    "retry": N_("🔁 {what} on {channel} goes out again now."),
    "yes": N_("✅ Noted: {what} is on {channel}."),
    "no": N_("🔁 {what} goes out on {channel} again now."),
    "now": N_("🚀 {what} goes out on {channel} now."),
    "drop": N_("🗑 {what} on {channel} is dropped."),
}

routes = Router()


@dataclass(frozen=True)
class NoticeAction(CallbackData, prefix="ntc"):
    """A button under one of the engine's notices about a publication (bot.notify)."""

    action: NoticeActionName
    publication_id: int


@routes.button(NoticeAction, Permission.EDIT)
async def pressed(turn: Turn, pressed: NoticeAction) -> None:
    action, publication_id = pressed.action, pressed.publication_id
    session, org, now, who = turn.session, turn.organization, turn.now(), actor(turn)
    post = get_publication(session, org, publication_id).post
    if post is not None:
        check_may_change(turn.standing, post)
    if action == "retry":
        publication = retry_failed(session, org, publication_id, now=now, actor=who)
    elif action in ("yes", "no"):
        publication = settle_unconfirmed(
            session, org, publication_id, action == "yes", now=now, actor=who
        )
    elif action == "now":
        publication = publish_missed_now(session, org, publication_id, now=now, actor=who)
    elif action == "drop":
        publication = drop_publication(session, org, publication_id, actor=who)
    else:  # edit, later
        await _ask(turn, action, publication_id)
        return
    turn.queue_changed = True
    done = DONE[action]
    turn.edit(
        turn._(
            done,
            what=describe_publication(publication, turn.language),
            channel=publication.channel.name,
        )
    )


async def _ask(turn: Turn, action: str, publication_id: int) -> None:
    publication = get_publication(turn.session, turn.organization, publication_id)
    wanted = PublicationState.FAILED if action == "edit" else PublicationState.MISSED
    if publication.state is not wanted:
        raise InvalidInput(
            "publication {id} is {state} now, so there is nothing to do: it was settled already",
            id=publication.id,
            state=publication.state.value,
        )
    what = describe_publication(publication, turn.language)
    if action == "edit":
        turn.conversation.start(FLOW, "text", publication_id=publication_id)
        if publication.post is not None:
            current = publication.post.text_for(publication.channel.language)
        else:
            current = (publication.event.description if publication.event else None) or ""
        turn.say(
            turn._(
                "Send the new text for {what} on {channel}; it goes out at once. "
                "Now it reads:\n\n{text}",
                what=what,
                channel=publication.channel.name,
                text=current or "—",
            )
        )
    else:
        turn.conversation.start(FLOW, "when", publication_id=publication_id)
        turn.say(
            turn._(
                "When should {what} go out on {channel}? Send now or a local date and time, "
                "e.g. {example}.",
                what=what,
                channel=publication.channel.name,
                example=example_time(turn),
            )
        )


@routes.step(FLOW, "text", Permission.EDIT)
async def new_text(turn: Turn) -> None:
    try:
        publication = replace_text_and_retry(
            turn.session,
            turn.organization,
            int(turn.conversation.data["publication_id"]),
            turn.incoming.text or "",
            now=turn.now(),
            actor=actor(turn),
        )
    except InvalidInput as err:
        turn.say(explain(err, turn.language) + "\n" + turn._(TRY_AGAIN))
        return
    turn.conversation.end()
    turn.queue_changed = True
    retried = DONE["retry"]
    turn.say(
        turn._(
            retried,
            what=describe_publication(publication, turn.language),
            channel=publication.channel.name,
        )
    )


@routes.step(FLOW, "when", Permission.EDIT)
async def new_time(turn: Turn) -> None:
    try:
        due_at = typed_time(turn, turn.incoming.text or "")
        publication = reschedule_publication(
            turn.session,
            turn.organization,
            int(turn.conversation.data["publication_id"]),
            due_at,
            now=turn.now(),
            actor=actor(turn),
        )
    except InvalidInput as err:
        turn.say(explain(err, turn.language) + "\n" + turn._(TRY_AGAIN))
        return
    turn.conversation.end()
    turn.queue_changed = True
    turn.say(
        turn._(
            "🕒 {what} goes out on {channel} {when}.",
            what=describe_publication(publication, turn.language),
            channel=publication.channel.name,
            when=local_time(due_at, turn.tz, turn.language, turn.now()),
        )
    )
