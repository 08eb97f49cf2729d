"""Engagement collection falling back to public counts (real instaloader against the sandbox's
public web over HTTP) where Graph refuses a token its insights or counts; the refusal kept per
channel and Graph asked again a day later."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from afisha.channel_factory import ChannelFactory
from afisha.config import Settings
from afisha.views import channel_json, iso
from channels.base import Outgoing
from content.domain.states import Platform, PublicationKind, PublicationState
from content.storage.db import make_engine, session_factory, upgrade
from content.storage.models import Channel, EngagementSnapshot, Organization, Publication
from content.storage.registry import add_channel
from content.storage.secrets import CredentialCipher, generate_key
from sandbox.engagement import Engagement
from sandbox.graph_state import BASIC_PERMISSION, INSIGHTS_PERMISSION, GraphState
from sandbox.runner import SandboxThread
from scheduler.clock import ManualClock
from scheduler.collect import INSIGHTS_RECHECK, collect_due
from scheduler.compose import MediaLocation
from scheduler.engine import Engine, EngineSettings
from scheduler.limits import Pacer, rates_for
from tests.channels.graph_helpers import advance, instagram_channel, on_state, stored_image

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@dataclass
class Network:
    """A regional library and a district library, each with an Instagram channel."""

    sessions: sessionmaker[Session]
    engine: Engine
    clock: ManualClock
    factory: ChannelFactory
    sandbox: SandboxThread
    media: list[str]  # the two media published on the sandbox's Instagram account
    shortcodes: list[str]

    def snapshots(self) -> dict[tuple[str, str], EngagementSnapshot]:
        """The newest snapshot by (channel name, remote id)."""
        with self.sessions() as session:
            rows = session.execute(
                select(Channel.name, Publication.remote_id, EngagementSnapshot)
                .join(Publication, Publication.id == EngagementSnapshot.publication_id)
                .join(Channel, Channel.id == Publication.channel_id)
                .order_by(EngagementSnapshot.collected_at, EngagementSnapshot.id)
            ).all()
            return {(name, str(remote)): snapshot for name, remote, snapshot in rows}

    def refused_at(self, name: str) -> datetime | None:
        with self.sessions() as session:
            channel = session.scalars(select(Channel).where(Channel.name == name)).one()
            # `channel list --json` shows it as it is stored.
            assert channel_json(channel)["insights_refused_at"] == iso(channel.insights_refused_at)
            return channel.insights_refused_at

    def counts(self, media_id: str) -> Engagement:
        return on_state(
            self.sandbox, lambda s: s.engagement(media_id, s.media[media_id].published_at)
        )

    def public_web_calls(self) -> int:
        calls = self.sandbox.sandbox.ledger.calls
        return sum(n for name, n in calls.items() if name == "instagram_web.graphql")


def _deny(sandbox: SandboxThread, token: str, *permissions: str) -> None:
    on_state(sandbox, lambda s: s.deny_permissions(token, set(permissions)))


@pytest.fixture
async def network(database_url: str, sandbox: SandboxThread, tmp_path: Path) -> Iterator[Network]:
    publisher = instagram_channel(sandbox)
    media = []
    for name in ("fair.jpg", "quiet.jpg"):
        outgoing = Outgoing(name, (stored_image(tmp_path, name),))
        media.append((await publisher.publish(outgoing)).remote_id)
    await publisher.close()

    def shortcode(state: GraphState, media_id: str) -> str:
        return state.media[media_id].shortcode

    shortcodes = [on_state(sandbox, lambda s, m=m: shortcode(s, m)) for m in media]
    # The second post hides its like and view counts from visitors.
    on_state(sandbox, lambda s: setattr(s.media[media[1]], "counts_hidden", True))
    advance(sandbox, 3 * 3600)

    database = make_engine(database_url)
    upgrade(database)
    sessions = session_factory(database)
    cipher = CredentialCipher(generate_key())
    account = sandbox.sandbox.fixtures.instagram[0]
    page = sandbox.sandbox.fixtures.pages[0]
    with sessions.begin() as session:
        regional = Organization(name="Regional Library", timezone="Europe/Vilnius", language="lt")
        session.add(regional)
        session.flush()
        district = Organization(
            name="District Library", timezone="Asia/Almaty", language="kk", parent_id=regional.id
        )
        session.add(district)
        session.flush()
        # The regional desk's token may publish but neither read insights nor counts; the
        # district's (the linked Page's) reads counts but not insights.
        channels = {
            "ig-regional": add_channel(
                session,
                regional,
                cipher,
                name="ig-regional",
                platform=Platform.INSTAGRAM,
                external_id=account.id,
                token=account.access_token,
                language=None,
                actor="test",
            ),
            "ig-district": add_channel(
                session,
                district,
                cipher,
                name="ig-district",
                platform=Platform.INSTAGRAM,
                external_id=account.id,
                token=page.access_token,
                language=None,
                actor="test",
            ),
        }
        for name, published in (("ig-regional", media), ("ig-district", media[:1])):
            for media_id, code in zip(published, shortcodes, strict=False):
                session.add(
                    Publication(
                        kind=PublicationKind.POST,
                        channel_id=channels[name].id,
                        due_at=START - timedelta(hours=1),
                        state=PublicationState.SENT,
                        remote_id=media_id,
                        remote_url=f"https://www.instagram.com/p/{code}/",
                        sent_at=START - timedelta(hours=1),
                        next_collect_at=START,
                    )
                )
    _deny(sandbox, account.access_token, INSIGHTS_PERMISSION, BASIC_PERMISSION)
    _deny(sandbox, page.access_token, INSIGHTS_PERMISSION)

    settings = replace(
        Settings(),
        graph_api_url=sandbox.base_url + "/graph",
        graph_api_version="v21.0",
        instagram_web_url=sandbox.base_url + "/instagram-web",
    )
    factory = ChannelFactory(settings, cipher, sessions)
    clock = ManualClock(START)
    engine = Engine(
        sessions,
        factory,
        clock,
        EngineSettings(worker="w1", media=MediaLocation(tmp_path / "media")),
        Pacer(clock, enabled=False),
        lambda c: rates_for(c.platform.value, c.external_id, None),
        rng=random.Random(1),
    )
    yield Network(sessions, engine, clock, factory, sandbox, media, shortcodes)
    await factory.close()
    database.dispose()


async def test_refused_counts_are_read_publicly_and_hidden_likes_stay_unknown(
    network: Network,
) -> None:
    assert await collect_due(network.engine) == 3

    got = network.snapshots()
    fair, quiet = network.media
    seen = network.counts(fair)
    regional = got[("ig-regional", fair)]
    assert (regional.source, regional.reactions, regional.comments) == (
        "instaloader_public",
        seen.reactions,
        seen.comments,
    )
    assert seen.reactions > 0
    hidden = got[("ig-regional", quiet)]
    assert hidden.source == "instaloader_public"
    assert hidden.reactions is None  # hidden: unknown, not the 0 instaloader's Post.likes reads
    assert hidden.comments == network.counts(quiet).comments
    district = got[("ig-district", fair)]
    assert (district.source, district.reactions, district.reach) == ("graph", seen.reactions, None)
    assert network.public_web_calls() > 0


async def test_the_refusal_is_kept_per_channel_and_asked_again_a_day_later(
    network: Network,
) -> None:
    await collect_due(network.engine)
    assert network.refused_at("ig-regional") == START
    assert network.refused_at("ig-district") == START
    page = network.sandbox.sandbox.fixtures.pages[0]
    _deny(network.sandbox, page.access_token)  # the district's token is granted insights
    # A fresh process (a restart, another worker) knows of the refusal from the database.
    await network.factory.close()

    network.clock.advance(hours=6)
    await collect_due(network.engine)
    district = network.snapshots()[("ig-district", network.media[0])]
    assert district.source == "graph"  # not asked within the day
    assert district.collected_at == network.clock.now()

    network.clock.advance(hours=INSIGHTS_RECHECK.total_seconds() / 3600)
    await collect_due(network.engine)
    district = network.snapshots()[("ig-district", network.media[0])]
    assert district.source == "graph_insights"
    assert district.reach is not None
    assert network.refused_at("ig-district") is None
    assert network.refused_at("ig-regional") == network.clock.now()  # still refused: renewed
