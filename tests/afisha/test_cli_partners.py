"""`afisha partner`: following partner libraries' public Instagram accounts, for two libraries,
checked on the sandbox's public Instagram with the real instaloader; bad input refused with
nothing written."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from channels.instagram_public import InstaloaderCollector
from content.storage.db import session_factory
from content.storage.secrets import generate_key
from sandbox.runner import SandboxThread
from scheduler.clock import ManualClock
from scheduler.partners import read_partners
from tests.afisha.test_cli import Afisha
from tests.support.dbdump import dump

REGIONAL, DISTRICT = "Regional Library", "District Library"


@pytest.fixture
def afisha(
    database_url: str, sandbox: SandboxThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Afisha:
    monkeypatch.chdir(tmp_path)
    run = Afisha(
        {
            "AFISHA_DATABASE_URL": database_url,
            "AFISHA_SECRET_KEY": generate_key(),
            "AFISHA_ORGANIZATION": REGIONAL,
            "AFISHA_TIMEZONE": "Europe/Vilnius",
            "AFISHA_INSTAGRAM_WEB_URL": sandbox.base_url + "/instagram-web",
        }
    )
    run.ok("db", "upgrade")
    run.ok("org", "list")  # the first organisation, from the settings, is made on first use
    run.ok(
        "org",
        "add",
        DISTRICT,
        "--parent",
        REGIONAL,
        "--timezone",
        "Asia/Almaty",
        "--language",
        "kk",
    )
    return run


async def test_partners_are_followed_read_and_listed_per_library(
    afisha: Afisha, database_url: str, sandbox: SandboxThread
) -> None:
    afisha.ok("partner", "add", "@District_Library", "--org", REGIONAL)
    afisha.ok("partner", "add", "village_reading_room", "--org", REGIONAL)
    afisha.ok("partner", "add", "district_library", "--org", DISTRICT)

    engine = create_engine(database_url)
    reader = InstaloaderCollector(sandbox.base_url + "/instagram-web", timeout=5)
    try:
        stored = await read_partners(
            session_factory(engine), ManualClock(datetime.now(UTC)), lambda: reader
        )
    finally:
        reader.close()
        engine.dispose()
    assert stored == 4 + 2 + 4

    listed = json.loads(afisha.ok("partner", "list", "--json").output)
    assert [(p["organization"], p["username"]) for p in listed] == [
        (REGIONAL, "district_library"),
        (REGIONAL, "village_reading_room"),
        (DISTRICT, "district_library"),
    ]
    district = listed[0]
    assert district["full_name"] == "District Library"
    hidden = next(p for p in district["posts"] if p["shortcode"] == "DistPost03")
    assert (hidden["reactions"], hidden["source"]) == (None, "instaloader_public")
    assert hidden["comments"] is not None
    video = next(p for p in district["posts"] if p["shortcode"] == "DistPost02")
    assert video["views"] is not None
    assert district["totals"]["reactions"]["known"] == 3  # of 4: one hides its likes
    assert district["totals"]["posts"] == 4

    only_district = json.loads(afisha.ok("partner", "list", "--org", DISTRICT, "--json").output)
    assert [p["username"] for p in only_district] == ["district_library"]
    text_list = afisha.ok("partner", "list", "--org", REGIONAL).output
    assert "likes" in text_list
    assert "(3/4)" in text_list  # the total says it omits the hidden count

    afisha.ok("partner", "remove", "district_library", "--org", DISTRICT)
    remaining = json.loads(afisha.ok("partner", "list", "--json").output)
    assert [(p["organization"], p["username"]) for p in remaining] == [
        (REGIONAL, "district_library"),
        (REGIONAL, "village_reading_room"),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["partner", "add", "nobody_here", "--org", REGIONAL], "no Instagram account is named"),
        (["partner", "add", "closed_library", "--org", REGIONAL], "is private"),
        (["partner", "add", "district_library", "--org", REGIONAL], "already follows"),
        (["partner", "add", "not a name!", "--org", REGIONAL], "is not an Instagram username"),
        (["partner", "add", "a" * 31, "--org", REGIONAL], "is not an Instagram username"),
        (["partner", "add", "district_library", "--org", "Nowhere"], "no organisation is named"),
        (["partner", "add", "district_library"], "choose one with --org"),
        (["partner", "remove", "village_reading_room", "--org", REGIONAL], "follows no Instagram"),
        (["partner", "list", "--org", "Nowhere"], "no organisation is named"),
    ],
)
def test_bad_input_is_refused_and_nothing_written(
    afisha: Afisha, database_url: str, args: list[str], message: str
) -> None:
    afisha.ok("partner", "add", "district_library", "--org", REGIONAL)
    before = dump(database_url)

    result = afisha(*args)

    assert result.exit_code == 2, result.output
    assert message in result.output
    assert dump(database_url) == before
