"""The single entry every Telegram update passes through: dedupe, who, route, commit, answer."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.conversation import first_time, hold, load, save
from bot.reactions import record_reaction_counts
from bot.router import Router
from bot.services import BotServices
from bot.turn import Incoming, Keyboard, Reply, Turn
from content.domain.languages import LANGUAGES
from content.errors import InvalidInput
from content.i18n import N_, explain, translate
from content.queueing.followers import started
from content.storage.models import BotConversation, StaffMember

log = logging.getLogger(__name__)
SERVICES = "afisha_services"
ROUTER = "afisha_router"
SOMETHING_WRONG = N_("Something went wrong on our side; nothing was changed. Please try again.")


def _language(code: str | None, fallback: str) -> str:
    short = (code or "").split("-")[0].lower()
    return short if short in LANGUAGES else fallback


async def read_incoming(update: Update, bot: Bot) -> Incoming | None:
    """What the flows need from an update; photos and documents are downloaded first, so no
    network call happens while the database transaction is open."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None:
        return None
    incoming = Incoming(update.update_id, user.id, chat.id, user_language=user.language_code)
    if update.callback_query is not None:
        query = update.callback_query
        incoming.callback_data = query.data or ""
        if query.message is not None:
            incoming.callback_message_id = query.message.message_id
        return incoming
    message = update.message
    if message is None:
        return None
    incoming.forwarded = message.forward_origin is not None
    text = message.text or message.caption
    incoming.text = text
    if message.text and message.text.startswith("/"):
        head, _, rest = message.text[1:].partition(" ")
        incoming.command = head.split("@")[0].lower()
        incoming.args = rest.strip()
    if message.photo:
        incoming.photo_path = await _download(bot, message.photo[-1].file_id, ".jpg")
    elif message.document is not None:
        incoming.document_name = message.document.file_name
        suffix = Path(message.document.file_name or "file").suffix
        incoming.document_path = await _download(bot, message.document.file_id, suffix)
    return incoming


async def _download(bot: Bot, file_id: str, suffix: str) -> Path:
    telegram_file = await bot.get_file(file_id)
    handle = tempfile.NamedTemporaryFile(prefix="afisha-", suffix=suffix, delete=False)  # noqa: SIM115
    handle.close()
    await telegram_file.download_to_drive(handle.name)
    return Path(handle.name)


def _markup(keyboard: Keyboard | None) -> InlineKeyboardMarkup | None:
    if not keyboard:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(b.text, url=b.url)
                if b.url
                else InlineKeyboardButton(b.text, callback_data=b.data)
                for b in row
            ]
            for row in keyboard
        ]
    )


async def send(bot: Bot, reply: Reply, default_chat: int) -> int | None:
    """Send or edit one reply; returns the message id."""
    chat_id = reply.chat_id or default_chat
    markup = _markup(reply.keyboard)
    if reply.edit_message_id is not None:
        try:
            edited = await bot.edit_message_text(
                reply.text, chat_id=chat_id, message_id=reply.edit_message_id, reply_markup=markup
            )
            return edited.message_id if hasattr(edited, "message_id") else reply.edit_message_id
        except TelegramError as err:
            if "not modified" in str(err).lower():
                return reply.edit_message_id
            log.info("could not edit message %s (%s); sending anew", reply.edit_message_id, err)
    if reply.document is not None:
        name, contents = reply.document
        sent = await bot.send_document(
            chat_id, contents, filename=name, caption=reply.text[:1024], reply_markup=markup
        )
    elif reply.photo is not None:
        photo: Any = reply.photo.read_bytes() if isinstance(reply.photo, Path) else reply.photo
        sent = await bot.send_photo(chat_id, photo, caption=reply.text[:1024], reply_markup=markup)
    else:
        sent = await bot.send_message(chat_id, reply.text, reply_markup=markup)
    return sent.message_id


@dataclass
class Outcome:
    """What a handled update leaves to do after its transaction: replies and signals."""

    replies: list[Reply]
    callback_answer: str | None = None
    queue_changed: bool = False
    callback_start: str | None = None
    later: list[Callable[[], Awaitable[list[Reply]]]] = field(default_factory=list)


class Dispatcher:
    def __init__(self, services: BotServices, router: Router) -> None:
        self.services = services
        self.router = router

    async def __call__(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        bot = context.bot
        if update.message_reaction_count is not None:
            with self.services.sessions.begin() as session:
                record_reaction_counts(
                    session, update.message_reaction_count, self.services.clock.now()
                )
            return
        incoming = await read_incoming(update, bot)
        if incoming is None:
            return
        try:
            outcome = await self._handle(incoming)
        finally:
            for path in (incoming.photo_path, incoming.document_path):
                if path is not None:
                    path.unlink(missing_ok=True)
        if outcome is not None:
            await self._deliver(bot, update, incoming, outcome)

    async def _handle(self, incoming: Incoming) -> Outcome | None:
        services = self.services
        language = _language(incoming.user_language, services.default_language)
        try:
            with services.sessions.begin() as session:
                if not first_time(session, incoming.update_id, services.clock.now()):
                    return None  # a repeated update: it already acted
                hold(session, incoming.user_id)  # another replica may have one of theirs
                memberships = list(
                    session.scalars(
                        select(StaffMember)
                        .where(StaffMember.telegram_user_id == incoming.user_id)
                        .order_by(StaffMember.id)
                    )
                )
                if memberships:
                    language = memberships[0].language
                if incoming.chat_id == incoming.user_id:  # a private chat: the bot may write
                    started(session, incoming.user_id, language, services.clock.now())
                conversation = load(session, incoming.user_id, incoming.chat_id)
                turn = Turn(
                    incoming, services, session, memberships, language, conversation, self.router
                )
                await self.router.route(turn)
                turn.remember_organization()
                save(session, conversation)
            return Outcome(
                turn.replies,
                turn.callback_answer,
                turn.queue_changed,
                turn.callback_start,
                turn.later,
            )
        except InvalidInput as err:
            # The transaction rolled back: nothing half-written, and the person hears why.
            return Outcome([Reply(explain(err, language))])
        except Exception:
            log.exception("handling update %s failed", incoming.update_id)
            return Outcome([Reply(translate(language, SOMETHING_WRONG))])

    async def _deliver(
        self, bot: Bot, update: Update, incoming: Incoming, outcome: Outcome
    ) -> None:
        remembered: dict[str, int] = {}
        for action in outcome.later:
            outcome.replies.extend(await action())
        for reply in outcome.replies:
            try:
                message_id = await send(bot, reply, incoming.chat_id)
            except TelegramError:
                log.warning("a reply to user %s could not be sent", incoming.user_id, exc_info=True)
                continue
            if reply.remember_as and message_id is not None:
                remembered[reply.remember_as] = message_id
        if update.callback_query is not None:
            try:
                url = None
                if outcome.callback_start is not None:
                    url = f"https://t.me/{bot.username}?start={outcome.callback_start}"
                await update.callback_query.answer(outcome.callback_answer, url=url)
            except TelegramError:
                log.info("callback %s could not be answered", update.callback_query.id)
        if remembered:
            self._remember(incoming.user_id, remembered)
        if outcome.queue_changed:
            self.services.queue_changed()

    def _remember(self, user_id: int, ids: dict[str, int]) -> None:
        with self.services.sessions.begin() as session:
            hold(session, user_id)  # not over a step another replica is writing
            row = session.get(BotConversation, user_id)
            if row is not None:
                row.data = {**(row.data or {}), **ids}
