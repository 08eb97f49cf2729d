"""ORM mappings of the domain (SQLAlchemy 2.0 typed declarative)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from content.domain.states import (
    ChannelStatus,
    EventStatus,
    FollowerNews,
    Platform,
    PostStatus,
    PublicationKind,
    PublicationState,
    Role,
    ShareMode,
)
from content.storage.orm_base import Base, _enum, utcnow


class Organization(Base):
    __tablename__ = "organization"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # The network head this library belongs to (None: a head, or a library on its own).
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    timezone: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    # How late a post may still go out, in minutes (None: the installation's setting).
    grace_minutes: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StaffMember(Base):
    """One person's membership of one organisation's staff (a person may be on several)."""

    __tablename__ = "staff_member"
    __table_args__ = (UniqueConstraint("organization_id", "telegram_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_enum(Role))
    language: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Channel(Base):
    __tablename__ = "channel"
    # A name is unique within its library: two libraries may each have a "news".
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    platform: Mapped[Platform] = mapped_column(_enum(Platform))
    name: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8))
    # Fernet token of the JSON credentials; never plaintext.
    credentials_encrypted: Mapped[str | None] = mapped_column(Text)
    status: Mapped[ChannelStatus] = mapped_column(
        _enum(ChannelStatus), default=ChannelStatus.ACTIVE
    )
    status_reason: Mapped[str | None] = mapped_column(Text)
    # Token health as last checked (None: never checked, or the platform gives no expiry).
    token_expires_at: Mapped[datetime | None]
    token_checked_at: Mapped[datetime | None]
    # When Graph last refused this channel's token its insights (Instagram): engagement is
    # then read without them (public counts filling in) until a day later, when Graph is
    # asked again, since a token may be granted the permission since.
    insights_refused_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Media(Base):
    __tablename__ = "media"
    __table_args__ = (UniqueConstraint("organization_id", "content_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    path: Mapped[str] = mapped_column(String(500))  # relative to the media directory
    content_hash: Mapped[str] = mapped_column(String(64))  # sha256 hex
    media_type: Mapped[str] = mapped_column(String(50))  # MIME type
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    alt_text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PostMedia(Base):
    """The ordered images of a post."""

    __tablename__ = "post_media"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("post.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id"))

    media: Mapped[Media] = relationship(lazy="joined")


def text_in(language: str, text: str, variants: Mapping[str, Any] | None) -> str:
    """A post's text in `language`: its variant if it has one, else the default text."""
    return str((variants or {}).get(language) or text)


class Post(Base):
    __tablename__ = "post"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    text: Mapped[str] = mapped_column(Text)
    # Per-language variants: {"kk": "...", "lt": "..."}; `text` is the default.
    variants: Mapped[dict[str, Any]] = mapped_column(default=dict)
    link: Mapped[str | None] = mapped_column(String(2000))
    status: Mapped[PostStatus] = mapped_column(_enum(PostStatus), default=PostStatus.DRAFT)
    # Approval: who decided, and why a post was sent back.
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    review_note: Mapped[str | None] = mapped_column(Text)
    # The names of an author and a reviewer taken off staff: their staff rows are deleted (so
    # nothing can mistake them for staff again), the history keeps reading who it was.
    author_name: Mapped[str | None] = mapped_column(String(200))
    reviewer_name: Mapped[str | None] = mapped_column(String(200))
    # The plan of a draft or of a post waiting for approval: channel ids and time. Such a post
    # has no publications (they are made when it is queued), so nothing unapproved is claimable.
    planned_channels: Mapped[list[Any]] = mapped_column(default=list)
    planned_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    media: Mapped[list[PostMedia]] = relationship(
        order_by=PostMedia.position, cascade="all, delete-orphan", lazy="selectin"
    )
    publications: Mapped[list[Publication]] = relationship(
        back_populates="post", lazy="selectin", order_by="Publication.id"
    )

    def text_for(self, language: str) -> str:
        """The variant in `language` if there is one, else the default text."""
        return text_in(language, self.text, self.variants)


class Event(Base):
    __tablename__ = "event"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    title: Mapped[str] = mapped_column(String(300))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    place: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    image_id: Mapped[int | None] = mapped_column(ForeignKey("media.id"))
    registration_url: Mapped[str | None] = mapped_column(String(2000))
    # Offsets before the start, in minutes (e.g. [10080, 1440, 120] for 7d, 1d, 2h).
    reminder_offsets: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[EventStatus] = mapped_column(_enum(EventStatus), default=EventStatus.SCHEDULED)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    image: Mapped[Media | None] = relationship(lazy="joined")
    publications: Mapped[list[Publication]] = relationship(
        back_populates="event", lazy="selectin", order_by="Publication.due_at"
    )
    # Followers who asked to be reminded (loaded when asked for: most paths never need them).
    subscriptions: Mapped[list[EventSubscription]] = relationship(order_by="EventSubscription.id")


# Publications waiting to be claimed, as SQL: the partial index below holds just these rows, in
# due order, so the engine's claim reads the head of the queue and stops.
WAITING_SQL = "state IN ('scheduled', 'retry_wait')"


class Publication(Base):
    """One post or event message to one channel at one time: the unit the engine publishes."""

    __tablename__ = "publication"
    __table_args__ = (
        Index("ix_publication_state_due", "state", "due_at"),
        # Partial, WHERE WAITING_SQL (migration 0008, which makes the schema). The condition is
        # not repeated here: `postgresql_where` makes SQLAlchemy import its PostgreSQL dialect
        # in every process, SQLite ones too (2 MiB of a worker's footprint).
        Index("ix_publication_waiting", "due_at", "id"),
        Index("ix_publication_channel_state", "channel_id", "state"),
        # Reports select publications by when they were sent.
        Index("ix_publication_sent_at", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[PublicationKind] = mapped_column(_enum(PublicationKind))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("post.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id"), index=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id"))
    # For reminders: minutes before the event's start.
    offset_minutes: Mapped[int | None] = mapped_column(Integer)
    due_at: Mapped[datetime]
    state: Mapped[PublicationState] = mapped_column(
        _enum(PublicationState), default=PublicationState.SCHEDULED
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None]
    remote_id: Mapped[str | None] = mapped_column(String(200))
    remote_url: Mapped[str | None] = mapped_column(String(2000))
    last_error: Mapped[str | None] = mapped_column(Text)
    # A share (a member library's publication shared up to its network's channel): the source
    # publication and how it is shared. None: the publication sends its own post's content.
    shared_from_id: Mapped[int | None] = mapped_column(ForeignKey("publication.id"), index=True)
    share_mode: Mapped[ShareMode | None] = mapped_column(_enum(ShareMode))
    # What a channel saved mid-publish (e.g. an Instagram container id), for reconciliation.
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    sent_at: Mapped[datetime | None]
    # When engagement is next collected (a decaying schedule after sending); None when done.
    next_collect_at: Mapped[datetime | None] = mapped_column(index=True)
    collect_stage: Mapped[int] = mapped_column(Integer, default=0)
    # The publication's most recent engagement snapshot, copied here when it is stored
    # (content.analytics.latest.record_snapshot) so reports need not search the history.
    # None means unknown, not zero.
    latest_collected_at: Mapped[datetime | None]
    latest_reactions: Mapped[int | None] = mapped_column(Integer)
    latest_comments: Mapped[int | None] = mapped_column(Integer)
    latest_shares: Mapped[int | None] = mapped_column(Integer)
    latest_views: Mapped[int | None] = mapped_column(Integer)
    latest_reach: Mapped[int | None] = mapped_column(Integer)
    latest_saves: Mapped[int | None] = mapped_column(Integer)
    # Their sum as content.analytics.metrics.interactions defines it, kept for cheap grouping.
    latest_interactions: Mapped[int | None] = mapped_column(Integer)
    # Where those counts came from (the snapshot's source: graph_insights, instaloader_public...).
    latest_source: Mapped[str | None] = mapped_column(String(50))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    post: Mapped[Post | None] = relationship(back_populates="publications")
    event: Mapped[Event | None] = relationship(back_populates="publications")
    channel: Mapped[Channel] = relationship(lazy="joined")
    shared_from: Mapped[Publication | None] = relationship(
        remote_side="Publication.id", lazy="select"
    )


class Attempt(Base):
    """One try at publishing, committed before the request is made."""

    __tablename__ = "attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publication.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    worker: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    # sent | not_sent | rate_limited | rejected | auth_expired | unknown | duplicate | crashed
    outcome: Mapped[str | None] = mapped_column(String(24))
    error: Mapped[str | None] = mapped_column(Text)


class EventSubscription(Base):
    """A follower who pressed "Remind me" under an event post."""

    __tablename__ = "event_subscription"
    __table_args__ = (UniqueConstraint("event_id", "telegram_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"))
    telegram_user_id: Mapped[int] = mapped_column(BigInteger)
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reminded_at: Mapped[datetime | None]
    # A change of the event this follower has not been told yet (the latest wins), and since when.
    news: Mapped[FollowerNews | None] = mapped_column(_enum(FollowerNews))
    news_since: Mapped[datetime | None]


class Follower(Base):
    """A person who has a private chat with the bot: Telegram lets a bot write to someone only
    after they started it, and not after they blocked it."""

    __tablename__ = "follower"

    telegram_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    language: Mapped[str | None] = mapped_column(String(8))
    started_at: Mapped[datetime | None]
    blocked_at: Mapped[datetime | None]


class Notice(Base):
    """Something staff must hear about, written in the same transaction as its cause (an outbox
    the bot delivers from)."""

    __tablename__ = "notice"
    __table_args__ = (Index("ix_notice_undelivered", "delivered_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    kind: Mapped[str] = mapped_column(String(40))
    publication_id: Mapped[int | None] = mapped_column(ForeignKey("publication.id"))
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channel.id"))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]


class EngagementSnapshot(Base):
    """Counts of one publication at one moment; None means the platform did not say."""

    __tablename__ = "engagement_snapshot"
    __table_args__ = (Index("ix_snapshot_publication_time", "publication_id", "collected_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publication.id"))
    collected_at: Mapped[datetime]
    reactions: Mapped[int | None] = mapped_column(Integer)
    comments: Mapped[int | None] = mapped_column(Integer)
    shares: Mapped[int | None] = mapped_column(Integer)
    views: Mapped[int | None] = mapped_column(Integer)
    reach: Mapped[int | None] = mapped_column(Integer)
    saves: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(50))  # e.g. graph, graph_insights, bot_updates


class BotConversation(Base):
    """Where a person is in a bot conversation; kept in the database so a restart loses nothing."""

    __tablename__ = "bot_conversation"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    flow: Mapped[str] = mapped_column(String(40))
    step: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ProcessedUpdate(Base):
    """Telegram updates already acted on: a repeated update_id never acts twice."""

    __tablename__ = "processed_update"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[datetime] = mapped_column(default=utcnow)


class PacingWindow(Base):
    """One rate limit's recent sends, shared by the workers on one PostgreSQL database
    (scheduler.pacing_pg): `state` holds {"sent": [...], "flying": [...], "blocked": t}."""

    __tablename__ = "pacing_window"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)


class AuditEntry(Base):
    """Who did what, when."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    actor: Mapped[str] = mapped_column(String(100))  # "cli", "staff:<telegram id>", "engine"
    action: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str | None] = mapped_column(String(100))  # e.g. "post:12"
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ImportRow(Base):
    """A spreadsheet row or iCal event already imported, by its stable key (re-imports skip it)."""

    __tablename__ = "import_row"
    __table_args__ = (UniqueConstraint("organization_id", "source", "row_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    source: Mapped[str] = mapped_column(String(16))  # "sheet" or "ical"
    row_key: Mapped[str] = mapped_column(String(64))  # sha256 hex of the row's stable key
    # The iCal UID as the calendar wrote it, exported again unchanged.
    external_uid: Mapped[str | None] = mapped_column(String(1000))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("post.id"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Feed(Base):
    """An RSS/Atom feed (e.g. the library website's news) whose new items become posts."""

    __tablename__ = "feed"
    __table_args__ = (UniqueConstraint("organization_id", "url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    url: Mapped[str] = mapped_column(String(2000))
    channels: Mapped[list[Any]] = mapped_column(default=list)  # channel names
    # True: queue each new item into the next free slot; False: keep it a draft for staff.
    auto: Mapped[bool] = mapped_column(Boolean, default=False)
    etag: Mapped[str | None] = mapped_column(String(500))
    modified: Mapped[str | None] = mapped_column(String(100))
    polled_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeedItem(Base):
    """A feed item already turned into a post: each item once, across restarts."""

    __tablename__ = "feed_item"
    __table_args__ = (UniqueConstraint("feed_id", "item_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feed.id", ondelete="CASCADE"))
    item_key: Mapped[str] = mapped_column(String(64))  # sha256 hex of the guid (or link)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("post.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChannelSlot(Base):
    """A weekly posting time of a channel, in the organisation's time zone."""

    __tablename__ = "channel_slot"
    __table_args__ = (UniqueConstraint("channel_id", "weekday", "minute"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(Integer)  # 0 Monday … 6 Sunday
    minute: Mapped[int] = mapped_column(Integer)  # local minutes after midnight, 600 = 10:00

    channel: Mapped[Channel] = relationship(lazy="joined")


class PartnerAccount(Base):
    """A partner library's public Instagram account that an organisation follows without a
    token: its recent posts' public counts are read with instaloader."""

    __tablename__ = "partner_account"
    __table_args__ = (UniqueConstraint("organization_id", "username"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    username: Mapped[str] = mapped_column(String(30))  # lower case, as Instagram keeps it
    full_name: Mapped[str | None] = mapped_column(String(200))
    checked_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    posts: Mapped[list[PartnerPost]] = relationship(
        back_populates="partner", cascade="all, delete-orphan", order_by="PartnerPost.posted_at"
    )


class PartnerPost(Base):
    """One recent post of a partner account with its latest public counts (None: hidden or not
    shown, never 0)."""

    __tablename__ = "partner_post"
    __table_args__ = (UniqueConstraint("partner_id", "shortcode"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner_account.id", ondelete="CASCADE"))
    shortcode: Mapped[str] = mapped_column(String(40))
    posted_at: Mapped[datetime]
    caption: Mapped[str | None] = mapped_column(String(200))
    reactions: Mapped[int | None] = mapped_column(Integer)
    comments: Mapped[int | None] = mapped_column(Integer)
    views: Mapped[int | None] = mapped_column(Integer)
    collected_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(50))

    partner: Mapped[PartnerAccount] = relationship(back_populates="posts")


class ChosenOrganization(Base):
    """The library a person on several libraries' staff last chose to work in, in the bot."""

    __tablename__ = "chosen_organization"

    telegram_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    chosen_at: Mapped[datetime] = mapped_column(default=utcnow)
