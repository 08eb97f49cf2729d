"""Updates and button presses from staff and strangers, through the bot's one entry point.

In-process, for speed: an update is read by the bot's `read_incoming` from Telegram's JSON (as
PTB parses it) and handled by the Dispatcher against a real SQLite database; only the replies
are not sent. A crash is the Dispatcher's "Something went wrong" (it logs the exception and
answers that); a refusal of a stranger must write nothing but the record of the update.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from telegram import Update

from bot.access import GRANTS, Permission, allowed
from bot.dispatch import SOMETHING_WRONG, Dispatcher, read_incoming
from bot.flows import build_router
from bot.services import BotServices
from channels.download import download_image
from content.domain.languages import LANGUAGES
from content.domain.states import Platform, Role
from content.i18n import translate
from content.storage.db import make_engine, session_factory, upgrade
from content.storage.models import StaffMember
from content.storage.orm_base import Base
from content.storage.registry import add_channel, add_staff, ensure_organization
from content.storage.secrets import CredentialCipher, generate_key
from scheduler.clock import ManualClock
from tests.fuzz import budget, ran

ADMIN, EDITOR, STRANGER = 600000001, 600000021, 600000099
ROUTER = build_router()
PREFIXES = sorted(ROUTER.buttons)
PUBLIC = {p for p, route in ROUTER.buttons.items() if route.permission is Permission.PUBLIC}
ACTIONS = [
    "alt",
    "altall",
    "back",
    "ch",
    "chan",
    "chok",
    "edit",
    "lang",
    "langs",
    "next",
    "no",
    "nophotos",
    "novar",
    "ok",
    "quit",
    "save",
    "time",
    "resume",
    "del",
    "delok",
    "page",
    "cancel",
    "cx",
    "keep",
    "move",
    "now",
    "view",
    "open",
    "retry",
    "yes",
    "today",
    "tomorrow",
    "pick",
    "slot",
    "en",
    "ru",
    "kk",
    "lt",
    "de",
]
SMALL_IDS = st.integers(0, 40).map(str)
SOMETHING_WRONG_ANYWHERE = {translate(language, SOMETHING_WRONG) for language in LANGUAGES}
_LONG_NUMBER = re.compile(r"\d{19,}")


def _callback_data(ids: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    part = st.one_of(st.sampled_from(ACTIONS), ids, st.text(max_size=6))
    structured = st.builds(
        lambda prefix, parts: ":".join([prefix, *parts]),
        st.sampled_from(PREFIXES),
        st.lists(part, max_size=3),
    )
    return st.one_of(structured, st.text(max_size=64))


def _defect_10(data: str) -> bool:
    """Numbers past 64 bits, or digits other than ASCII ones (² and ١ pass str.isdigit)."""
    return bool(_LONG_NUMBER.search(data)) or any(c.isdigit() and not c.isascii() for c in data)


SAFE_DATA = _callback_data(SMALL_IDS).filter(lambda s: not _defect_10(s))
ANY_DATA = _callback_data(
    st.one_of(st.integers(0, 2**70).map(str), st.from_regex(r"\A\d{1,25}\Z"), SMALL_IDS)
)
COMMANDS = [f"/{name}" for name in ROUTER.commands] + ["/cancel", "/frobnicate", "/new@bot"]
TEXTS = st.one_of(
    st.text(max_size=80),
    st.builds(
        lambda c, rest: f"{c} {rest}".strip(), st.sampled_from(COMMANDS), st.text(max_size=20)
    ),
    st.sampled_from(["завтра в 10", "ертең 10:00", "rytoj 10:00", "tomorrow 10:00", "-", "now"]),
)
USERS = st.sampled_from([ADMIN, EDITOR, STRANGER])
CLIENT_LANGUAGES = st.sampled_from([None, "en", "ru", "kk", "lt", "de", "pt-BR", ""])


class _Crashes(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class BotUnderTest:
    """The Dispatcher over a seeded library, with its own event loop."""

    def __init__(self, folder: Path) -> None:
        self.engine = make_engine(f"sqlite:///{folder}/afisha.db")
        upgrade(self.engine)
        self.sessions: sessionmaker[Session] = session_factory(self.engine)
        with self.sessions.begin() as session:
            org = ensure_organization(session, "Fuzzed Library", "Europe/Vilnius", "lt")
            add_staff(session, org, ADMIN, "Aigerim", "admin", "ru", "test")
            add_staff(session, org, EDITOR, "Egle", "editor", "lt", "test")
            add_channel(
                session,
                org,
                CredentialCipher(generate_key()),
                name="news",
                platform=Platform.TELEGRAM,
                external_id="@library_news",
                token=None,
                language=None,
                actor="test",
            )
        clock = ManualClock(datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
        self.dispatcher = Dispatcher(
            BotServices(self.sessions, clock, folder / "media", fetch_image=download_image), ROUTER
        )
        self.loop = asyncio.new_event_loop()
        self.update_ids = count(1)
        self.crashes = _Crashes()
        logging.getLogger("bot.dispatch").addHandler(self.crashes)

    def close(self) -> None:
        logging.getLogger("bot.dispatch").removeHandler(self.crashes)
        self.loop.close()
        self.engine.dispose()

    def rows(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row but the record of handled updates, the conversations' state and who has
        started the bot (bookkeeping of every private update, not something an update asks)."""
        skip = {"processed_update", "bot_conversation", "follower"}
        with self.engine.connect() as connection:
            return {
                name: sorted(map(tuple, connection.execute(select(table))), key=repr)
                for name, table in Base.metadata.tables.items()
                if name not in skip
            }

    def handle(self, payload: dict[str, Any]) -> list[str]:
        """Handle one update; returns the texts the bot would send. Fails on a crash."""
        payload = {"update_id": next(self.update_ids), **payload}
        update = Update.de_json(payload, None)  # type: ignore[arg-type]
        incoming = self.loop.run_until_complete(read_incoming(update, None))  # type: ignore[arg-type]
        if incoming is None:
            return []
        outcome = self.loop.run_until_complete(self.dispatcher._handle(incoming))
        texts = [] if outcome is None else [r.text for r in outcome.replies]
        crashes, self.crashes.records = self.crashes.records, []
        assert not crashes, [r.getMessage() for r in crashes]
        assert not SOMETHING_WRONG_ANYWHERE & set(texts), texts
        return texts


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotUnderTest]:
    under_test = BotUnderTest(tmp_path_factory.mktemp("bot"))
    yield under_test
    under_test.close()


def _person(user: int, language: str | None) -> dict[str, Any]:
    person: dict[str, Any] = {"id": user, "is_bot": False, "first_name": "Reader"}
    if language is not None:
        person["language_code"] = language
    return person


def _message(user: int, language: str | None, text: str) -> dict[str, Any]:
    chat = {"id": user, "type": "private"}
    return {"message_id": 1, "date": 0, "chat": chat, "from": _person(user, language), "text": text}


def _press(bot: BotUnderTest, user: int, language: str | None, data: str) -> None:
    before = bot.rows() if user == STRANGER else None
    bot.handle(
        {
            "callback_query": {
                "id": "1",
                "from": _person(user, language),
                "chat_instance": "1",
                "data": data,
                "message": {**_message(user, language, "…"), "from": _person(1, None)},
            }
        }
    )
    if before is not None and data.split(":")[0] not in PUBLIC:
        assert bot.rows() == before, data


@budget(4_000, 30)
@given(user=USERS, language=CLIENT_LANGUAGES, data=SAFE_DATA)
def test_button_presses(bot: BotUnderTest, user: int, language: str | None, data: str) -> None:
    ran("bot.callback")
    _press(bot, user, language, data)


@budget(10_000, 40)
@given(user=USERS, language=CLIENT_LANGUAGES, data=ANY_DATA)
@example(user=ADMIN, language="ru", data=f"np:open:{2**64}")
@example(user=ADMIN, language="ru", data="ap:alt:¹")  # found by make fuzz
def test_button_presses_with_any_number(
    bot: BotUnderTest, user: int, language: str | None, data: str
) -> None:
    ran("bot.callback(any number)")
    _press(bot, user, language, data)


@budget(4_000, 30)
@given(user=USERS, language=CLIENT_LANGUAGES, text=TEXTS)
def test_messages(bot: BotUnderTest, user: int, language: str | None, text: str) -> None:
    ran("bot.message")
    if not text:
        return
    before = bot.rows() if user == STRANGER else None
    replies = bot.handle({"message": _message(user, language, text)})
    if before is not None:
        assert bot.rows() == before, text
        assert replies  # a stranger always hears something


ROLES = st.one_of(st.none(), st.sampled_from(list(Role)))


@budget(2_000, 20)
@given(role=ROLES, permission=st.sampled_from(list(Permission)))
def test_the_authorisation_function(role: Role | None, permission: Permission) -> None:
    ran("bot.access.allowed")
    staff = None if role is None else StaffMember(role=role)
    granted = allowed(staff, permission)
    if permission is Permission.PUBLIC:
        assert granted
    elif staff is None:
        assert not granted
    else:
        assert granted == (permission in GRANTS[role])  # type: ignore[index]
        # Roles nest: whatever an editor may, a manager may; whatever a manager may, an admin.
        assert GRANTS[Role.EDITOR] <= GRANTS[Role.MANAGER] <= GRANTS[Role.ADMIN]
