"""Telegram channels, through python-telegram-bot's `Bot` pointed at a configurable Bot API URL.

What goes out is decided by `content.domain.preview.telegram_parts` (the same function the preview
uses): a message, a photo with its caption, or an album of 2-10 photos with the caption on the
first; a text longer than a caption goes as photo(s) plus a follow-up message with the full text.
Albums cannot carry an inline keyboard, so with buttons the text and the keyboard follow an album
as a message. User text is plain: it is escaped into HTML and never truncated.

What a bot cannot do, and so this channel does not pretend to:
- read a channel's history: `verify` answers UNKNOWN unless the attempt's progress holds the id
  of a message Telegram confirmed (the engine then asks a person);
- read view counts: `Metrics.views` is always None ("n/a"), never 0;
- ask for reaction counts: Telegram pushes `message_reaction_count` updates to the bot (it must be
  an administrator and list them in `allowed_updates`, see `REACTION_UPDATES`), and the staff
  bot stores each count (`bot.reactions`); `fetch_engagement` reads nothing and says None.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from telegram import (
    Bot,
    ChatMemberAdministrator,
    ChatMemberOwner,
    InputMediaPhoto,
    Message,
    MessageId,
    ReplyParameters,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest

from channels.base import (
    ChannelError,
    Checkpoint,
    CredentialStatus,
    Metrics,
    Outgoing,
    OutgoingImage,
    Published,
    Reconciliation,
    Rejected,
    Sleep,
    Verdict,
    classify,
    no_checkpoint,
)
from channels.telegram_buttons import button_problems, keyboard_of
from channels.telegram_errors import TELEGRAM_ERRORS
from channels.telegram_pools import PooledRequest
from channels.telegram_steps import Step, send_again_if_throttled, share_steps
from content.domain.preview import TelegramPart, TelegramPartKind, preview
from content.domain.states import Platform
from content.redaction import guard_loggers, hide, redact

log = logging.getLogger(__name__)

# Update kinds the bot application must ask for (getUpdates / setWebhook `allowed_updates`).
REACTION_UPDATES = ("message_reaction_count",)

# --- messages a person reads: plain English for now, kept as templates for the catalog ----------

IMAGE_MISSING = "The image file {name} is missing from the media directory."
FOLLOW_UP_FAILED = (
    "The post is published, but its follow-up message was not: {reason} Post the rest by hand "
    "or delete the post and publish it again."
)
CANNOT_VERIFY = (
    "A bot cannot read the channel's history: look at the channel to see whether the post is there."
)
VERIFIED = "Telegram confirmed message {message_id} before the attempt ended."
NOT_ADMIN = (
    "The bot is not an administrator of this channel (status: {status}). Add it as an "
    "administrator with the right to post messages."
)
CANNOT_POST = (
    "The bot is an administrator of this channel but may not post messages: give it that right."
)
CREDENTIALS_OK = "The bot @{username} is an administrator of the channel and may post."


# --- one Bot and HTTP pool per token --------------------------------------------------------------


@dataclass(frozen=True)
class TelegramTimeouts:
    """Client timeouts in seconds, and the size of the shared connection pool."""

    connect: float = 5.0
    read: float = 10.0
    write: float = 10.0
    media_write: float = 30.0
    pool: float = 1.0
    connections: int = 64


@dataclass(eq=False)
class SharedBot:
    """A `Bot` with its HTTP pool, shared by the channels of one bot; also its file_id cache."""

    bot: Bot
    request: PooledRequest
    users: int = 0
    # (path, size, mtime_ns) of an uploaded image -> the file_id Telegram gave it (per bot).
    file_ids: dict[tuple[str, int, int], str] = field(default_factory=dict)


class TelegramBots:
    """Hands out one `SharedBot` per (token, API URL, timeouts); the last `release` closes it.

    Use one registry per event loop: an HTTP pool belongs to the loop that opened it.
    """

    def __init__(self) -> None:
        self._shared: dict[tuple[str, str, TelegramTimeouts], SharedBot] = {}

    def acquire(self, token: str, api_url: str, timeouts: TelegramTimeouts) -> SharedBot:
        key = (token, api_url, timeouts)
        shared = self._shared.get(key)
        if shared is None:
            shared = self._shared[key] = _make_bot(token, api_url, timeouts)
        shared.users += 1
        return shared

    async def release(self, shared: SharedBot) -> None:
        shared.users -= 1
        if shared.users > 0:
            return
        self._shared = {k: v for k, v in self._shared.items() if v is not shared}
        await shared.request.shutdown()


DEFAULT_BOTS = TelegramBots()


def _make_bot(token: str, api_url: str, timeouts: TelegramTimeouts) -> SharedBot:
    _hide_token_in_logs(token)
    request = PooledRequest(
        timeouts.connections,
        connect_timeout=timeouts.connect,
        read_timeout=timeouts.read,
        write_timeout=timeouts.write,
        pool_timeout=timeouts.pool,
        media_write_timeout=timeouts.media_write,
    )
    # PTB keeps a second transport for getUpdates, and would build one of its own (an httpx
    # client with its own TLS context: about 1 MB) if not given one. Channels never poll, so
    # the getUpdates slot shares the one transport.
    # Bot.initialize() is not used: it only fetches getMe, and its InvalidToken names the token.
    bot = Bot(
        token,
        base_url=f"{api_url}/bot",
        base_file_url=f"{api_url}/file/bot",
        request=request,
        get_updates_request=request,
    )
    return SharedBot(bot, request)


# httpx logs every request URL (which holds the token) at INFO, and PTB logs its base URL at
# DEBUG. Logger-level filters run before any handler, whatever logging setup the process has.
_URL_LOGGERS = (
    "httpx",
    "telegram.Bot",
    "telegram.ext.ExtBot",
    "telegram.request.BaseRequest",
    "telegram.request.HTTPXRequest",
)


def _hide_token_in_logs(token: str) -> None:
    hide(token)
    guard_loggers(*_URL_LOGGERS)


# --- the channel ---------------------------------------------------------------------------------


def _html(text: str) -> str:
    # Telegram's HTML needs only <, > and & escaped; quotes are left as typed.
    return html.escape(text, quote=False)


def _file_key(image: OutgoingImage) -> tuple[str, int, int]:
    stat = image.path.stat()
    return (str(image.path), stat.st_size, stat.st_mtime_ns)


class TelegramChannel:
    """One Telegram channel (or group) that a bot posts in.

    Args:
        token: the bot's token (never logged, never in error messages).
        api_url: the Bot API root, e.g. "https://api.telegram.org" or a sandbox's base URL;
            requests go to `<api_url>/bot<token>/<method>`.
        chat_id: the channel's numeric id or "@username".
        timeouts: client timeouts; channels with equal token, URL and timeouts share one Bot.
        bots: the registry sharing Bots between channels (one per event loop).
    """

    platform = Platform.TELEGRAM

    def __init__(
        self,
        token: str,
        api_url: str,
        chat_id: int | str,
        *,
        timeouts: TelegramTimeouts | None = None,
        bots: TelegramBots | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.chat_id = chat_id
        self._sleep = sleep
        self._token = token
        self._bots = bots or DEFAULT_BOTS
        self._shared: SharedBot | None = self._bots.acquire(
            token, api_url.rstrip("/"), timeouts or TelegramTimeouts()
        )
        self._username = chat_id[1:] if isinstance(chat_id, str) and chat_id[:1] == "@" else None

    @property
    def bot(self) -> Bot:
        """The shared python-telegram-bot `Bot` (e.g. for the bot application's own calls)."""
        if self._shared is None:
            raise RuntimeError("the Telegram channel is closed")
        return self._shared.bot

    # -- publishing ------------------------------------------------------------------------------

    def parts(self, outgoing: Outgoing) -> list[TelegramPart]:
        """The requests `publish` will make, or Rejected if the content cannot go out."""
        plan = preview(
            Platform.TELEGRAM,
            outgoing.text,
            len(outgoing.images),
            link=outgoing.link,
            buttons=len(outgoing.buttons),
        )
        problems = [f"{problem}." for problem in plan.problems]
        problems += button_problems(outgoing.buttons)
        problems += [
            IMAGE_MISSING.format(name=image.path.name)
            for image in outgoing.images
            if not image.path.is_file()
        ]
        if problems:
            raise Rejected(" ".join(problems), platform=self.platform)
        return list(plan.telegram_parts)

    async def publish(
        self, outgoing: Outgoing, checkpoint: Checkpoint = no_checkpoint
    ) -> Published:
        """Send the parts in order (or share the source's messages, `outgoing.share`); once
        the first is in, the publication is published.

        A follow-up that may have arrived (a timeout, a dropped connection) is not retried; one
        Telegram refused with "retry after" is sent again after a short wait. A follow-up that
        does not go is reported in `extra["warnings"]` and `extra["unsent_parts"]`, and the first
        part is never resent.
        """
        if outgoing.share is not None:
            steps = share_steps(self.bot, self.chat_id, outgoing.share)
        else:
            keyboard = keyboard_of(outgoing.buttons)
            steps = [
                partial(self._part_step, part, outgoing.images, keyboard)
                for part in self.parts(outgoing)
            ]
        sent: list[Message | MessageId] = []
        notes: list[str] = []
        unsent = 0
        for index, step in enumerate(steps):
            try:
                first = sent[0].message_id if sent else None
                messages = await (self._follow_up(step, first) if sent else step(None))
            except Exception as exc:
                error = self._classify(exc)
                if not sent:
                    raise error from exc
                log.warning("follow-up of message %s failed: %s", sent[0].message_id, error)
                notes.append(FOLLOW_UP_FAILED.format(reason=error.reason))
                unsent = len(steps) - index
                break
            sent.extend(messages)
            if index + 1 < len(steps):
                # Before the follow-up: if we crash now, the engine knows the post is out.
                await checkpoint(self._progress(sent))
        return self._published(sent, notes, unsent)

    async def _part_step(
        self,
        part: TelegramPart,
        images: Sequence[OutgoingImage],
        keyboard: Any,
        first: int | None,
    ) -> list[Message | MessageId]:
        # The rest of a long caption hangs under its photos, as a person would reply.
        return list(await self._send(part, images, keyboard, first if part.reply else None))

    async def _follow_up(self, step: Step, first: int | None) -> list[Message | MessageId]:
        """A follow-up step, sent again after Telegram's "retry after" while the wait is short."""
        return await send_again_if_throttled(step, first, self._classify, self._sleep)

    async def _send(
        self,
        part: TelegramPart,
        images: Sequence[OutgoingImage],
        keyboard: Any,
        reply_to: int | None = None,
    ) -> list[Message]:
        try:
            return await self._send_once(part, images, keyboard, reply_to, use_file_ids=True)
        except BadRequest as exc:
            # A cached file_id Telegram no longer knows: nothing was posted, upload instead.
            if part.kind is TelegramPartKind.MESSAGE or not self._forget_file_ids(images, exc):
                raise
        return await self._send_once(part, images, keyboard, reply_to, use_file_ids=False)

    async def _send_once(
        self,
        part: TelegramPart,
        images: Sequence[OutgoingImage],
        keyboard: Any,
        reply_to: int | None,
        *,
        use_file_ids: bool,
    ) -> list[Message]:
        bot = self.bot
        markup = keyboard if part.buttons else None
        caption = _html(part.text) or None
        if part.kind is TelegramPartKind.MESSAGE:
            message = await bot.send_message(
                self.chat_id,
                _html(part.text),
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                # The rest of a long caption hangs under its photos, as a person would reply.
                reply_parameters=ReplyParameters(reply_to) if reply_to is not None else None,
            )
            return [message]
        photos = [self._photo(image, use_file_ids) for image in images]
        if part.kind is TelegramPartKind.PHOTO:
            message = await bot.send_photo(
                self.chat_id,
                photos[0],
                caption=caption,
                parse_mode=ParseMode.HTML if caption else None,
                reply_markup=markup,
            )
            messages = [message]
        else:
            media = [
                InputMediaPhoto(
                    # InputMedia takes a Path for a local-mode server's file:// URI: upload bytes.
                    photo.read_bytes() if isinstance(photo, Path) else photo,
                    caption=caption if i == 0 else None,
                    parse_mode=ParseMode.HTML if caption and i == 0 else None,
                    filename=photo.name if isinstance(photo, Path) else None,
                )
                for i, photo in enumerate(photos)
            ]
            messages = list(await bot.send_media_group(self.chat_id, media))
        self._remember_file_ids(images, messages)
        return messages

    def _photo(self, image: OutgoingImage, use_file_ids: bool) -> str | Path:
        cached = self._file_ids.get(_file_key(image)) if use_file_ids else None
        return cached or image.path

    @property
    def _file_ids(self) -> dict[tuple[str, int, int], str]:
        return self._shared.file_ids if self._shared else {}

    def _remember_file_ids(self, images: Sequence[OutgoingImage], messages: list[Message]) -> None:
        for image, message in zip(images, messages, strict=False):
            if message.photo:
                self._file_ids[_file_key(image)] = message.photo[-1].file_id

    def _forget_file_ids(self, images: Sequence[OutgoingImage], exc: BadRequest) -> bool:
        """Drop the cached ids of `images` if `exc` is about them; True if any were dropped."""
        if "file" not in exc.message.lower():
            return False
        keys = [_file_key(image) for image in images]
        dropped = [self._file_ids.pop(key) for key in keys if key in self._file_ids]
        return bool(dropped)

    def _progress(self, sent: Sequence[Message | MessageId]) -> dict[str, Any]:
        first = sent[0] if sent else None
        if isinstance(first, Message):
            # The answer names the chat: no getChat needed for the public username.
            self._username = first.chat.username
        return {
            "chat_id": first.chat.id if isinstance(first, Message) else self.chat_id,
            "message_ids": [m.message_id for m in sent],
            "username": self._username,
        }

    def _published(
        self, sent: Sequence[Message | MessageId], notes: list[str], unsent: int
    ) -> Published:
        progress = self._progress(sent)
        extra: dict[str, Any] = dict(progress)
        if notes:
            extra["warnings"] = notes
            extra["unsent_parts"] = unsent
        return self._published_from(progress, extra)

    def _published_from(self, progress: Mapping[str, Any], extra: Mapping[str, Any]) -> Published:
        first = int(progress["message_ids"][0])
        username = progress.get("username")
        url = f"https://t.me/{username}/{first}" if username else None
        return Published(str(first), url, dict(extra))

    # -- the rest of the Channel protocol --------------------------------------------------------

    async def verify(
        self, outgoing: Outgoing, progress: Mapping[str, Any], sent_after: datetime
    ) -> Reconciliation:
        """POSTED if Telegram confirmed a message of the attempt, else UNKNOWN: a bot cannot read
        channel history, so a person has to look."""
        if progress.get("message_ids"):
            published = self._published_from(progress, progress)
            return Reconciliation(
                Verdict.POSTED, published, VERIFIED.format(message_id=published.remote_id)
            )
        return Reconciliation(Verdict.UNKNOWN, None, CANNOT_VERIFY)

    async def fetch_engagement(self, remote_ids: Sequence[str]) -> dict[str, Metrics]:
        """Nothing the Bot API can read: reactions and views are None ("n/a"), never 0.

        Makes no request: the Bot API has no call that reads counts (reaction totals arrive as
        updates to the staff bot, which stores them itself).
        """
        return {
            remote_id: Metrics(remote_id, reactions=None, views=None, source="bot_updates")
            for remote_id in remote_ids
        }

    async def check_credentials(self) -> CredentialStatus:
        """getMe, then getChatMember for the bot: valid only if it may post in the channel.

        Raises NotSent (or RateLimited) when Telegram could not be asked; every answer that
        says something about the token or the rights is a CredentialStatus.
        """
        try:
            me = await self.bot.get_me()
            member = await self.bot.get_chat_member(self.chat_id, me.id)
        except Exception as exc:
            error = self._classify(exc, idempotent=True)
            if error.retry_safe:
                raise error from exc
            return CredentialStatus(False, error.reason)
        if isinstance(member, ChatMemberOwner):
            return CredentialStatus(True, CREDENTIALS_OK.format(username=me.username))
        if not isinstance(member, ChatMemberAdministrator):
            return CredentialStatus(False, NOT_ADMIN.format(status=member.status))
        if member.can_post_messages is False:
            return CredentialStatus(False, CANNOT_POST)
        return CredentialStatus(True, CREDENTIALS_OK.format(username=me.username))

    async def close(self) -> None:
        """Release the shared Bot; the last channel using it closes its HTTP pool."""
        shared, self._shared = self._shared, None
        if shared is not None:
            await self._bots.release(shared)

    def _classify(self, exc: BaseException, *, idempotent: bool = False) -> ChannelError:
        error = classify(exc, TELEGRAM_ERRORS, self.platform, idempotent=idempotent)
        if self._token in error.reason:  # belt and braces: reasons never quote URLs
            error.reason = redact(error.reason, [self._token])
            error.args = (error.reason,)
        return error
