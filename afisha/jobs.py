"""Every periodic job, in one place: what runs, how often, and in which process.

| job                | every  | runs in                                            |
|--------------------|--------|----------------------------------------------------|
| reconcile          | 1 min  | every worker (`engine_jobs`)                       |
| collect            | 1 min  | every worker                                       |
| prepare            | 5 s    | every worker                                       |
| follower-reminders | 1 min  | `afisha worker`, `afisha run` (`worker_jobs`)*     |
| token-check        | 6 h    | `afisha worker`, `afisha run`                      |
| feeds              | 10 min | `afisha worker`, `afisha run`                      |
| partners           | 1 h    | `afisha worker`, `afisha run`                      |
| notices            | 30 s   | `afisha run`, beside the staff bot (`bot_jobs`)    |
| weekly-digest      | 15 min | `afisha run`, beside the staff bot (per library)   |
| monthly-report     | 15 min | `afisha run`, beside the staff bot (per library)** |

* only with a bot token: the reminders, and the news of a move or cancellation, go out as the
  bot's private messages.
** with the network report too, for a network head's managers.

`partners` reads the partner accounts not read for 6 hours (`PARTNER_EVERY`), a few per round:
Instagram throttles anonymous reading early.

`afisha worker --once` runs each of `worker_jobs` once, in this order. A job runs on one worker
at a time (`PeriodicJob.exclusive`); APScheduler only decides when (`scheduler.timing`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from afisha.wiring import Afisha
from channels.base import Outgoing
from channels.telegram import TelegramChannel
from scheduler.collect import collect_due
from scheduler.engine import Engine
from scheduler.feeds import poll_feeds
from scheduler.followers import follower_messages
from scheduler.partners import read_partners
from scheduler.prepare import PREPARE_EVERY, Preparer
from scheduler.recovery import reconcile_unconfirmed
from scheduler.timing import PeriodicJob
from scheduler.tokens import check_tokens

if TYPE_CHECKING:
    from telegram.ext import Application

    from afisha.runtime import EngineParts
    from bot.services import BotServices


def engine_jobs(engine: Engine) -> list[PeriodicJob]:
    """The engine's upkeep, which every worker runs (a benchmark's bare workers too)."""
    # Instagram's containers made ahead of their due moments (the worker stops what is under way).
    preparer = Preparer(engine.sessions, engine.channels, engine.clock, engine.settings.media)
    return [
        PeriodicJob("reconcile", lambda: reconcile_unconfirmed(engine), 60, report="reconciled"),
        PeriodicJob("collect", lambda: collect_due(engine), 60, report="snapshots"),
        PeriodicJob("prepare", preparer.prepare_due, PREPARE_EVERY, close=preparer.close),
    ]


def follower_reminders(afisha: Afisha, parts: EngineParts) -> PeriodicJob | None:
    """Private reminders to followers who pressed "Remind me", and the news when their event
    moves or is cancelled (needs the bot's token)."""
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
        lambda: follower_messages(afisha.sessions, parts.engine.clock, send),
        60,
    )


def worker_jobs(afisha: Afisha, parts: EngineParts) -> list[PeriodicJob]:
    """Every job of `afisha worker` (and of the engine in `afisha run`)."""
    jobs = [
        *engine_jobs(parts.engine),
        follower_reminders(afisha, parts),
        PeriodicJob("token-check", lambda: check_tokens(parts.engine), 6 * 3600),
        PeriodicJob(
            "feeds",
            lambda: poll_feeds(
                afisha.sessions, parts.engine.clock, media_dir=afisha.settings.media_path
            ),
            600,
        ),
        PeriodicJob(
            "partners",
            lambda: read_partners(
                afisha.sessions, parts.engine.clock, parts.factory.public_collector
            ),
            3600,
        ),
    ]
    return [job for job in jobs if job is not None]


def bot_jobs(application: Application, services: BotServices) -> list[PeriodicJob]:
    """The jobs `afisha run` adds beside the staff bot, whose Bot they send with."""
    # Imported here: the digests and reports (matplotlib, PDF) are no business of a worker.
    from bot.notify import deliver_notices, queue_monthly_report, queue_weekly_digest

    async def digest() -> int:
        return queue_weekly_digest(services)

    async def monthly_report() -> int:
        return queue_monthly_report(services)

    return [
        PeriodicJob("notices", lambda: deliver_notices(application.bot, services), 30),
        PeriodicJob("weekly-digest", digest, 15 * 60),
        PeriodicJob("monthly-report", monthly_report, 15 * 60),
    ]
