"""How records look on the command line: JSON-ready dicts and one-line summaries."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from content.analytics.metrics import STORED
from content.domain.text import excerpt
from content.domain.timeparse import format_offset
from content.storage.models import Channel, Event, Media, Post, Publication, StaffMember
from content.storage.store import QueueStatus


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def local(moment: datetime | None, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z") if moment else "-"


def staff_json(member: StaffMember) -> dict[str, Any]:
    return {
        "telegram_user_id": member.telegram_user_id,
        "name": member.name,
        "role": member.role.value,
        "language": member.language,
    }


def channel_json(channel: Channel) -> dict[str, Any]:
    return {
        "id": channel.id,
        "name": channel.name,
        "platform": channel.platform.value,
        "external_id": channel.external_id,
        "language": channel.language,
        "status": channel.status.value,
        "status_reason": channel.status_reason,
        "has_credentials": channel.credentials_encrypted is not None,
        # Graph refused the token insights then (public counts stand in until a day later).
        "insights_refused_at": iso(channel.insights_refused_at),
    }


def media_json(media: Media) -> dict[str, Any]:
    return {
        "path": media.path,
        "type": media.media_type,
        "size": media.size,
        "width": media.width,
        "height": media.height,
        "alt_text": media.alt_text,
    }


def publication_json(publication: Publication, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "id": publication.id,
        "kind": publication.kind.value,
        "channel": publication.channel.name,
        "platform": publication.channel.platform.value,
        "due_at": iso(publication.due_at),
        "due_local": local(publication.due_at, tz),
        "offset": format_offset(publication.offset_minutes) if publication.offset_minutes else None,
        "state": publication.state.value,
        "attempts": publication.attempts,
        "remote_id": publication.remote_id,
        "remote_url": publication.remote_url,
        "last_error": publication.last_error,
        "sent_at": iso(publication.sent_at),
        # Sent later than due because the platform was still processing (e.g. Instagram).
        "late": (publication.progress or {}).get("late"),
        "engagement": engagement_json(publication),
        # A share: the publication it shares, and how (copy, forward, link).
        "shared_from": publication.shared_from_id,
        "share_mode": publication.share_mode.value if publication.share_mode else None,
    }


def engagement_json(publication: Publication) -> dict[str, Any] | None:
    """The latest counts (None: unknown, never 0) and where they came from."""
    if publication.latest_collected_at is None:
        return None
    counts = {name: getattr(publication, f"latest_{name}") for name in STORED}
    return {
        "collected_at": iso(publication.latest_collected_at),
        "source": publication.latest_source,
        "interactions": publication.latest_interactions,
        **counts,
    }


def post_json(post: Post, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "id": post.id,
        "status": post.status.value,
        "text": post.text,
        "variants": post.variants,
        "link": post.link,
        "media": [media_json(item.media) for item in post.media],
        "created_at": iso(post.created_at),
        "publications": [publication_json(p, tz) for p in post.publications],
    }


def event_json(event: Event, tz: ZoneInfo, reminder_requests: int = 0) -> dict[str, Any]:
    """An event as JSON; `reminder_requests`: how many followers asked to be reminded of it
    (`store.reminder_requests`, counted for a whole list at once)."""
    return {
        "id": event.id,
        "title": event.title,
        "status": event.status.value,
        "starts_at": iso(event.starts_at),
        "starts_local": local(event.starts_at, tz),
        "ends_at": iso(event.ends_at),
        "place": event.place,
        "description": event.description,
        "language": event.language,
        "registration_url": event.registration_url,
        "reminders": [format_offset(m) for m in event.reminder_offsets],
        "reminder_requests": reminder_requests,
        "image": media_json(event.image) if event.image else None,
        "publications": [publication_json(p, tz) for p in event.publications],
    }


def status_json(status: QueueStatus, tz: ZoneInfo, now: datetime | None = None) -> dict[str, Any]:
    lag = (now - status.oldest_overdue).total_seconds() if now and status.oldest_overdue else 0.0
    return {
        "lag_seconds": round(lag, 3),
        "queued": status.queued,
        "next_due": iso(status.next_due),
        "next_due_local": local(status.next_due, tz) if status.next_due else None,
        "by_state": status.by_state,
        "paused_channels": status.paused_channels,
        "unconfirmed": status.unconfirmed,
    }


def post_line(post: Post, tz: ZoneInfo) -> str:
    due = min((p.due_at for p in post.publications), default=None)
    channels = ",".join(p.channel.name for p in post.publications)
    return (
        f"{post.id:>5}  {post.status.value:<16} {local(due, tz):<22} {channels:<30} "
        f"{excerpt(post.text, 50)}"
    )


def event_line(event: Event, tz: ZoneInfo) -> str:
    return (
        f"{event.id:>5}  {event.status.value:<10} {local(event.starts_at, tz):<22} "
        f"{excerpt(event.title, 40):<40} {event.place or ''}"
    )
