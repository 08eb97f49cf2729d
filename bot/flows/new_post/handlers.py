"""/new: text or a forwarded message, photos (with alt texts), language versions, channels,
time, a preview per channel, then queued or sent for approval: the routes and what each
button and message does (what the person sees is in bot.flows.new_post.screens).

Every step keeps the post in the conversation data, so a restart loses nothing; buttons name
choices ("np:ch:3"), never carry the post itself.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.access import Permission, check_may_change
from bot.drafting import (
    FLOW,
    NOW,
    OpenDraft,
    actor,
    as_new_post,
    chosen_channels,
    due_at,
    fresh,
    from_post,
    keep_as_draft,
    park_unfinished,
    the_draft,
)
from bot.flows.approvals import ask_managers
from bot.flows.new_post.screens import (
    LanguageVersion,
    RemoveVersion,
    Step,
    Time,
    ToggleChannel,
    advance,
    alt_keyboard,
    ask_time,
    content_keyboard,
    post_time_keyboard,
    show_channels,
    show_content,
    show_languages,
    show_preview,
    text_for,
    waits_for_approval,
)
from bot.flows.queue import DraftsPage, QueuePage
from bot.keyboards import chosen_time, pick_prompt, typed_time
from bot.router import STALE_BUTTON, Router
from bot.turn import Button, Turn
from content.domain.languages import LANGUAGES
from content.domain.rules import ALBUM_MAX, fit_problems
from content.domain.states import PostStatus
from content.domain.templates import local_time
from content.errors import InvalidInput
from content.i18n import N_, explain
from content.queueing.drafts import submit_for_approval
from content.queueing.scheduling import queue_post
from content.storage.media import inspect_image, store_image
from content.storage.models import Channel, Post

NOT_OPEN = N_(
    "This draft is no longer open: it was queued, saved or cancelled. Send /new to start another."
)


routes = Router()


routes.interruptions[FLOW] = park_unfinished


@routes.command("new", Permission.EDIT, N_("Prepare a post"), per_organization=True)
async def new(turn: Turn) -> None:
    turn.conversation.start(FLOW, "content", **fresh())
    if turn.incoming.args:
        turn.conversation.data["text"] = turn.incoming.args
        show_content(turn)
        return
    turn.say(
        turn._(
            "Send the text of the post, or forward a message. Add photos: one, or an album "
            "of up to {limit}. /cancel stops at any step.",
            limit=ALBUM_MAX,
        )
    )


@routes.step(FLOW, "content", Permission.EDIT)
async def content(turn: Turn) -> None:
    _take_content(turn)


@routes.step(FLOW, "alt", Permission.EDIT)
async def alt(turn: Turn) -> None:
    text = (turn.incoming.text or "").strip()
    if not text:
        turn.say(turn._("Describe the photo in words, or press Skip."), alt_keyboard(turn))
        return
    data = turn.conversation.data
    data["images"][data["alt_done"]]["alt"] = text[:1000]
    data["alt_done"] += 1
    advance(turn)


@routes.step(FLOW, "variant", Permission.EDIT)
async def variant(turn: Turn) -> None:
    text = (turn.incoming.text or "").strip()
    data = turn.conversation.data
    if not text:
        turn.say(turn._("Send the text of this language version as a message."))
        return
    data["variants"][data.pop("variant_language")] = text
    show_preview(turn)


@routes.step(FLOW, "channels", Permission.EDIT)
async def channels_typed(turn: Turn) -> None:
    turn.say(turn._("Choose the channels with the buttons, then press Next."))
    show_channels(turn)


@routes.step(FLOW, "time", Permission.EDIT)
async def time_typed(turn: Turn) -> None:
    text = (turn.incoming.text or "").strip()
    if not text:
        ask_time(turn)
        return
    try:
        moment = typed_time(turn, text)
    except InvalidInput as err:
        turn.say(explain(err, turn.language), post_time_keyboard(turn))
        return
    turn.conversation.data["when"] = moment.isoformat()
    advance(turn)


@routes.step(FLOW, "preview", Permission.EDIT)
async def preview_typed(turn: Turn) -> None:
    turn.say(turn._("The post is ready: press a button under the preview."))
    show_preview(turn)


def _open(turn: Turn) -> bool:
    """Whether a button of this flow belongs to the conversation the person is in."""
    if turn.conversation.flow == FLOW:
        return True
    turn.say(turn._(NOT_OPEN))
    return False


@routes.button(Time, Permission.EDIT)
async def time_pressed(turn: Turn, pressed: Time) -> None:
    if not _open(turn):
        return
    try:
        moment = chosen_time(turn, pressed.choice, turn.conversation.data.get("channels"))
    except InvalidInput as err:
        turn.say(explain(err, turn.language), post_time_keyboard(turn))
        return
    if moment is None:
        turn.conversation.goto("time")
        turn.say(pick_prompt(turn))
        return
    data = turn.conversation.data
    data["when"] = NOW if pressed.choice == "now" else moment.isoformat()
    advance(turn)


@routes.button(Step, Permission.EDIT)
async def step_pressed(turn: Turn, pressed: Step) -> None:
    if _open(turn):
        ACTIONS[pressed.action](turn)


@routes.button(ToggleChannel, Permission.EDIT)
async def channel_pressed(turn: Turn, pressed: ToggleChannel) -> None:
    turn.check_conversation_channel(pressed.channel_id)
    if _open(turn):
        _toggle(turn, pressed.channel_id)


@routes.button(LanguageVersion, Permission.EDIT)
async def language_pressed(turn: Turn, pressed: LanguageVersion) -> None:
    if _open(turn):
        _variant(turn, pressed.code)


@routes.button(RemoveVersion, Permission.EDIT)
async def remove_version_pressed(turn: Turn, pressed: RemoveVersion) -> None:
    if _open(turn):
        _remove_variant(turn, pressed.code)


@routes.button(OpenDraft, Permission.EDIT)
async def open_pressed(turn: Turn, pressed: OpenDraft) -> None:
    await _open_draft(turn, pressed.post_id)


def _take_content(turn: Turn) -> None:
    incoming, data = turn.incoming, turn.conversation.data
    image = incoming.photo_path or incoming.document_path
    if image is not None:
        if len(data["images"]) >= ALBUM_MAX:
            turn.say(
                turn._(
                    "A post holds at most {limit} photos, so this one was not added. Press "
                    "Next to go on with {limit}, or remove the photos and choose again.",
                    limit=ALBUM_MAX,
                ),
                content_keyboard(turn),
            )
            return
        try:
            facts = inspect_image(image)
        except InvalidInput:
            turn.say(
                turn._(
                    "«{name}» is not an image I can publish: send a JPEG, PNG, WebP or GIF "
                    "picture, as a photo or as a file.",
                    name=incoming.document_name or "file",
                ),
                content_keyboard(turn),
            )
            return
        store_image(facts, turn.services.media_dir)
        data["images"].append({"path": facts.relative_path, "alt": None})
        if incoming.text and not data.get("text"):
            data["text"] = incoming.text.strip()  # an album's caption is the post's text
    elif incoming.text and incoming.text.strip():
        data["text"] = incoming.text.strip()
    else:
        turn.say(turn._("Send the text of the post, a forwarded message or photos."))
        return
    show_content(turn)


def _next(turn: Turn) -> None:
    if not (turn.conversation.data.get("text") or "").strip():
        turn.say(
            turn._(
                "The post has no text yet: send it as a message (a photo's caption counts too)."
            ),
            content_keyboard(turn),
        )
        return
    advance(turn)


def _remove_photos(turn: Turn) -> None:
    data = turn.conversation.data
    data["images"], data["alt_done"] = [], 0
    turn.conversation.goto("content")
    show_content(turn)


def _edit(turn: Turn) -> None:
    turn.conversation.goto("content")
    turn.say(turn._("Send the new text (it replaces the old one), or more photos."))
    show_content(turn)


def _skip_alt(turn: Turn, *, every: bool = False) -> None:
    data = turn.conversation.data
    if turn.conversation.step != "alt":
        advance(turn)
        return
    data["alt_done"] = len(data["images"]) if every else data["alt_done"] + 1
    advance(turn)


def _toggle(turn: Turn, channel_id: int) -> None:
    data = turn.conversation.data
    channel = turn.session.get(Channel, channel_id)
    if channel is None:
        turn.answer(turn._(STALE_BUTTON))
        return
    data["channels_done"] = False
    if channel.id in data["channels"]:
        data["channels"].remove(channel.id)
    else:
        problems = fit_problems(
            channel.platform, text_for(turn, channel), len(data["images"]), channel.name
        )
        if problems:
            lines = [turn._(p.template, **p.params) for p in problems]
            lines.append(
                turn._(
                    "So {channel} stays off. Change the text or the photos, or choose another "
                    "channel.",
                    channel=channel.name,
                )
            )
            turn.answer(turn._("{channel} cannot take this post", channel=channel.name))
            turn.say(
                "\n".join(lines),
                [[Button(turn._("✏️ Text and photos"), data=Step("edit").pack())]],
            )
            return
        data["channels"].append(channel.id)
    show_channels(turn, edit=True)


def _channels_chosen(turn: Turn) -> None:
    data = turn.conversation.data
    if not chosen_channels(turn):
        turn.answer(turn._("Choose at least one channel."))
        turn.say(turn._("Choose at least one channel, then press Next."))
        return
    data["channels_done"] = True
    advance(turn)


def _choose_channels(turn: Turn) -> None:
    turn.conversation.data["channels_done"] = False
    show_channels(turn)


def _choose_time(turn: Turn) -> None:
    turn.conversation.data["when"] = None
    ask_time(turn)


def _variant(turn: Turn, code: str) -> None:
    turn.conversation.data["variant_language"] = code
    turn.conversation.goto("variant")
    rows = [[Button(turn._("◀ Back to the preview"), data=Step("back").pack())]]
    if code in turn.conversation.data["variants"]:
        rows.insert(0, [Button(turn._("🗑 Remove this version"), data=RemoveVersion(code).pack())])
    turn.say(turn._("Send the text for channels in {language}.", language=LANGUAGES[code]), rows)


def _remove_variant(turn: Turn, code: str) -> None:
    turn.conversation.data["variants"].pop(code, None)
    turn.conversation.data.pop("variant_language", None)
    show_preview(turn)


def _back(turn: Turn) -> None:
    turn.conversation.data.pop("variant_language", None)
    advance(turn)


def _confirm(turn: Turn) -> None:
    if turn.conversation.step != "preview":
        # A button under an older preview: show where the post really is.
        advance(turn)
        return
    due = due_at(turn)
    if due is None:
        advance(turn)
        return
    org, draft = turn.organization, the_draft(turn)
    new = as_new_post(turn, due)
    media_dir = turn.services.media_dir
    names = ", ".join(new.channels)
    if waits_for_approval(turn):
        post = submit_for_approval(turn.session, org, new, media_dir, actor(turn), draft=draft)
        turn.conversation.end()
        turn.say(
            turn._(
                "📨 Post #{id} is waiting for a manager's approval. I will tell you their answer.",
                id=post.id,
            )
        )
        ask_managers(turn, post)
        return
    post = queue_post(turn.session, org, new, media_dir, actor(turn), draft=draft)
    turn.conversation.end()
    turn.queue_changed = True
    when = local_time(due, turn.tz, turn.language, turn.now())
    turn.say(
        turn._(
            "✅ Post #{id} is queued: it goes out {when} to {channels}.",
            id=post.id,
            when=when,
            channels=names,
        ),
        [[Button(turn._("📋 Open the queue"), data=QueuePage(0).pack())]],
    )


def _save(turn: Turn) -> None:
    if not (turn.conversation.data.get("text") or "").strip():
        turn.say(turn._("A draft needs a text: send it as a message first."))
        return
    post = keep_as_draft(turn)
    turn.conversation.end()
    turn.say(
        turn._("💾 Saved as draft #{id}. Open it again with /drafts.", id=post.id),
        [[Button(turn._("📝 My drafts"), data=DraftsPage(0).pack())]],
    )


def _quit(turn: Turn) -> None:
    draft_id = turn.conversation.data.get("draft_id")
    turn.conversation.end()
    if draft_id is not None:
        turn.say(turn._("Cancelled. Draft #{id} is kept as it was.", id=draft_id))
    else:
        turn.say(turn._("Cancelled. Nothing was saved."))


async def _open_draft(turn: Turn, post_id: int) -> None:
    """Continue a stored draft in /new (from /drafts, or from a rejection notice)."""
    post = turn.session.get(Post, post_id)
    if post is None or post.organization_id != turn.organization.id:
        turn.say(turn._("That draft no longer exists."))
        return
    check_may_change(turn.standing, post)
    if post.status is not PostStatus.DRAFT:
        turn.say(turn._("Post #{id} is no longer a draft.", id=post_id))
        return
    conversation = turn.conversation
    if conversation.flow == FLOW and conversation.data.get("draft_id") == post_id:
        advance(turn)  # already open here: carry on where it was
        return
    park_unfinished(turn)
    conversation.start(FLOW, "content", **from_post(turn, post))
    turn.say(turn._("✏️ Draft #{id} is open again.", id=post_id))
    if post.review_note:
        turn.say(turn._("It was returned with this note: «{note}»", note=post.review_note))
    advance(turn)


ACTIONS: dict[str, Callable[[Turn], None]] = {
    "next": _next,
    "nophotos": _remove_photos,
    "edit": _edit,
    "alt": _skip_alt,
    "altall": lambda turn: _skip_alt(turn, every=True),
    "chok": _channels_chosen,
    "chan": _choose_channels,
    "time": _choose_time,
    "langs": show_languages,
    "back": _back,
    "ok": _confirm,
    "save": _save,
    "quit": _quit,
}
