"""The engine's notices, delivered to the right staff as chat messages with buttons, and the
weekly digest for managers.

The engine writes notices (content.storage.notices) in the same transaction as their cause; the
wiring runs `deliver_notices` periodically, and `queue_weekly_digest` to add the digest notice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from telegram import Bot
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.describe import describe_publication
from bot.dispatch import send
from bot.flows.channels import ResumeChannel
from bot.flows.notices import NoticeAction, NoticeActionName
from bot.reports.files import monthly_report_file, network_report_file
from bot.services import BotServices
from bot.turn import Button, Keyboard, Reply
from content.analytics.network import is_network_head
from content.analytics.periods import last_month
from content.analytics.report import ReportFormat
from content.analytics.stats import stats_summary, summary_text
from content.domain.states import EventStatus, PublicationState, Role
from content.domain.templates import local_time
from content.domain.text import headline
from content.domain.timeparse import zone
from content.i18n import N_, gettext_for
from content.storage.models import Channel, Event, Notice, Organization, Publication, StaffMember
from content.storage.notices import NoticeKind, add_notice, mark_delivered, undelivered

log = logging.getLogger(__name__)

DIGEST_AT = time(9, 0)  # Monday, local time
DIGEST_SPAN = timedelta(days=7)
DELIVER_EVERY = timedelta(seconds=30)  # the interval the wiring runs deliver_notices at
DIGEST_CHECK_EVERY = timedelta(minutes=15)  # ... and queue_weekly_digest at

# What each publication notice still needs a decision about; a notice whose publication has
# moved on (settled from the CLI, retried by the engine) is not worth a message any more.
_STILL = {
    NoticeKind.PUBLICATION_FAILED.value: PublicationState.FAILED,
    NoticeKind.PUBLICATION_UNCONFIRMED.value: PublicationState.UNCONFIRMED,
    NoticeKind.PUBLICATION_MISSED.value: PublicationState.MISSED,
}
_WAITING = (PublicationState.FAILED, PublicationState.UNCONFIRMED, PublicationState.MISSED)


@dataclass(frozen=True)
class Outgoing:
    chat_id: int
    reply: Reply


def _organization(session: Session, notice: Notice) -> Organization:
    org = session.get(Organization, notice.organization_id) if notice.organization_id else None
    return org or session.scalars(select(Organization).order_by(Organization.id)).one()


def _managers(session: Session, org: Organization) -> list[StaffMember]:
    """Who reads `org`'s digest and reports: its own managers and administrators."""
    return list(
        session.scalars(
            select(StaffMember)
            .where(
                StaffMember.organization_id == org.id,
                StaffMember.role.in_((Role.MANAGER, Role.ADMIN)),
            )
            .order_by(StaffMember.id)
        )
    )


def _staff(session: Session, *roles: Role) -> list[StaffMember]:
    return list(
        session.scalars(
            select(StaffMember).where(StaffMember.role.in_(roles)).order_by(StaffMember.id)
        )
    )


def _publication_readers(session: Session, publication: Publication) -> list[StaffMember]:
    """The post's author if they are staff, otherwise every editor and admin."""
    post = publication.post
    author = session.get(StaffMember, post.author_id) if post and post.author_id else None
    return [author] if author is not None else _staff(session, Role.EDITOR, Role.ADMIN)


def _publication_message(
    notice: Notice, publication: Publication, tz: ZoneInfo, language: str, now: datetime
) -> tuple[str, Keyboard]:
    _ = gettext_for(language)
    what = describe_publication(publication, language)
    channel = publication.channel.name
    due = local_time(publication.due_at, tz, language, now)
    reason = str(notice.details.get("reason") or publication.last_error or "")

    def button(label: str, action: NoticeActionName) -> Button:
        return Button(_(label), data=NoticeAction(action, publication.id).pack())

    if notice.kind == NoticeKind.PUBLICATION_FAILED.value:
        text = _(
            "⚠️ Could not publish {what} on {channel} (due {when}).\nReason: {reason}\n"
            "Retry it as it is, or edit the text and retry.",
            what=what,
            channel=channel,
            when=due,
            reason=reason,
        )
        return text, [
            [button(N_("Retry"), "retry"), button(N_("Edit"), "edit")],
            [button(N_("Drop"), "drop")],
        ]
    if notice.kind == NoticeKind.PUBLICATION_UNCONFIRMED.value:
        text = _(
            "❓ I cannot tell whether {what} went out on {channel} ({reason}). Please look at "
            "the channel and tell me; I will not send it again until you do.",
            what=what,
            channel=channel,
            reason=reason,
        )
        return text, [[button(N_("Posted"), "yes"), button(N_("Not posted"), "no")]]
    text = _(
        "⏰ {what} on {channel} was due {when}, while Afisha was not running. "
        "What should happen now?",
        what=what,
        channel=channel,
        when=due,
    )
    return text, [
        [button(N_("Publish now"), "now"), button(N_("Reschedule"), "later")],
        [button(N_("Drop"), "drop")],
    ]


def _channel_message(
    notice: Notice, channel: Channel, tz: ZoneInfo, language: str, now: datetime
) -> Reply:
    _ = gettext_for(language)
    details = notice.details
    if notice.kind == NoticeKind.CHANNEL_AUTH_EXPIRED.value:
        return Reply(
            _(
                "🔑 Channel {channel} can no longer publish: {reason}\nIts publications wait. "
                "Renew its access, then press Resume.",
                channel=channel.name,
                reason=str(details.get("reason") or ""),
            ),
            [[Button(_("Resume"), data=ResumeChannel(channel.id).pack())]],
        )
    expires = details.get("expires_at")
    if details.get("valid", True) and expires:
        return Reply(
            _(
                "🔑 The access token of channel {channel} expires {when}. Renew it in time, so "
                "no publication waits.",
                channel=channel.name,
                when=local_time(datetime.fromisoformat(str(expires)), tz, language, now),
            )
        )
    return Reply(
        _(
            "🔑 The access of channel {channel} does not work: {reason}. Renew it before its "
            "next publication.",
            channel=channel.name,
            reason=str(details.get("detail") or ""),
        )
    )


def digest_text(session: Session, org: Organization, now: datetime, language: str) -> str:
    """`org`'s last week: its channels' engagement, what of theirs waits for a decision, and
    its events of the coming week, in its time zone."""
    _ = gettext_for(language)
    tz = zone(org.timezone)
    lines = [_("📊 Weekly digest: {library}", library=org.name), ""]
    summary = stats_summary(session, now, tz, DIGEST_SPAN, top=3, orgs={org.id})
    lines.append(summary_text(summary, language, tz))
    waiting = session.scalar(
        select(func.count(Publication.id))
        .join(Channel, Channel.id == Publication.channel_id)
        .where(Publication.state.in_(_WAITING), Channel.organization_id == org.id)
    )
    if waiting:
        lines += ["", _("Waiting for a decision: {count} publication(s).", count=waiting)]
    events = session.scalars(
        select(Event)
        .where(
            Event.organization_id == org.id,
            Event.status == EventStatus.SCHEDULED,
            Event.starts_at > now,
            Event.starts_at <= now + DIGEST_SPAN,
        )
        .order_by(Event.starts_at)
    ).all()
    if events:
        lines += ["", _("Events this week:")]
        lines += [
            f"  • {headline(e.title, 40)} — {local_time(e.starts_at, tz, language, now)}"
            for e in events
        ]
    return "\n".join(lines)


def plan_messages(session: Session, notice: Notice, now: datetime) -> list[Outgoing]:
    """Who hears about `notice`, and what each of them reads (nothing if it is moot)."""
    org = _organization(session, notice)
    tz = zone(org.timezone)
    if notice.kind in _STILL:
        publication = session.get(Publication, notice.publication_id or 0)
        if publication is None or publication.state is not _STILL[notice.kind]:
            return []
        readers = _publication_readers(session, publication)
        return [
            Outgoing(
                m.telegram_user_id,
                Reply(*_publication_message(notice, publication, tz, m.language, now)),
            )
            for m in readers
        ]
    if notice.kind in (NoticeKind.CHANNEL_AUTH_EXPIRED.value, NoticeKind.TOKEN_EXPIRING.value):
        channel = session.get(Channel, notice.channel_id or 0)
        if channel is None or notice.details.get("resolved"):
            return []
        return [
            Outgoing(m.telegram_user_id, _channel_message(notice, channel, tz, m.language, now))
            for m in _staff(session, Role.ADMIN)
        ]
    # What a library's managers read is made once per language, not once per manager.
    if notice.kind == NoticeKind.WEEKLY_DIGEST.value:
        digests: dict[str, Reply] = {}
        for m in (managers := _managers(session, org)):
            if m.language not in digests:
                digests[m.language] = Reply(digest_text(session, org, now, m.language))
        return [Outgoing(m.telegram_user_id, digests[m.language]) for m in managers]
    if notice.kind == NoticeKind.MONTHLY_REPORT.value:
        month = date.fromisoformat(f"{notice.details['month']}-01")
        head = is_network_head(session, org)
        reports: dict[str, list[Reply]] = {}
        messages = []
        for m in _managers(session, org):
            if m.language not in reports:
                made = [_monthly_report(session, org, month, now, m.language)]
                if head:
                    made.append(_network_report(session, org, month, now, m.language))
                reports[m.language] = made
            messages += [Outgoing(m.telegram_user_id, reply) for reply in reports[m.language]]
        return messages
    log.warning("notice %s has an unknown kind %r; not delivered", notice.id, notice.kind)
    return []


async def deliver_notices(bot: Bot, services: BotServices, limit: int = 50) -> int:
    """Send undelivered notices to their staff; returns how many were delivered.

    A notice is marked delivered only after sending: when it reached someone, or when no one
    can ever get it (no such staff, or Telegram refuses for good). A network failure leaves it
    for the next run.
    """
    now = services.clock.now()
    with services.sessions() as session:
        plans = [(n.id, plan_messages(session, n, now)) for n in undelivered(session, limit)]
    delivered = 0
    for notice_id, messages in plans:
        reached = permanent = 0
        for message in messages:
            try:
                await send(bot, message.reply, message.chat_id)
                reached += 1
            except (Forbidden, BadRequest) as err:  # blocked the bot, never started it, ...
                log.info("notice %s cannot reach %s: %s", notice_id, message.chat_id, err)
                permanent += 1
            except TelegramError as err:
                log.info("notice %s not sent to %s now: %s", notice_id, message.chat_id, err)
        if reached or permanent == len(messages):
            with services.sessions.begin() as session:
                mark_delivered(session, session.get_one(Notice, notice_id), services.clock.now())
            delivered += bool(reached)
    return delivered


def _monthly_report(
    session: Session, org: Organization, month: date, now: datetime, language: str
) -> Reply:
    name, contents = monthly_report_file(session, org, month, now, ReportFormat.PDF, language)
    _ = gettext_for(language)
    caption = _(
        "📊 The monthly report of {library} for {month}",
        library=org.name,
        month=month.strftime("%Y-%m"),
    )
    return Reply(caption, document=(name, contents))


def _network_report(
    session: Session, head: Organization, month: date, now: datetime, language: str
) -> Reply:
    name, contents = network_report_file(session, head, month, now, ReportFormat.PDF, language)
    _ = gettext_for(language)
    caption = _(
        "📊 The network report of {library} for {month}: every member library",
        library=head.name,
        month=month.strftime("%Y-%m"),
    )
    return Reply(caption, document=(name, contents))


def _readers_by_organization(session: Session) -> list[Organization]:
    """The organisations that have someone to read their digest and reports."""
    having = select(StaffMember.organization_id).where(
        StaffMember.role.in_((Role.MANAGER, Role.ADMIN))
    )
    return list(
        session.scalars(
            select(Organization).where(Organization.id.in_(having)).order_by(Organization.id)
        )
    )


def _latest_details(session: Session, kind: NoticeKind) -> dict[int | None, dict[str, object]]:
    """Per organisation, the details of its latest notice of `kind` (one query for them all)."""
    newest = (
        select(func.max(Notice.id))
        .where(Notice.kind == kind.value)
        .group_by(Notice.organization_id)
    )
    rows = session.execute(
        select(Notice.organization_id, Notice.details).where(Notice.id.in_(newest))
    )
    return {org_id: dict(details or {}) for org_id, details in rows}


def queue_monthly_report(services: BotServices) -> int:
    """Add each library's notice of last month's report once (from the 1st, 09:00 in its zone);
    returns how many were added."""
    now = services.clock.now()
    added = 0
    with services.sessions.begin() as session:
        sent = _latest_details(session, NoticeKind.MONTHLY_REPORT)
        for org in _readers_by_organization(session):
            tz = zone(org.timezone)
            local = now.astimezone(tz)
            if local.day == 1 and local.time() < DIGEST_AT:
                continue
            month = last_month(now, tz).strftime("%Y-%m")
            if str(sent.get(org.id, {}).get("month", "")) >= month:
                continue
            add_notice(session, NoticeKind.MONTHLY_REPORT, organization_id=org.id, month=month)
            added += 1
    return added


def digest_week(now: datetime, tz: ZoneInfo) -> str | None:
    """The ISO week whose digest is due at `now` (from Monday 09:00 local), e.g. `2026-W49`."""
    local = now.astimezone(tz)
    if local.weekday() == 0 and local.time() < DIGEST_AT:
        return None
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"


def queue_weekly_digest(services: BotServices) -> int:
    """Add each library's digest notice of this week once (from Monday 09:00 in its zone);
    returns how many were added."""
    now = services.clock.now()
    added = 0
    with services.sessions.begin() as session:
        sent = _latest_details(session, NoticeKind.WEEKLY_DIGEST)
        for org in _readers_by_organization(session):
            week = digest_week(now, zone(org.timezone))
            if week is None:
                continue
            if sent.get(org.id, {}).get("week") == week:
                continue
            add_notice(session, NoticeKind.WEEKLY_DIGEST, organization_id=org.id, week=week)
            added += 1
    return added
