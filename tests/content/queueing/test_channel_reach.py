"""Which channels a library's staff reach by name: the library's own, and (for a network head)
its member libraries'; a sibling's, the head's (from a member) or an outside library's channel
is unknown to every content function, and nothing is written."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from content.domain.states import ChannelStatus, Platform
from content.errors import InvalidInput, NotFound
from content.i18n import explain
from content.queueing.bulk import BulkPost, queue_many
from content.queueing.drafts import save_draft, submit_for_approval
from content.queueing.scheduling import NewEvent, NewPost, add_event, queue_post
from content.queueing.slots import add_slot, next_free_slot
from content.storage.models import AuditEntry, Channel, Event, Organization, Post, Publication
from content.storage.registry import add_channel, remove_channel, set_channel_status
from tests.support.network import Network, network

NOW = datetime(2026, 12, 9, 6, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=2)
HEAD, DISTRICT, VILLAGE, CITY = (
    "Regional Library",
    "District Library",
    "Village Library",
    "City Library",
)


@pytest.fixture
def net(database_url: str, tmp_path: Path) -> Iterator[Network]:
    """The network, and a city library outside it with a channel of its own."""
    with network(database_url, tmp_path) as made:
        with made.sessions.begin() as session:
            city = Organization(name=CITY, timezone="Europe/Vilnius", language="lt")
            session.add(city)
            session.flush()
            made.ids[CITY] = city.id
            add_channel(
                session,
                city,
                made.cipher,
                name="city-tg",
                platform=Platform.TELEGRAM,
                external_id="@city_library",
                token=None,
                language=None,
                actor="test",
            )
        yield made


def _written(net: Network) -> tuple[int, ...]:
    return net.counts(Post, Event, Publication, AuditEntry)


Action = Callable[[Session, Organization, Network, str], object]


def _post(session: Session, org: Organization, net: Network, channel: str) -> object:
    return queue_post(session, org, NewPost("Book week", [channel], LATER), net.media_dir, "t")


def _event(session: Session, org: Organization, net: Network, channel: str) -> object:
    new = NewEvent("Talk", LATER + timedelta(days=1), [channel], LATER, [60])
    return add_event(session, org, new, net.media_dir, NOW, "t")


def _draft(session: Session, org: Organization, net: Network, channel: str) -> object:
    return save_draft(session, org, NewPost("Draft", [channel], None), net.media_dir, "t")


def _submit(session: Session, org: Organization, net: Network, channel: str) -> object:
    new = NewPost("For approval", [channel], LATER)
    return submit_for_approval(session, org, new, net.media_dir, "t")


def _bulk(session: Session, org: Organization, net: Network, channel: str) -> object:
    posts = [BulkPost("Plan", [channel], LATER), BulkPost("Plan 2", [channel], LATER)]
    return queue_many(session, org, posts, "t")


def _slot(session: Session, org: Organization, net: Network, channel: str) -> object:
    return next_free_slot(session, [channel], NOW, org=org)


ACTIONS: dict[str, Action] = {
    "post": _post,
    "event": _event,
    "draft": _draft,
    "submit": _submit,
    "bulk": _bulk,
    "slot": _slot,
}

REACH = {
    HEAD: {"region-tg", "region-fb", "region-ig", "district-tg", "district-fb", "village-tg"},
    DISTRICT: {"district-tg", "district-fb"},
    VILLAGE: {"village-tg"},
    CITY: {"city-tg"},
}
OWN = {**REACH, HEAD: {"region-tg", "region-fb", "region-ig"}}
# (acting library, channel): a sibling's, the head's from a member, an outside library's.
OUT_OF_REACH = [
    (DISTRICT, "village-tg"),
    (VILLAGE, "district-fb"),
    (DISTRICT, "region-tg"),
    (HEAD, "city-tg"),
    (CITY, "district-tg"),
]


@pytest.mark.parametrize("action", ACTIONS, ids=str)
@pytest.mark.parametrize(("acting", "channel"), OUT_OF_REACH, ids=lambda v: str(v))
def test_a_channel_out_of_reach_is_unknown_and_nothing_is_written(
    net: Network, action: str, acting: str, channel: str
) -> None:
    before = _written(net)
    with pytest.raises(NotFound) as refused:
        with net.transaction(acting) as (session, org):
            ACTIONS[action](session, org, net, channel)
    assert _written(net) == before
    assert repr(channel) in str(refused.value)
    # Only what the library reaches is offered: nothing of another library's.
    # Posting times are a channel's own library's: a head's slots are its own channels'.
    reach = OWN[acting] if action == "slot" else REACH[acting]
    known = ", ".join(sorted(reach))
    assert str(refused.value).endswith(f"(known channels: {known})")
    shown = explain(refused.value, "ru")
    assert shown != str(refused.value)
    assert repr(channel) in shown


def test_a_network_head_reaches_its_members_channels(net: Network) -> None:
    with net.transaction(HEAD) as (session, head):
        post = _post(session, head, net, "village-tg")
        event = _event(session, head, net, "district-tg")
        add_slot(session, head, "region-tg", [2], 600, "t")
        ids = queue_many(
            session, head, [BulkPost("Plan", ["region-tg", "district-fb"], LATER)], "t"
        )
        assert isinstance(post, Post)
        assert isinstance(event, Event)
        post_id, event_id = post.id, event.id
    with net.sessions() as session:
        assert {p.channel.name for p in session.get_one(Post, post_id).publications} == {
            "village-tg"
        }
        assert {p.channel.name for p in session.get_one(Event, event_id).publications} == {
            "district-tg"
        }
        assert {p.channel.name for p in session.get_one(Post, ids[0]).publications} == {
            "region-tg",
            "district-fb",
        }


def test_a_member_reaches_its_own_channels_only(net: Network) -> None:
    with net.transaction(VILLAGE) as (session, village):
        post = _post(session, village, net, "village-tg")
        assert isinstance(post, Post)
        assert post.organization_id == net.ids[VILLAGE]


def _administer(session: Session, org: Organization, change: str, channel: str) -> None:
    if change == "remove":
        remove_channel(session, org, channel, "t")
    else:
        status = ChannelStatus.PAUSED if change == "pause" else ChannelStatus.ACTIVE
        set_channel_status(session, org, channel, status, "t", now=NOW)


@pytest.mark.parametrize("change", ["pause", "resume", "remove"])
def test_another_librarys_channel_cannot_be_paused_resumed_or_removed(
    net: Network, change: str
) -> None:
    """Channels are administered by their own library, even by the network head."""
    for acting, channel in [(HEAD, "district-tg"), (DISTRICT, "village-tg"), (CITY, "region-tg")]:
        before = _written(net)
        with net.transaction(acting) as (session, org), pytest.raises(NotFound, match=channel):
            _administer(session, org, change, channel)
        assert _written(net) == before
    with net.sessions() as session:
        statuses = set(session.scalars(select(Channel.status)))
        assert statuses == {ChannelStatus.ACTIVE}
        assert session.scalar(select(Channel).where(Channel.name == "village-tg")) is not None


def _add_news(net: Network, library: str) -> None:
    with net.transaction(library) as (session, org):
        add_channel(
            session,
            org,
            net.cipher,
            name="news",
            platform=Platform.TELEGRAM,
            external_id="@" + library.split()[0].lower() + "_news",
            token=None,
            language=None,
            actor="t",
        )


def test_each_library_may_have_a_channel_of_the_same_name(net: Network) -> None:
    for library in (DISTRICT, VILLAGE, CITY):
        _add_news(net, library)
    with pytest.raises(InvalidInput, match="a channel named 'news' already exists"):
        _add_news(net, CITY)
    for library in (DISTRICT, VILLAGE, CITY):
        with net.transaction(library) as (session, org):
            post = _post(session, org, net, "news")
            assert isinstance(post, Post)
            (publication,) = post.publications
            assert publication.channel.organization_id == net.ids[library]
    # The head reaches two members' "news" (never the city's): acting for one of them chooses.
    before = _written(net)
    with net.transaction(HEAD) as (session, head), pytest.raises(InvalidInput) as ambiguous:
        _post(session, head, net, "news")
    assert _written(net) == before
    assert str(ambiguous.value) == (
        "several member libraries of Regional Library have a channel named 'news' "
        "(District Library, Village Library): act for that library to choose its channel"
    )
    assert explain(ambiguous.value, "kk") != str(ambiguous.value)
    # A channel of its own of that name is the head's "news".
    _add_news(net, HEAD)
    with net.transaction(HEAD) as (session, head):
        post = _post(session, head, net, "news")
        assert isinstance(post, Post)
        assert post.publications[0].channel.organization_id == net.ids[HEAD]
