"""A network post sent down: one post per member library, in its language, at the time typed
read in its zone, each member's approval rule applying; refusals write nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from content.domain.states import ChannelStatus, PostStatus
from content.errors import InvalidInput
from content.i18n import explain
from content.queueing.network_posts import NetworkPost, queue_for_members
from content.storage.models import AuditEntry, Channel, Organization, Post, Publication
from tests.support.network import Network, network

# 06:00 UTC: 09:00 in Moscow (the district), 08:00 in Vilnius (the village), 11:00 in Almaty.
NOW = datetime(2026, 12, 9, 6, 0, tzinfo=UTC)
VARIANTS = {"ru": "Неделя книги", "lt": "Knygų savaitė"}


@pytest.fixture
def net(database_url: str, tmp_path: Path) -> Iterator[Network]:
    with network(database_url, tmp_path) as made:
        with made.sessions.begin() as session:
            session.get_one(Organization, made.ids["Village Library"]).requires_approval = True
        yield made


def send_down(
    net: Network, when: str, text: str = "Book week", variants: dict[str, str] = VARIANTS
) -> list[tuple[str, int, bool]]:
    with net.transaction("Regional Library") as (session, head):
        made = queue_for_members(
            session, head, NetworkPost(text, when, variants=variants), net.media_dir, NOW, "t"
        )
        return [(m.organization.name, m.post.id, m.waiting) for m in made]


def test_one_post_per_member_in_its_language_zone_and_approval_rule(net: Network) -> None:
    made = send_down(net, "2026-12-10 10:00")

    assert [(name, waiting) for name, _, waiting in made] == [
        ("District Library", False),
        ("Village Library", True),
    ]
    with net.sessions() as session:
        district = session.get_one(Post, made[0][1])
        assert district.organization_id == net.ids["District Library"]
        assert (district.status, district.text) == (PostStatus.QUEUED, "Неделя книги")
        # 10:00 in Moscow.
        assert {(p.channel.name, p.due_at) for p in district.publications} == {
            ("district-tg", datetime(2026, 12, 10, 7, 0, tzinfo=UTC)),
            ("district-fb", datetime(2026, 12, 10, 7, 0, tzinfo=UTC)),
        }
        village = session.get_one(Post, made[1][1])
        # Waiting for the village library's managers, for 10:00 in Vilnius.
        assert (village.status, village.text) == (PostStatus.PENDING_APPROVAL, "Knygų savaitė")
        assert village.planned_at == datetime(2026, 12, 10, 8, 0, tzinfo=UTC)
        assert village.publications == []
        channel = session.scalars(select(Channel).where(Channel.name == "village-tg")).one()
        assert village.planned_channels == [channel.id]
        head_posts = session.scalars(
            select(Post).where(Post.organization_id == net.ids["Regional Library"])
        ).all()
        assert head_posts == []
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "post.for_members")
        ).one()
        assert entry.details["posts"] == {name: post_id for name, post_id, _ in made}


def test_a_time_of_day_alone_is_read_in_each_zone(net: Network) -> None:
    made = send_down(net, "10:00")
    with net.sessions() as session:
        district = session.get_one(Post, made[0][1])
        village = session.get_one(Post, made[1][1])
        assert {p.due_at for p in district.publications} == {
            datetime(2026, 12, 9, 7, 0, tzinfo=UTC)
        }
        assert village.planned_at == datetime(2026, 12, 9, 8, 0, tzinfo=UTC)


def test_a_paused_channel_and_a_library_without_channels_are_left_out(net: Network) -> None:
    with net.sessions.begin() as session:
        for channel in session.scalars(select(Channel)):
            if channel.name in ("district-fb", "village-tg"):
                channel.status = ChannelStatus.PAUSED
    made = send_down(net, "now")
    assert [name for name, _, _ in made] == ["District Library"]
    with net.sessions() as session:
        post = session.get_one(Post, made[0][1])
        assert [p.channel.name for p in post.publications] == ["district-tg"]


def test_refusals_write_nothing(net: Network) -> None:
    before = net.counts(Post, Publication, AuditEntry)
    # 08:30 has passed in Moscow (09:00 there) but not in Vilnius (08:00): refused for all.
    with pytest.raises(InvalidInput) as past:
        send_down(net, "2026-12-09 08:30")
    assert "is in the past" in str(past.value)
    with pytest.raises(InvalidInput) as empty:
        send_down(net, "now", text="   ", variants={})
    assert explain(empty.value, "kk") != str(empty.value)
    with (
        net.transaction("Village Library") as (session, village),
        pytest.raises(InvalidInput) as none,
    ):
        queue_for_members(session, village, NetworkPost("x", "now"), net.media_dir, NOW, "t")
    assert "Village Library has no member libraries" in str(none.value)
    assert "нет библиотек" in explain(none.value, "ru")
    assert net.counts(Post, Publication, AuditEntry) == before
