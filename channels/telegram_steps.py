"""The steps of one Telegram publish after the first, and shares: a message already in one
channel copied (copyMessage) or forwarded (forwardMessage) into another, one step per message.

A source of several messages (an album, a photo with its follow-up text) is shared one message
at a time, in order: an album arrives as its photos one after another, since the Bot API's
copyMessages/forwardMessages are not used.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import Bot, Message, MessageId

from channels.base import ChannelError, RateLimited, Rejected, ShareOf, Sleep
from content.domain.states import Platform, ShareMode

log = logging.getLogger("channels.telegram")

# A follow-up Telegram refused with "retry after N" is surely not out: it is sent again after the
# wait, so long as the wait is short (the slot is held meanwhile) and a few times at most.
FOLLOW_UP_MAX_WAIT = 30.0
FOLLOW_UP_TRIES = 3

# One step of a publish: given the first message id sent so far, send and return what was sent.
Step = Callable[[int | None], Awaitable[list[Message | MessageId]]]

NOT_A_TELEGRAM_SHARE = (
    "A Telegram channel can copy or forward a Telegram message, not share a {mode}."
)
NOTHING_TO_SHARE = "The shared publication has no Telegram message to copy or forward."


def share_steps(bot: Bot, chat_id: int | str, share: ShareOf) -> list[Step]:
    """The requests that share `share` into `chat_id`, one per source message; Rejected before
    any request when it cannot be shared here."""
    if share.mode not in (ShareMode.COPY, ShareMode.FORWARD):
        raise Rejected(NOT_A_TELEGRAM_SHARE.format(mode=share.mode), platform=Platform.TELEGRAM)
    if share.chat_id is None or not share.message_ids:
        raise Rejected(NOTHING_TO_SHARE, platform=Platform.TELEGRAM)
    source = share.chat_id
    return [_step(bot, chat_id, source, message_id, share.mode) for message_id in share.message_ids]


def _step(
    bot: Bot, chat_id: int | str, source: int | str, message_id: int, mode: ShareMode
) -> Step:
    async def send(_first: int | None) -> list[Message | MessageId]:
        if mode is ShareMode.FORWARD:
            return [await bot.forward_message(chat_id, source, message_id)]
        return [await bot.copy_message(chat_id, source, message_id)]

    return send


async def send_again_if_throttled(
    step: Step,
    first: int | None,
    classify: Callable[[BaseException], ChannelError],
    sleep: Sleep,
) -> list[Message | MessageId]:
    """A follow-up step, sent again after Telegram's "retry after" while the wait is short."""
    for tries_left in range(FOLLOW_UP_TRIES - 1, -1, -1):
        try:
            return await step(first)
        except Exception as exc:
            error = classify(exc)
            if (
                not isinstance(error, RateLimited)
                or tries_left == 0
                or error.retry_after > FOLLOW_UP_MAX_WAIT
            ):
                raise
            log.info("follow-up throttled: sent again in %.0f s", error.retry_after)
            await sleep(error.retry_after)
    raise AssertionError("unreachable")
