"""`afisha org`: a regional library and its member libraries, added, changed and removed."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from content.storage.db import make_engine, session_factory
from content.storage.models import AuditEntry
from tests.afisha.test_cli import Afisha, afisha  # noqa: F401 - the fixture
from tests.support.dbdump import dump

FIRST = "My Library"  # the settings' default name of the first organisation


def _network(afisha: Afisha) -> None:  # noqa: F811
    afisha.ok("org", "add", "District", "--parent", FIRST, "--language", "kk")
    afisha.ok(
        "org",
        "add",
        "Village",
        "--parent",
        "District",
        "--timezone",
        "Europe/Vilnius",
        "--language",
        "lt",
        "--requires-approval",
        "--grace-minutes",
        "40",
    )


def _audit(database_url: str) -> list[tuple[int | None, str, str | None]]:
    engine = make_engine(database_url)
    try:
        with session_factory(engine).begin() as session:
            rows = session.execute(
                select(AuditEntry.organization_id, AuditEntry.action, AuditEntry.subject)
                .where(AuditEntry.action.like("organization.%"))
                .order_by(AuditEntry.id)
            )
            return [tuple(row) for row in rows]
    finally:
        engine.dispose()


def test_libraries_are_added_as_a_tree_and_inherit_from_their_head(
    afisha: Afisha,  # noqa: F811
) -> None:
    _network(afisha)
    afisha.ok("org", "add", "Another region", "--timezone", "Asia/Aqtobe")

    tree = json.loads(afisha.ok("org", "list", "--json").output)
    assert [n["name"] for n in tree] == [FIRST, "Another region"]
    (district,) = tree[0]["members"]
    (village,) = district["members"]
    # The district takes its head's zone; the village its own settings.
    assert (district["timezone"], district["language"], district["parent"]) == (
        "Asia/Almaty",
        "kk",
        FIRST,
    )
    assert village == {
        "id": village["id"],
        "name": "Village",
        "parent": "District",
        "timezone": "Europe/Vilnius",
        "language": "lt",
        "requires_approval": True,
        "grace_minutes": 40,
        "grace_minutes_in_force": 40,
        "members": [],
    }
    assert tree[1]["members"] == []
    assert tree[1]["grace_minutes_in_force"] == 15
    text = afisha.ok("org", "list").output.splitlines()
    assert text[0].startswith(FIRST)
    assert text[1].startswith("  District")
    assert text[2].startswith("    Village")


def test_show_gives_the_librarys_own_channels_staff_and_queue(
    afisha: Afisha,  # noqa: F811
) -> None:
    _network(afisha)
    afisha.ok("staff", "add", "111", "--name", "Aigerim", "--role", "manager", "--org", FIRST)
    afisha.ok("staff", "add", "222", "--name", "Egle", "--role", "editor", "--org", "Village")
    afisha.ok(
        "channel", "add", "village-news", "--platform", "telegram", "--chat-id", "@village_news",
        "--org", "Village",
    )  # fmt: skip
    afisha.ok(
        "post", "add", "--text", "Story time", "--channels", "village-news", "--at",
        "2099-01-05 10:00", "--org", "Village",
    )  # fmt: skip

    village = json.loads(afisha.ok("org", "show", "Village", "--json").output)
    assert [c["name"] for c in village["channels"]] == ["village-news"]
    assert [m["name"] for m in village["staff"]] == ["Egle"]
    assert (village["queued_posts"], village["queued_publications"]) == (1, 1)
    first = json.loads(afisha.ok("org", "show", FIRST, "--json").output)
    assert [c["name"] for c in first["channels"]] == ["news"]
    assert [m["name"] for m in first["staff"]] == ["Aigerim"]
    assert (first["queued_posts"], first["members"]) == (0, ["District"])
    assert "village-news" in afisha.ok("org", "show", "Village").output


def test_set_changes_settings_and_moves_a_library(
    afisha: Afisha,  # noqa: F811
    database_url: str,
) -> None:
    _network(afisha)
    afisha.ok("org", "add", "Another region")
    out = afisha.ok(
        "org", "set", "Village", "--parent", "Another region", "--no-requires-approval",
        "--grace-minutes", "0", "--language", "RU",
    ).output  # fmt: skip
    assert "requires_approval True -> False" in out
    assert "parent_id District -> Another region" in out
    village = json.loads(afisha.ok("org", "show", "Village", "--json").output)
    assert (village["parent"], village["language"], village["grace_minutes"]) == (
        "Another region",
        "ru",
        0,
    )
    afisha.ok("org", "set", "Village", "--no-parent", "--name", "Village library")
    names = [n["name"] for n in json.loads(afisha.ok("org", "list", "--json").output)]
    assert names == [FIRST, "Village library", "Another region"]  # oldest first
    assert "nothing to change" in afisha.ok("org", "set", "Village library").output
    assert [a for _, a, _ in _audit(database_url)].count("organization.update") == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["set", FIRST, "--parent", "Village"], "go round in a circle"),
        (["set", "District", "--parent", "District"], "go round in a circle"),
        (["set", "Nowhere", "--language", "kk"], "no organisation is named Nowhere"),
        (["add", "Hamlet", "--parent", "Nowhere"], "no organisation is named Nowhere"),
        (["add", "district"], "an organisation named District already exists"),
        (["add", "  "], "needs a name"),
        (["add", "Hamlet", "--timezone", "Mars/Olympus"], "unknown time zone"),
        (["add", "Hamlet", "--language", "de"], "unsupported language"),
        (["add", "Hamlet", "--grace-minutes", "-1"], "0 to 1440 minutes"),
        (["set", "Village", "--grace-minutes", "1441"], "0 to 1440 minutes"),
        (["set", "Village", "--name", "district"], "already exists"),
        (["set", "Village", "--parent", FIRST, "--no-parent"], "not both"),
        (["set", FIRST, "--timezone", "UTC"], "the settings file decides timezone"),
        (["set", FIRST, "--name", "Other"], "the settings file decides name"),
        (["show", "Nowhere"], "there are: My Library, District, Village"),
        (["remove", "Nowhere"], "no organisation is named Nowhere"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(
    afisha: Afisha,  # noqa: F811
    database_url: str,
    args: list[str],
    message: str,
) -> None:
    _network(afisha)
    before = dump(database_url)
    result = afisha("org", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert dump(database_url) == before


def test_remove_is_refused_while_the_library_holds_something(
    afisha: Afisha,  # noqa: F811
    database_url: str,
) -> None:
    _network(afisha)
    afisha.ok(
        "channel", "add", "village-news", "--platform", "telegram", "--chat-id", "@village_news",
        "--org", "Village",
    )  # fmt: skip
    post = afisha.ok(
        "post", "add", "--text", "Story time", "--channels", "village-news", "--at",
        "2099-01-05 10:00", "--org", "Village",
    ).output.strip()  # fmt: skip
    refusals = [
        ("District", "is the network head of Village"),
        ("Village", "still has 1 channel(s)"),
        (FIRST, "is the network head of District"),
    ]
    for name, message in refusals:
        before = dump(database_url)
        result = afisha("org", "remove", name)
        assert result.exit_code == 2, result.output
        assert message in result.output
        assert dump(database_url) == before
    afisha.ok("post", "cancel", post, "--org", "Village")
    # A channel with history stays (for the reports), and so does its library.
    result = afisha("org", "remove", "Village")
    assert result.exit_code == 2
    assert "still has 1 channel(s)" in result.output


def test_an_empty_library_is_removed_with_its_staff_and_the_trail_kept(
    afisha: Afisha,  # noqa: F811
    database_url: str,
) -> None:
    _network(afisha)
    afisha.ok("staff", "add", "222", "--name", "Egle", "--role", "editor", "--org", "Village")
    afisha.ok("staff", "add", "222", "--name", "Egle", "--role", "manager", "--org", "District")
    village_id = json.loads(afisha.ok("org", "show", "Village", "--json").output)["id"]

    assert "removed organisation Village" in afisha.ok("org", "remove", "Village").output

    names = [n["name"] for n in json.loads(afisha.ok("org", "list", "--json").output)[0]["members"]]
    assert names == ["District"]
    district = json.loads(afisha.ok("org", "show", "District", "--json").output)
    assert [(m["name"], m["role"]) for m in district["staff"]] == [("Egle", "manager")]
    trail = [(org, action) for org, action, subject in _audit(database_url)
             if subject == f"organization:{village_id}"]  # fmt: skip
    assert trail == [(None, "organization.create"), (None, "organization.remove")]


def test_settings_naming_the_first_library_as_another_is_a_clear_error(
    afisha: Afisha,  # noqa: F811
    database_url: str,
) -> None:
    _network(afisha)
    before = dump(database_url)
    result = afisha("org", "list", env={"AFISHA_ORGANIZATION": "Village"})
    assert result.exit_code == 2, result.output
    assert "another organisation has that name" in result.output
    assert dump(database_url) == before


def test_help_lists_the_org_commands() -> None:
    from click.testing import CliRunner

    from afisha.cli import cli

    assert "  org " in CliRunner().invoke(cli, ["--help"]).output
    output = CliRunner().invoke(cli, ["org", "--help"]).output
    assert all(f"  {s} " in output for s in ("add", "list", "show", "set", "remove")), output
