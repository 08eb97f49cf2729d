"""Sharing a member library's published post or event up to its network head: what is written,
and each refusal (in the person's language, nothing written), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from content.domain.states import PostStatus, PublicationKind, PublicationState, ShareMode
from content.errors import InvalidInput, NotFound
from content.i18n import explain
from content.queueing.scheduling import NewEvent, NewPost, add_event, queue_post
from content.queueing.sharing import ShareChoice, share_event, share_post, shared_post_ids
from content.storage.models import AuditEntry, Post, Publication
from tests.support.network import NEWS, Network, network

NOW = datetime(2026, 12, 4, 6, 0, tzinfo=UTC)
HEAD, DISTRICT, VILLAGE = "Regional Library", "District Library", "Village Library"


@pytest.fixture
def net(database_url: str, tmp_path: Path) -> Iterator[Network]:
    with network(database_url, tmp_path) as made:
        yield made


def queue(net: Network, org: str, channels: list[str], text: str = "Puppet theatre") -> int:
    with net.transaction(org) as (session, library):
        new = NewPost(text, channels, NOW, variants={"kk": "Қуыршақ театры"})
        return queue_post(session, library, new, net.media_dir, "test").id


def mark_sent(net: Network, post_id: int) -> None:
    """As the engine records a send (the engine's own tests cover that part)."""
    with net.sessions.begin() as session:
        for number, publication in enumerate(session.get_one(Post, post_id).publications, 1):
            publication.state = PublicationState.SENT
            publication.sent_at = NOW
            if publication.channel.platform.value == "telegram":
                publication.remote_id = str(10 + number)
                publication.progress = {"chat_id": NEWS, "message_ids": [10 + number]}
            else:
                publication.remote_id = f"100200300400501_{number}"
                publication.remote_url = f"https://www.facebook.com/100200300400501/posts/{number}"


def snapshot(net: Network) -> tuple[int, ...]:
    return net.counts(Post, Publication, AuditEntry)


def test_a_published_post_is_shared_to_the_heads_telegram_and_facebook(net: Network) -> None:
    post_id = queue(net, DISTRICT, ["district-tg", "district-fb"])
    mark_sent(net, post_id)

    with net.transaction(DISTRICT) as (session, org):
        choice = ShareChoice(HEAD, telegram_mode=ShareMode.FORWARD)
        shared = share_post(session, org, post_id, choice, NOW, "test").id

    with net.sessions() as session:
        post = session.get_one(Post, shared)
        assert post.organization_id == net.ids[HEAD]
        assert post.status is PostStatus.QUEUED
        assert (post.text, post.variants) == ("Puppet theatre", {"kk": "Қуыршақ театры"})
        rows = [
            (p.channel.name, p.kind, p.share_mode, p.shared_from.channel.name, p.due_at, p.state)
            for p in post.publications
            if p.shared_from is not None
        ]
        assert sorted(rows) == [
            ("region-fb", PublicationKind.POST, ShareMode.LINK, "district-fb", NOW, "scheduled"),
            (
                "region-tg",
                PublicationKind.POST,
                ShareMode.FORWARD,
                "district-tg",
                NOW,
                "scheduled",
            ),
        ]
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "post.share")).one()
        assert entry.organization_id == net.ids[HEAD]
        assert entry.details["source"] == f"post:{post_id}"
        assert shared_post_ids(session, [post_id, shared]) == {post_id}


def test_only_the_chosen_channel_and_telegram_copies_by_default(net: Network) -> None:
    post_id = queue(net, DISTRICT, ["district-tg", "district-fb"])
    mark_sent(net, post_id)
    with net.transaction(DISTRICT) as (session, org):
        shared = share_post(session, org, post_id, ShareChoice(HEAD, ["region-tg"]), NOW, "t")
        assert [(p.channel.name, p.share_mode) for p in shared.publications] == [
            ("region-tg", ShareMode.COPY)
        ]


@pytest.mark.parametrize(
    ("org", "target", "channels", "error", "ru"),
    [
        (VILLAGE, HEAD, [], NotFound, "Нет публикации"),  # another library's post
        (DISTRICT, VILLAGE, [], InvalidInput, "не входит"),  # a sibling, not above
        (DISTRICT, DISTRICT, [], InvalidInput, "не входит"),  # itself
        (DISTRICT, "Nowhere", [], InvalidInput, "не входит"),
        (DISTRICT, HEAD, ["region-ig"], InvalidInput, "Instagram"),  # no Instagram share
        (DISTRICT, HEAD, ["district-tg"], InvalidInput, "не канал"),  # not the head's channel
    ],
)
def test_refusals_write_nothing(
    net: Network,
    org: str,
    target: str,
    channels: list[str],
    error: type[Exception],
    ru: str,
) -> None:
    post_id = queue(net, DISTRICT, ["district-tg"])
    mark_sent(net, post_id)
    before = snapshot(net)
    with net.transaction(org) as (session, library), pytest.raises(error) as refused:
        share_post(session, library, post_id, ShareChoice(target, channels), NOW, "t")
    assert isinstance(refused.value, InvalidInput)
    assert ru in explain(refused.value, "ru")
    assert snapshot(net) == before


def test_a_telegram_post_cannot_go_to_the_heads_page(net: Network) -> None:
    post_id = queue(net, DISTRICT, ["district-tg"])
    mark_sent(net, post_id)
    before = snapshot(net)
    with net.transaction(DISTRICT) as (session, org), pytest.raises(InvalidInput) as refused:
        share_post(session, org, post_id, ShareChoice(HEAD, ["region-fb"]), NOW, "t")
    assert "region-fb is on Facebook, and the post was published on Telegram" in str(refused.value)
    for language in ("kk", "lt"):
        assert explain(refused.value, language) != str(refused.value)
    assert snapshot(net) == before


def test_not_published_yet_and_not_twice(net: Network) -> None:
    post_id = queue(net, DISTRICT, ["district-tg"])
    before = snapshot(net)
    with net.transaction(DISTRICT) as (session, org), pytest.raises(InvalidInput) as refused:
        share_post(session, org, post_id, ShareChoice(HEAD), NOW, "t")
    assert "not published yet" in str(refused.value)
    assert "ещё не вышла" in explain(refused.value, "ru")
    assert snapshot(net) == before

    mark_sent(net, post_id)
    with net.transaction(DISTRICT) as (session, org):
        share_post(session, org, post_id, ShareChoice(HEAD), NOW, "t")
    before = snapshot(net)
    with net.transaction(DISTRICT) as (session, org), pytest.raises(InvalidInput) as again:
        share_post(session, org, post_id, ShareChoice(HEAD, ["region-tg"]), NOW, "t")
    assert "already shared to region-tg" in str(again.value)
    assert snapshot(net) == before


def test_a_library_outside_any_network_has_nowhere_to_share(net: Network) -> None:
    post_id = queue(net, HEAD, ["region-tg"])
    mark_sent(net, post_id)
    with net.transaction(HEAD) as (session, org), pytest.raises(InvalidInput) as refused:
        share_post(session, org, post_id, ShareChoice(DISTRICT), NOW, "t")
    assert "belongs to no network" in str(refused.value)


def test_an_event_announcement_is_shared_up(net: Network) -> None:
    with net.transaction(VILLAGE) as (session, org):
        new = NewEvent(
            "Knygų mugė", NOW + timedelta(days=3), ["village-tg"], NOW, reminder_offsets=[]
        )
        event_id = add_event(session, org, new, net.media_dir, NOW, "t").id
    with net.transaction(VILLAGE) as (session, org), pytest.raises(InvalidInput) as early:
        share_event(session, org, event_id, ShareChoice(HEAD), NOW, "t")
    assert "not announced yet" in str(early.value)
    with net.sessions.begin() as session:
        announcement = session.scalars(
            select(Publication).where(Publication.event_id == event_id)
        ).one()
        announcement.state = PublicationState.SENT
        announcement.remote_id = "7"
        announcement.progress = {"chat_id": -1001000000004, "message_ids": [7, 8]}
    with net.transaction(VILLAGE) as (session, org):
        shared = share_event(session, org, event_id, ShareChoice(HEAD), NOW, "t")
        assert shared.text == "Knygų mugė"
        assert [p.channel.name for p in shared.publications] == ["region-tg"]
