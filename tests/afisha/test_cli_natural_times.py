"""`--at`, `--starts` and `--announce` read the times the bot reads ("ертең 18:30", "завтра в 10",
"dabar"), each library's in its own zone; an unreadable one is refused naming every form, and
nothing is written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result

from afisha.cli import cli
from content.storage.models import AuditEntry, Event, Post, Publication
from tests.support.network import Network, network


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
            "AFISHA_ORGANIZATION": "Regional Library",
            "AFISHA_TIMEZONE": "Asia/Almaty",
            "AFISHA_LANGUAGE": "kk",
            "AFISHA_MEDIA_DIR": str(tmp_path / "media"),
        }
    )


def tomorrow_at(zone: str, hour: int, minute: int = 0) -> set[datetime]:
    """Tomorrow at `hour` in `zone`, as UTC (both candidates, should the local date turn while
    the command runs)."""
    tz = ZoneInfo(zone)
    today = datetime.now(UTC).astimezone(tz).date()
    return {
        datetime.combine(day, time(hour, minute), tz).astimezone(UTC)
        for day in (today + timedelta(days=1), today + timedelta(days=2))
    }


def next_friday(zone: str, hour: int, minute: int) -> datetime:
    tz = ZoneInfo(zone)
    today: date = datetime.now(UTC).astimezone(tz).date()
    ahead = (4 - today.weekday()) % 7 or 7
    friday = datetime.combine(today + timedelta(days=ahead), time(hour, minute), tz)
    if friday - timedelta(days=7) > datetime.now(UTC):
        friday -= timedelta(days=7)
    return friday.astimezone(UTC)


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.parametrize(
    ("org", "zone", "starts", "announce", "channel"),
    [
        ("Regional Library", "Asia/Almaty", "ертең 18:30", "қазір", "region-tg"),
        ("Village Library", "Europe/Vilnius", "rytoj 18:30", "dabar", "village-tg"),
        ("District Library", "Europe/Moscow", "завтра в 18:30", "сейчас", "district-tg"),
    ],
)
def test_event_add_reads_natural_times_in_the_librarys_zone(
    afisha: Run, org: str, zone: str, starts: str, announce: str, channel: str
) -> None:
    before = datetime.now(UTC)
    result = afisha(
        "event", "add", "--org", org, "--title", "Poetry night", "--starts", starts,
        "--announce", announce, "--channels", channel, "--reminders", "2h", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert moment(shown["starts_at"]) in tomorrow_at(zone, 18, 30)
    announcement = next(p for p in shown["publications"] if p["kind"] == "announcement")
    assert before - timedelta(minutes=1) <= moment(announcement["due_at"]) <= datetime.now(UTC)


def test_post_add_at_reads_each_librarys_own_tomorrow_and_friday(afisha: Run) -> None:
    moscow = afisha(
        "post", "add", "--org", "District Library", "--text", "Книжная ярмарка",
        "--channels", "district-tg", "--at", "завтра в 10", "--json",
    )  # fmt: skip
    vilnius = afisha(
        "post", "add", "--org", "Village Library", "--text", "Knygų mugė",
        "--channels", "village-tg", "--at", "penktadienį 18:30", "--json",
    )  # fmt: skip
    assert moscow.exit_code == 0, moscow.output
    assert vilnius.exit_code == 0, vilnius.output
    (in_moscow,) = json.loads(moscow.output)["publications"]
    (in_vilnius,) = json.loads(vilnius.output)["publications"]
    assert moment(in_moscow["due_at"]) in tomorrow_at("Europe/Moscow", 10)
    assert moment(in_vilnius["due_at"]) == next_friday("Europe/Vilnius", 18, 30)


FORMS = ("write now, tomorrow 10:00, friday 18:30, 2026-12-01 10:00 (local time)",)


@pytest.mark.parametrize(
    ("args", "shown", "not_shown"),
    [
        (
            ["post", "add", "--org", "District Library", "--text", "x", "--channels",
             "district-tg", "--at", "когда-нибудь"],
            (*FORMS, "2026-12-01T10:00+05:00 or next-slot"),
            (),
        ),
        (
            ["event", "add", "--org", "Regional Library", "--title", "x", "--channels",
             "region-tg", "--starts", "бір күні 18:30"],
            (*FORMS, "or 2026-12-01T10:00+05:00"),
            ("next-slot",),  # a start is no posting slot
        ),
    ],
)  # fmt: skip
def test_an_unreadable_time_names_every_form_and_writes_nothing(
    afisha: Run, net: Network, args: list[str], shown: tuple[str, ...], not_shown: tuple[str, ...]
) -> None:
    """The command line speaks English (as its options do), whatever the library's language."""
    before = net.counts(Post, Event, Publication, AuditEntry)
    result = afisha(*args)
    assert result.exit_code == 2, result.output
    for form in shown:
        assert form in result.output
    for word in not_shown:
        assert word not in result.output
    assert net.counts(Post, Event, Publication, AuditEntry) == before
