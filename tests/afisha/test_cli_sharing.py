"""`afisha post share` and `afisha event share` on a network of three libraries: exit codes,
messages, and nothing written on a refusal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from afisha.cli import cli
from content.domain.states import PublicationKind, PublicationState
from content.queueing.scheduling import NewEvent, NewPost, add_event, queue_post
from content.storage.models import AuditEntry, Organization, Post, Publication
from tests.support.network import NEWS, Network, network

SOON = datetime.now(UTC) + timedelta(days=2)


class Run:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def __call__(self, *args: str) -> Result:
        return CliRunner().invoke(cli, list(args), env=self.env)


@pytest.fixture
def net(database_url: str, tmp_path: Path) -> Iterator[Network]:
    with network(database_url, tmp_path) as made:
        yield made


@pytest.fixture
def afisha(net: Network, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.chdir(tmp_path)
    return Run(
        {
            "AFISHA_DATABASE_URL": database_url,
            # The installation's first organisation is the network head, as the settings say.
            "AFISHA_ORGANIZATION": "Regional Library",
            "AFISHA_TIMEZONE": "Asia/Almaty",
            "AFISHA_LANGUAGE": "kk",
            "AFISHA_MEDIA_DIR": str(tmp_path / "media"),
        }
    )


def published_post(net: Network, org: str, channels: list[str]) -> int:
    with net.transaction(org) as (session, library):
        post = queue_post(
            session, library, NewPost("Author talk", channels, SOON), net.media_dir, "t"
        )
        for number, publication in enumerate(post.publications, 1):
            publication.state = PublicationState.SENT
            publication.remote_id = str(number)
            publication.progress = {"chat_id": NEWS, "message_ids": [number]}
        return post.id


def test_post_share_queues_a_forward_for_the_head(afisha: Run, net: Network) -> None:
    post_id = published_post(net, "District Library", ["district-tg"])

    result = afisha(
        "post", "share", str(post_id), "--org", "District Library",
        "--to-org", "Regional Library", "--forward", "--json",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    [publication] = shown["publications"]
    assert (publication["channel"], publication["share_mode"]) == ("region-tg", "forward")
    with net.sessions() as session:
        post = session.get_one(Post, shown["id"])
        assert post.organization_id == net.ids["Regional Library"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--to-org", "Village Library"], "Village Library is not above District Library"),
        (["--to-org", "Regional Library", "--channel", "region-ig"], "region-ig is on Instagram"),
        (["--to-org", "Regional Library", "--channel", "village-tg"], "not a channel of Regional"),
        (["--to-org", "Nowhere"], "Nowhere is not above District Library"),
    ],
)
def test_post_share_refusals_exit_2_and_write_nothing(
    afisha: Run, net: Network, args: list[str], message: str
) -> None:
    post_id = published_post(net, "District Library", ["district-tg"])
    before = net.counts(Post, Publication, AuditEntry)

    result = afisha("post", "share", str(post_id), "--org", "District Library", *args)

    assert result.exit_code == 2, result.output
    assert message in result.output
    assert net.counts(Post, Publication, AuditEntry) == before


def test_another_librarys_post_and_the_choice_of_organisation(afisha: Run, net: Network) -> None:
    post_id = published_post(net, "District Library", ["district-tg"])
    before = net.counts(Post, Publication, AuditEntry)
    foreign = afisha(
        "post", "share", str(post_id), "--org", "Village Library", "--to-org", "Regional Library"
    )
    assert foreign.exit_code == 2
    assert f"no post has id {post_id}" in foreign.output
    unnamed = afisha("post", "share", str(post_id), "--to-org", "Regional Library")
    assert unnamed.exit_code == 2
    assert "choose one with --org" in unnamed.output
    assert net.counts(Post, Publication, AuditEntry) == before


def test_event_share(afisha: Run, net: Network) -> None:
    with net.transaction("Village Library") as (session, org):
        new = NewEvent("Knygų mugė", SOON, ["village-tg"], SOON - timedelta(days=1), [])
        event = add_event(session, org, new, net.media_dir, SOON - timedelta(days=1), "t")
        event_id = event.id
    not_yet = afisha(
        "event", "share", str(event_id), "--org", "Village Library", "--to-org", "Regional Library"
    )
    assert not_yet.exit_code == 2
    assert "is not announced yet" in not_yet.output
    with net.sessions.begin() as session:
        announcement = session.scalars(
            select(Publication).where(
                Publication.event_id == event_id,
                Publication.kind == PublicationKind.ANNOUNCEMENT,
            )
        ).one()
        announcement.state, announcement.remote_id = PublicationState.SENT, "3"

    result = afisha(
        "event", "share", str(event_id), "--org", "Village Library", "--to-org", "Regional Library"
    )

    assert result.exit_code == 0, result.output
    with net.sessions() as session:
        shared = session.get_one(Post, int(result.output))
        assert [(p.channel.name, p.share_mode) for p in shared.publications] == [
            ("region-tg", "copy")
        ]


def test_post_add_for_members_makes_one_post_per_member_library(afisha: Run, net: Network) -> None:
    with net.sessions.begin() as session:
        session.get_one(Organization, net.ids["Village Library"]).requires_approval = True
    day = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()

    result = afisha(
        "post", "add", "--text", "Book week", "--at", f"{day} 10:00",
        "--variant", "ru=Неделя книги", "--variant", "LT=Knygų savaitė",
        "--for-members", "--org", "Regional Library",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    lines = [line.split("\t") for line in result.output.strip().splitlines()]
    assert [(org, status) for _, org, _, status in lines] == [
        ("District Library", "queued"),
        ("Village Library", "waiting for approval"),
    ]
    assert [when.split()[1] for _, _, when, _ in lines] == ["10:00", "10:00"]  # each zone
    with net.sessions() as session:
        district = session.get_one(Post, int(lines[0][0]))
        assert {p.channel.name for p in district.publications} == {"district-tg", "district-fb"}
        assert district.text == "Неделя книги"
        village = session.get_one(Post, int(lines[1][0]))
        assert village.text == "Knygų savaitė"
        assert {p.due_at.astimezone(UTC).hour for p in district.publications} == {7}  # Moscow


def test_post_add_for_members_refusals(afisha: Run, net: Network) -> None:
    before = net.counts(Post, Publication, AuditEntry)
    both = afisha(
        "post", "add", "--text", "x", "--at", "now", "--for-members",
        "--org", "Regional Library", "--channels", "district-tg",
    )  # fmt: skip
    assert both.exit_code == 2
    assert "leave out --channels" in both.output
    leaf = afisha(
        "post", "add", "--text", "x", "--at", "now", "--for-members", "--org", "Village Library"
    )
    assert leaf.exit_code == 2
    assert "Village Library has no member libraries" in leaf.output
    odd = afisha(
        "post", "add", "--text", "x", "--at", "now", "--variant", "ru", "--for-members",
        "--org", "Regional Library",
    )  # fmt: skip
    assert odd.exit_code == 2
    assert "LANG=TEXT" in odd.output
    plain = afisha("post", "add", "--text", "x", "--at", "now", "--org", "Village Library")
    assert plain.exit_code == 2
    assert "name the channels with --channels" in plain.output
    assert net.counts(Post, Publication, AuditEntry) == before
