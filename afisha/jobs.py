"""The periodic jobs of the running processes: what runs, and how often."""

from __future__ import annotations

from typing import TYPE_CHECKING

from afisha.wiring import Afisha
from channels.base import Outgoing
from channels.telegram import TelegramChannel
from scheduler.feeds import poll_feeds
from scheduler.followers import remind_followers
from scheduler.timing import PeriodicJob
from scheduler.tokens import check_tokens

if TYPE_CHECKING:
    from afisha.runtime import EngineParts


def follower_reminders(afisha: Afisha, parts: EngineParts) -> PeriodicJob | None:
    """Private reminders to followers who pressed "Remind me" (needs the bot's token)."""
    settings = afisha.settings
    token = settings.telegram_token
    if not token:
        return None

    async def send(user_id: int, text: str) -> None:
        channel = TelegramChannel(
            token, settings.telegram_api_url, user_id, bots=parts.factory.bots
        )
        await channel.publish(Outgoing(text=text))

    return PeriodicJob(
        "follower-reminders",
        lambda: remind_followers(afisha.sessions, parts.engine.clock, send),
        60,
    )


def standard_jobs(afisha: Afisha, parts: EngineParts) -> list[PeriodicJob]:
    jobs = [
        follower_reminders(afisha, parts),
        PeriodicJob("token-check", lambda: check_tokens(parts.engine), 6 * 3600),
        PeriodicJob(
            "feeds",
            lambda: poll_feeds(
                afisha.sessions, parts.engine.clock, media_dir=afisha.settings.media_path
            ),
            600,
        ),
    ]
    return [job for job in jobs if job is not None]
