"""A post or event its channels cannot take is refused in the reader's language, each limit
translated with its own parameters and the ways out named (no English inside a Russian or
Kazakh message); nothing is written."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from content.domain.states import Platform
from content.errors import InvalidInput
from content.i18n import explain
from content.queueing.scheduling import NewEvent, NewPost, add_event, queue_post
from content.storage.models import Event, Post, Publication
from content.storage.registry import add_channel
from tests.support.network import IG_ACCOUNT, Network, network

SOON = datetime.now(UTC) + timedelta(days=3)


@pytest.fixture
def net(database_url: str, tmp_path: Path) -> Iterator[Network]:
    with network(database_url, tmp_path) as made:
        with made.transaction("District Library") as (session, org):
            add_channel(
                session, org, made.cipher, name="district-ig", platform=Platform.INSTAGRAM,
                external_id=IG_ACCOUNT, token="EAAtestPageToken0123456789", language=None,
                actor="test",
            )  # fmt: skip
        yield made


def event_refusal(net: Network, org_name: str, channel: str) -> str:
    """add_event's refusal of a poster-less event on `channel`, in the library's language."""
    with net.transaction(org_name) as (session, org):
        new = NewEvent(
            title="Поэзия кеші", starts_at=SOON, channels=[channel], announce_at=SOON,
            reminder_offsets=[],
        )  # fmt: skip
        try:
            add_event(session, org, new, net.media_dir, datetime.now(UTC), "test")
        except InvalidInput as err:
            return explain(err, org.language)
    raise AssertionError("the event was accepted")


def test_an_event_without_a_poster_is_refused_on_instagram_in_each_librarys_language(
    net: Network,
) -> None:
    before = net.counts(Event, Publication)
    refusals = {
        "kk": event_refusal(net, "Regional Library", "region-ig"),
        "ru": event_refusal(net, "District Library", "district-ig"),
    }
    assert refusals["kk"] == (
        "region-ig: Instagram үшін кемінде бір сурет керек. Сурет қосыңыз немесе мәтінді "
        "қысқартыңыз, не болмаса бұл арнаны алып тастаңыз."
    )
    assert refusals["ru"] == (
        "district-ig: для Instagram нужно хотя бы одно изображение. Добавьте изображение или "
        "сократите текст либо уберите этот канал."
    )
    assert net.counts(Event, Publication) == before


def test_each_limit_a_post_exceeds_is_translated_with_its_numbers(net: Network) -> None:
    new = NewPost("#a " * 31, ["region-ig"], SOON)
    with net.transaction("Regional Library") as (session, org):  # noqa: SIM117 - one refusal
        with pytest.raises(InvalidInput) as caught:
            queue_post(session, org, new, net.media_dir, "test")
    kk = explain(caught.value, "kk")
    assert "region-ig: Instagram үшін кемінде бір сурет керек; " in kk
    assert "31" in kk
    assert "30" in kk
    assert "the number of hashtags" not in kk
    assert "the number of hashtags is 31, over the Instagram limit of 30 by 1" in str(caught.value)
    assert net.count(Post) == 0
