"""`--org` on every command that acts on a library's data: optional with one organisation,
required with several, and never reaching another library's records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.afisha.test_cli import Afisha, afisha  # noqa: F401 - the fixture
from tests.support.dbdump import dump
from tests.support.feeds import rss

FIRST = "My Library"

# Each command acting on one library's data, with arguments that would otherwise be valid.
COMMANDS = [
    ["staff", "add", "333", "--name", "Dana", "--role", "editor"],
    ["staff", "list"],
    ["staff", "set", "111", "--role", "editor"],
    ["staff", "remove", "111"],
    ["channel", "add", "fresh", "--platform", "telegram", "--chat-id", "@fresh_news"],
    ["channel", "list"],
    ["channel", "pause", "news"],
    ["channel", "resume", "news"],
    ["channel", "remove", "news"],
    ["status"],
    ["post", "add", "--text", "Hello", "--channels", "news", "--at", "2099-01-05 10:00"],
    ["post", "list"],
    ["post", "show", "1"],
    ["post", "cancel", "1"],
    ["event", "add", "--title", "Talk", "--starts", "2099-01-05 18:00", "--channels", "news"],
    ["event", "list"],
    ["event", "cancel", "1"],
    ["event", "ical"],
    ["feed", "add", "https://library.example/news.xml", "--channels", "news"],
    ["feed", "list"],
    ["feed", "remove", "1"],
    ["feed", "poll"],
    ["slot", "add", "news", "tue", "10:00"],
    ["slot", "remove", "news", "tue", "10:00"],
    ["slot", "list"],
    ["slot", "next", "--channels", "news"],
    ["stats"],
    ["report", "--month", "2026-11", "--format", "csv"],
    ["import", "plan.csv"],
]


def _two_libraries(afisha: Afisha) -> None:  # noqa: F811
    afisha.ok("org", "add", "Village", "--parent", FIRST, "--timezone", "Europe/Vilnius")
    afisha.ok("staff", "add", "111", "--name", "Aigerim", "--role", "manager", "--org", FIRST)
    afisha.ok(
        "channel", "add", "village-news", "--platform", "telegram", "--chat-id",
        "@village_news", "--org", "Village",
    )  # fmt: skip


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_with_several_libraries_a_command_without_org_names_the_choices(
    afisha: Afisha,  # noqa: F811
    database_url: str,
    args: list[str],
) -> None:
    _two_libraries(afisha)
    with open("plan.csv", "w", encoding="utf-8") as sheet:
        sheet.write("kind,date,time,channels,text\npost,2099-01-05,10:00,news,Hello\n")
    before = dump(database_url)
    result = afisha(*args)
    assert result.exit_code == 2, result.output
    assert "several organisations; choose one with --org: My Library, Village" in result.output
    assert dump(database_url) == before


def test_with_one_library_org_is_optional_and_may_still_be_given(
    afisha: Afisha,  # noqa: F811
) -> None:
    afisha.ok("staff", "add", "111", "--name", "Aigerim", "--role", "manager")
    afisha.ok("staff", "add", "222", "--name", "Egle", "--role", "editor", "--org", FIRST)
    assert len(json.loads(afisha.ok("staff", "list", "--json").output)) == 2
    result = afisha("staff", "list", "--org", "Village")
    assert result.exit_code == 2
    assert "no organisation is named Village; there are: My Library" in result.output


def test_staff_act_on_their_membership_of_the_library_named(
    afisha: Afisha,  # noqa: F811
    database_url: str,
) -> None:
    _two_libraries(afisha)
    afisha.ok("staff", "add", "111", "--name", "Aigerim", "--role", "editor", "--org", "Village")
    afisha.ok("staff", "add", "222", "--name", "Egle", "--role", "editor", "--org", "Village")

    def listed(org: str) -> list[tuple[int, str]]:
        members = json.loads(afisha.ok("staff", "list", "--json", "--org", org).output)
        return [(m["telegram_user_id"], m["role"]) for m in members]

    assert listed(FIRST) == [(111, "manager")]  # never Egle, who is only the village's
    assert listed("Village") == [(111, "editor"), (222, "editor")]
    afisha.ok("staff", "set", "111", "--role", "admin", "--org", "Village")
    assert listed(FIRST) == [(111, "manager")]
    before = dump(database_url)
    result = afisha("staff", "remove", "222", "--org", FIRST)
    assert result.exit_code == 2
    assert "no staff member of My Library has Telegram user id 222" in result.output
    assert dump(database_url) == before
    duplicate = afisha("staff", "add", "111", "--name", "A", "--role", "editor", "--org", FIRST)
    assert duplicate.exit_code == 2
    assert "already on the staff of My Library" in duplicate.output
    afisha.ok("staff", "remove", "111", "--org", "Village")
    assert listed(FIRST) == [(111, "manager")]
    assert listed("Village") == [(222, "editor")]


def test_another_librarys_channels_posts_and_events_are_not_reached(
    afisha: Afisha,  # noqa: F811
    database_url: str,
) -> None:
    _two_libraries(afisha)
    post = afisha.ok(
        "post", "add", "--text", "Story time", "--channels", "village-news", "--at",
        "2099-01-05 10:00", "--org", "Village", "--json",
    ).output  # fmt: skip
    post_id = str(json.loads(post)["id"])
    # Typed in the village's own zone (Vilnius, +02 in January), stored in UTC.
    assert json.loads(post)["publications"][0]["due_at"] == "2099-01-05T08:00:00+00:00"
    event_id = afisha.ok(
        "event", "add", "--title", "Talk", "--starts", "2099-01-06 18:00", "--channels",
        "village-news", "--org", "Village",
    ).output.strip()  # fmt: skip
    before = dump(database_url)
    for args, message in [
        (["post", "show", post_id], f"no post has id {post_id}"),
        (["post", "cancel", post_id], f"no post has id {post_id}"),
        (["event", "cancel", event_id], f"no event has id {event_id}"),
        (["channel", "pause", "village-news"], "unknown channel 'village-news'"),
        (["channel", "remove", "village-news"], "unknown channel 'village-news'"),
        (["slot", "add", "village-news", "tue", "10:00"], "unknown channel 'village-news'"),
        (["slot", "next", "--channels", "village-news"], "unknown channel 'village-news'"),
        (
            [
                "post",
                "add",
                "--text",
                "x",
                "--channels",
                "village-news",
                "--at",
                "2099-01-05 10:00",
            ],
            "(known channels: news)",
        ),  # fmt: skip
        (
            [
                "event",
                "add",
                "--title",
                "x",
                "--starts",
                "2099-01-05 18:00",
                "--channels",
                "village-news",
            ],
            "unknown channel 'village-news'",
        ),  # fmt: skip
        (
            ["feed", "add", "https://library.example/news.xml", "--channels", "village-news"],
            "unknown channel 'village-news'",
        ),
    ]:
        result = afisha(*args, "--org", FIRST)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)
    assert dump(database_url) == before
    for listing, key in [("post", "id"), ("event", "id"), ("channel", "name")]:
        mine = json.loads(afisha.ok(listing, "list", "--json", "--org", FIRST).output)
        theirs = json.loads(afisha.ok(listing, "list", "--json", "--org", "Village").output)
        assert {r[key] for r in mine}.isdisjoint({r[key] for r in theirs}), listing
        assert theirs, listing
    status = json.loads(afisha.ok("status", "--json", "--org", FIRST).output)
    assert status["queued"] == 0
    village = json.loads(afisha.ok("status", "--json", "--org", "Village").output)
    assert village["queued"] == 5  # the post, and the event's announcement and 3 reminders
    afisha.ok("post", "cancel", post_id, "--org", "Village")


def test_requires_approval_comes_from_the_settings_for_the_first_library(
    afisha: Afisha,  # noqa: F811
) -> None:
    afisha.ok("org", "add", "Village", "--requires-approval")
    on = {"AFISHA_REQUIRES_APPROVAL": "true"}
    shown = json.loads(afisha("org", "show", FIRST, "--json", env=on).output)
    assert shown["requires_approval"] is True
    village = json.loads(afisha("org", "show", "Village", "--json", env=on).output)
    assert village["requires_approval"] is True  # its own, untouched by the settings
    refused = afisha("org", "set", FIRST, "--no-requires-approval", env=on)
    assert refused.exit_code == 2
    assert "the settings file decides requires_approval" in refused.output
    # Unset again, the settings leave it as it was; then `org set` decides.
    assert json.loads(afisha.ok("org", "show", FIRST, "--json").output)["requires_approval"]
    afisha.ok("org", "set", FIRST, "--no-requires-approval")
    assert not json.loads(afisha.ok("org", "show", FIRST, "--json").output)["requires_approval"]
    bad = afisha("org", "list", env={"AFISHA_REQUIRES_APPROVAL": "maybe"})
    assert bad.exit_code == 2
    assert "requires_approval must be true or false" in bad.output


def test_a_plan_imports_only_onto_the_librarys_own_channels(
    afisha: Afisha,  # noqa: F811
    database_url: str,
) -> None:
    _two_libraries(afisha)
    with open("plan.csv", "w", encoding="utf-8") as sheet:
        sheet.write("kind,date,time,channels,text\npost,2099-01-05,10:00,village-news,Hello\n")
    before = dump(database_url)
    refused = afisha("import", "plan.csv", "--org", FIRST)
    assert refused.exit_code == 2, refused.output
    assert "unknown channel 'village-news'" in refused.output
    assert dump(database_url) == before
    afisha.ok("import", "plan.csv", "--org", "Village")
    (post,) = json.loads(afisha.ok("post", "list", "--json", "--org", "Village").output)
    # 10:00 in Vilnius, the village's zone, not the first library's Almaty.
    assert post["publications"][0]["due_at"] == "2099-01-05T08:00:00+00:00"
    assert json.loads(afisha.ok("post", "list", "--json", "--org", FIRST).output) == []


def test_a_librarys_feeds_are_polled_into_its_own_drafts(
    afisha: Afisha,  # noqa: F811
    tmp_path: Path,
) -> None:
    _two_libraries(afisha)
    (tmp_path / "village.xml").write_bytes(rss(3))
    (tmp_path / "first.xml").write_bytes(rss(5))
    afisha.ok("feed", "add", str(tmp_path / "village.xml"), "--channels", "village-news",
              "--org", "Village")  # fmt: skip
    afisha.ok("feed", "add", str(tmp_path / "first.xml"), "--channels", "news", "--org", FIRST)
    polled = afisha.ok("feed", "poll", "--org", "Village").output.strip()
    assert polled == "polled 1 feed(s): 3 new draft(s), 0 queued"
    village = json.loads(afisha.ok("post", "list", "--json", "--org", "Village").output)
    assert [p["status"] for p in village] == ["draft"] * 3
    assert json.loads(afisha.ok("post", "list", "--json", "--org", FIRST).output) == []
    (mine,) = json.loads(afisha.ok("feed", "list", "--json", "--org", FIRST).output)
    assert mine["polled_at"] is None  # the first library's feed waits for its own poll
