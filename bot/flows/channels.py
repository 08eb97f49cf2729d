"""/channels: each channel's status and token health, and resuming one after a fix."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from bot.access import Permission
from bot.flows.events import actor
from bot.router import STALE_BUTTON, Router
from bot.turn import Button, Keyboard, Turn
from content.domain.callback_data import CallbackData
from content.domain.states import ChannelStatus, PublicationState
from content.domain.templates import local_time
from content.i18n import N_
from content.storage.models import Channel, Publication
from content.storage.registry import set_channel_status

SOON = timedelta(days=7)
STATUS = {
    ChannelStatus.ACTIVE: N_("active"),
    ChannelStatus.PAUSED: N_("paused"),
    ChannelStatus.AUTH_EXPIRED: N_("access expired"),
}
ICON = {ChannelStatus.ACTIVE: "🟢", ChannelStatus.PAUSED: "⏸", ChannelStatus.AUTH_EXPIRED: "🔴"}

routes = Router()


@dataclass(frozen=True)
class ResumeChannel(CallbackData, prefix="chan:resume"):
    """Under /channels and under the notice of a channel's expired access (bot.notify)."""

    channel_id: int


def _health(turn: Turn, channel: Channel) -> str:
    """What is known about the channel's token."""
    if channel.token_checked_at is None:
        return turn._("token not checked yet")
    checked = turn._(
        "checked {when}",
        when=local_time(channel.token_checked_at, turn.tz, turn.language, turn.now()),
    )
    expires = channel.token_expires_at
    if expires is None:
        return checked + ", " + turn._("no expiry date")
    when = local_time(expires, turn.tz, turn.language, turn.now())
    if expires <= turn.now():
        return checked + ", ⚠️ " + turn._("expired {when}", when=when)
    if expires - turn.now() <= SOON:
        return checked + ", ⚠️ " + turn._("expires {when}", when=when)
    return checked + ", " + turn._("expires {when}", when=when)


@routes.command(
    "channels",
    Permission.ADMIN,
    N_("Channels and their access"),
    per_organization=True,
)
async def channels(turn: Turn) -> None:
    rows = turn.channels()
    if not rows:
        turn.say(turn._("No channels yet: add one with `afisha channel add`."))
        return
    waiting: dict[int, int] = {
        channel_id: count
        for channel_id, count in turn.session.execute(
            select(Publication.channel_id, func.count())
            .where(Publication.state == PublicationState.PAUSED)
            .group_by(Publication.channel_id)
        )
    }
    lines = [turn._("Channels:")]
    keyboard: Keyboard = []
    for channel in rows:
        status = turn._(STATUS[channel.status])
        lines += [
            "",
            f"{ICON[channel.status]} {channel.name} ({channel.platform.value}) — {status}",
        ]
        if channel.status is not ChannelStatus.ACTIVE and channel.status_reason:
            lines.append("   " + channel.status_reason)
        lines.append("   " + _health(turn, channel))
        if waiting.get(channel.id):
            lines.append(
                "   " + turn._("{count} publication(s) waiting", count=waiting[channel.id])
            )
        if channel.status is not ChannelStatus.ACTIVE:
            keyboard.append(
                [
                    Button(
                        "▶️ " + turn._("Resume {channel}", channel=channel.name),
                        data=ResumeChannel(channel.id).pack(),
                    )
                ]
            )
    turn.say("\n".join(lines), keyboard or None)


@routes.button(ResumeChannel, Permission.ADMIN)
async def resume(turn: Turn, pressed: ResumeChannel) -> None:
    channel = turn.session.get(Channel, pressed.channel_id)
    if channel is None:
        turn.answer(turn._(STALE_BUTTON))
        return
    if channel.status is ChannelStatus.ACTIVE:
        turn.edit(turn._("{channel} is active already.", channel=channel.name))
        return
    paused = turn.session.scalar(
        select(func.count())
        .select_from(Publication)
        .where(Publication.channel_id == channel.id, Publication.state == PublicationState.PAUSED)
    )
    set_channel_status(
        turn.session,
        turn.organization,
        channel.name,
        ChannelStatus.ACTIVE,
        actor(turn),
        now=turn.now(),
    )
    turn.queue_changed = True
    turn.edit(
        turn._(
            "▶️ {channel} is active again; {count} waiting publication(s) go out now. If its "
            "access still fails, I will tell you.",
            channel=channel.name,
            count=paused or 0,
        )
    )
