"""From the command line a library's commands reach its own channels: a member library's
sibling's channel, the network head's, or a channel of a library outside the network is
refused with the channel named, and nothing is written."""

from __future__ import annotations

import pytest

from tests.afisha.test_cli import Afisha, afisha  # noqa: F401 - the fixture
from tests.support.dbdump import dump

FIRST = "My Library"  # the network head; "news" is its channel


def _network(afisha: Afisha) -> None:  # noqa: F811
    afisha.ok("org", "add", "Village", "--parent", FIRST, "--timezone", "Europe/Vilnius")
    afisha.ok("org", "add", "Town", "--parent", FIRST, "--timezone", "Asia/Almaty")
    afisha.ok("org", "add", "City", "--timezone", "Europe/Vilnius")
    for org, name in [("Village", "village-news"), ("Town", "town-news"), ("City", "city-news")]:
        chat = "@" + name.replace("-", "_")
        afisha.ok("channel", "add", name, "--platform", "telegram", "--chat-id", chat, "--org", org)


@pytest.mark.parametrize(
    ("org", "channel"),
    [("Village", "town-news"), ("Village", "news"), (FIRST, "city-news"), ("City", "news")],
)
def test_a_channel_out_of_reach_is_refused_by_post_and_event_add(
    afisha: Afisha,  # noqa: F811
    database_url: str,
    org: str,
    channel: str,
) -> None:
    _network(afisha)
    before = dump(database_url)
    for args in [
        ["post", "add", "--text", "Story time", "--at", "2099-01-05 10:00"],
        ["event", "add", "--title", "Talk", "--starts", "2099-01-06 18:00"],
    ]:
        result = afisha(*args, "--channels", channel, "--org", org)
        assert result.exit_code == 2, result.output
        assert f"unknown channel {channel!r}" in result.output
        assert "city-news" not in result.output.split("known channels")[-1] or org == "City"
    assert dump(database_url) == before
    afisha.ok("post", "add", "--text", "Story time", "--at", "2099-01-05 10:00",
              "--channels", "village-news", "--org", "Village")  # fmt: skip
    assert dump(database_url) != before
