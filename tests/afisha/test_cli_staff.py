"""Staff on the command line: adding, changing a role, and taking someone off staff for good."""

from __future__ import annotations

import json

from sqlalchemy import select

from content.storage.db import make_engine, session_factory
from content.storage.models import BotConversation, Organization, Post
from content.storage.registry import get_staff
from content.storage.store import post_people
from tests.afisha.test_cli import Afisha, afisha  # noqa: F401 - the fixture
from tests.support.dbdump import dump


def _seed_history(database_url: str) -> None:
    """Aigerim (111) wrote one post and reviewed two; she is in the middle of a rejection."""
    engine = make_engine(database_url)
    try:
        with session_factory(engine).begin() as session:
            org = session.scalars(select(Organization)).one()
            aigerim, egle = get_staff(session, 111), get_staff(session, 222)
            session.add_all(
                [
                    Post(
                        organization_id=org.id,
                        text="Own",
                        author_id=aigerim.id,
                        reviewed_by=aigerim.id,
                    ),
                    Post(
                        organization_id=org.id,
                        text="Egle's",
                        author_id=egle.id,
                        reviewed_by=aigerim.id,
                        review_note="too long",
                    ),
                ]
            )
            session.add(BotConversation(user_id=111, chat_id=111, flow="approval", step="reason"))
            session.add(BotConversation(user_id=222, chat_id=222, flow="new_post", step="text"))
    finally:
        engine.dispose()


def _people(database_url: str) -> dict[str, tuple[str | None, str | None]]:
    engine = make_engine(database_url)
    try:
        with session_factory(engine).begin() as session:
            posts = session.scalars(select(Post).order_by(Post.id))
            return {post.text: post_people(session, post) for post in posts}
    finally:
        engine.dispose()


def _conversations(database_url: str) -> list[int]:
    engine = make_engine(database_url)
    try:
        with session_factory(engine).begin() as session:
            return list(session.scalars(select(BotConversation.user_id)))
    finally:
        engine.dispose()


def test_someone_with_history_is_removed_and_their_posts_keep_their_name(
    afisha: Afisha,  # noqa: F811
    database_url: str,
) -> None:
    afisha.ok("staff", "add", "111", "--name", "Aigerim", "--role", "manager")
    afisha.ok("staff", "add", "222", "--name", "Egle", "--role", "editor")
    _seed_history(database_url)

    assert "removed staff member 111" in afisha.ok("staff", "remove", "111").output

    listed = json.loads(afisha.ok("staff", "list", "--json").output)
    assert [m["telegram_user_id"] for m in listed] == [222]
    assert _people(database_url) == {"Own": ("Aigerim", "Aigerim"), "Egle's": ("Egle", "Aigerim")}
    assert _conversations(database_url) == [222]  # hers ended; Egle's goes on
    # Someone who comes back is added afresh; their old posts still read as before.
    afisha.ok("staff", "add", "111", "--name", "Aigerim B.", "--role", "editor")
    assert _people(database_url)["Own"] == ("Aigerim", "Aigerim")


def test_staff_set_changes_a_role_name_and_language_in_place(
    afisha: Afisha,  # noqa: F811
    database_url: str,
) -> None:
    afisha.ok("staff", "add", "111", "--name", "Aigerim", "--role", "manager", "--lang", "ru")
    afisha.ok("staff", "add", "222", "--name", "Egle", "--role", "editor", "--lang", "lt")
    _seed_history(database_url)
    output = afisha.ok("staff", "set", "111", "--role", "editor", "--lang", "kk").output
    assert "Aigerim (editor, kk)" in output
    afisha.ok("staff", "set", "111", "--role", "admin", "--name", "Aigerim Sultan")
    assert json.loads(afisha.ok("staff", "list", "--json").output) == [
        {"telegram_user_id": 111, "name": "Aigerim Sultan", "role": "admin", "language": "kk"},
        {"telegram_user_id": 222, "name": "Egle", "role": "editor", "language": "lt"},
    ]
    assert _people(database_url)["Own"] == ("Aigerim Sultan", "Aigerim Sultan")


def test_staff_commands_refuse_unknown_people_and_bad_values(
    afisha: Afisha,  # noqa: F811
    database_url: str,
) -> None:
    afisha.ok("staff", "add", "111", "--name", "Aigerim", "--role", "manager")
    for args, reason in [
        (["remove", "999"], "no staff member of My Library has Telegram user id 999"),
        (
            ["set", "999", "--role", "editor"],
            "no staff member of My Library has Telegram user id 999",
        ),
        (["set", "111", "--role", "boss"], "unknown role 'boss'"),
        (["set", "111", "--role", "editor", "--lang", "de"], "unsupported language 'de'"),
        (["set", "111", "--role", "editor", "--name", "  "], "needs a name"),
    ]:
        before = dump(database_url)
        result = afisha("staff", *args)
        assert result.exit_code == 2, (args, result.output)
        assert reason in result.output
        assert dump(database_url) == before
