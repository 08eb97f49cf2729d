"""A regional network in one deployment, for the bot's tests: a head (the regional library)
with two member libraries, and a library outside the network; staff on one or several of them.
On SQLite and PostgreSQL (the `database_url` fixture)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import build_application
from bot.services import BotServices
from channels.download import download_image
from content.domain.states import Platform, Role
from content.queueing.drafts import save_draft, submit_for_approval
from content.queueing.scheduling import NewEvent, NewPost, add_event, queue_post
from content.storage.db import make_engine, session_factory, upgrade
from content.storage.models import Organization, Post, Publication, StaffMember
from content.storage.registry import add_channel
from content.storage.secrets import CredentialCipher, generate_key
from sandbox.runner import SandboxThread
from scheduler.clock import ManualClock
from tests.bot.conftest import Library
from tests.bot.harness import BotHarness
from tests.bot.posting import START

# The people: each on the staff of the libraries named.
HEAD_MANAGER = 600000001  # manager of the regional library (the network head)
HEAD_EDITOR = 600000002  # editor of the regional library
VILNIUS_EDITOR = 600000011  # editor of the Vilnius district library (it has no manager)
ALMATY_MANAGER = 600000021  # manager of the Almaty district library
ALMATY_EDITOR = 600000022  # editor of the Almaty district library
BOTH_EDITOR = 600000031  # editor of both member libraries
OUTSIDER = 600000041  # administrator of the city library, outside the network
MIXED = 600000051  # manager of the Almaty district library, editor of the Vilnius one

HEAD, VILNIUS, ALMATY, CITY = "Regional Library", "Vilnius District", "Almaty District", "City"


@dataclass
class Network:
    library: Library
    orgs: dict[str, int]  # name → id
    channels: dict[str, int]  # name → id
    clock: ManualClock

    def org(self, name: str) -> Organization:
        with self.library.sessions() as session:
            return session.get_one(Organization, self.orgs[name])

    def staff_id(self, user_id: int, org: str) -> int:
        with self.library.sessions() as session:
            return session.scalars(
                select(StaffMember.id).where(
                    StaffMember.telegram_user_id == user_id,
                    StaffMember.organization_id == self.orgs[org],
                )
            ).one()

    def post(self, post_id: int) -> Post:
        with self.library.sessions() as session:
            return session.get_one(Post, post_id)

    def queued(self, org: str, text: str, channel: str, author: int | None = None) -> int:
        with self.library.sessions.begin() as session:
            new = NewPost(text, [channel], START + timedelta(days=2), author_id=author)
            post = queue_post(
                session, session.get_one(Organization, self.orgs[org]), new, self.media, "test"
            )
            return post.id

    def draft(self, org: str, text: str, channel: str, author: int | None = None) -> int:
        with self.library.sessions.begin() as session:
            new = NewPost(text, [channel], None, author_id=author)
            post = save_draft(
                session, session.get_one(Organization, self.orgs[org]), new, self.media, "test"
            )
            return post.id

    def pending(self, org: str, text: str, channel: str, author: int) -> int:
        with self.library.sessions.begin() as session:
            new = NewPost(text, [channel], START + timedelta(days=2), author_id=author)
            organization = session.get_one(Organization, self.orgs[org])
            return submit_for_approval(session, organization, new, self.media, "test").id

    def event(self, org: str, title: str, channel: str) -> int:
        with self.library.sessions.begin() as session:
            new = NewEvent(
                title=title,
                starts_at=START + timedelta(days=5),
                channels=[channel],
                announce_at=START + timedelta(days=1),
                reminder_offsets=[1440],
            )
            organization = session.get_one(Organization, self.orgs[org])
            return add_event(session, organization, new, self.media, START, "test").id

    def publication_of(self, post_id: int) -> int:
        with self.library.sessions() as session:
            return session.scalars(
                select(Publication.id).where(Publication.post_id == post_id)
            ).one()

    @property
    def media(self) -> Path:
        return self.library.services.media_dir


def _org(session: object, name: str, zone: str, language: str, parent: int | None) -> int:
    org = Organization(name=name, timezone=zone, language=language, parent_id=parent)
    session.add(org)  # type: ignore[attr-defined]
    session.flush()  # type: ignore[attr-defined]
    return org.id


@pytest.fixture
def network(tmp_path: Path, sandbox: SandboxThread, database_url: str) -> Iterator[Network]:
    database = make_engine(database_url)
    upgrade(database)
    sessions = session_factory(database)
    cipher = CredentialCipher(generate_key())
    chats = sandbox.sandbox.fixtures.chats
    with sessions.begin() as session:
        head = _org(session, HEAD, "Asia/Almaty", "ru", None)
        vilnius = _org(session, VILNIUS, "Europe/Vilnius", "lt", head)
        almaty = _org(session, ALMATY, "Asia/Almaty", "kk", head)
        city = _org(session, CITY, "Asia/Almaty", "ru", None)
        orgs = {HEAD: head, VILNIUS: vilnius, ALMATY: almaty, CITY: city}
        people = [
            (HEAD_MANAGER, head, "Marat", Role.MANAGER, "en"),
            (HEAD_EDITOR, head, "Aigerim", Role.EDITOR, "en"),
            (VILNIUS_EDITOR, vilnius, "Egle", Role.EDITOR, "lt"),
            (ALMATY_MANAGER, almaty, "Dana", Role.MANAGER, "kk"),
            (ALMATY_EDITOR, almaty, "Arman", Role.EDITOR, "kk"),
            (BOTH_EDITOR, vilnius, "Jonas", Role.EDITOR, "en"),
            (BOTH_EDITOR, almaty, "Jonas", Role.EDITOR, "en"),
            (OUTSIDER, city, "Olga", Role.ADMIN, "ru"),
            (MIXED, almaty, "Saule", Role.MANAGER, "en"),
            (MIXED, vilnius, "Saule", Role.EDITOR, "en"),
        ]
        for user, org_id, name, role, language in people:
            session.add(
                StaffMember(
                    organization_id=org_id,
                    telegram_user_id=user,
                    name=name,
                    role=role,
                    language=language,
                )
            )
        channels = {}
        for name, org_id, chat in [
            ("region-news", head, chats[0]),
            ("vilnius-news", vilnius, chats[1]),
            ("almaty-news", almaty, chats[2]),
            ("city-news", city, chats[3]),
        ]:
            channel = add_channel(
                session,
                session.get_one(Organization, org_id),
                cipher,
                name=name,
                platform=Platform.TELEGRAM,
                external_id=str(chat.id),
                token=None,
                language=None,
                actor="test",
            )
            channels[name] = channel.id
    clock = ManualClock(START)
    services = BotServices(sessions, clock, tmp_path / "media", "en", fetch_image=download_image)
    yield Network(Library(database, sessions, services, cipher), orgs, channels, clock)
    database.dispose()


@pytest.fixture
async def bot(network: Network, sandbox: SandboxThread) -> AsyncIterator[BotHarness]:
    application = build_application(
        network.library.services, sandbox.sandbox.fixtures.bot_token, sandbox.base_url
    )
    await application.initialize()
    try:
        yield BotHarness(sandbox, application)
    finally:
        await application.shutdown()
