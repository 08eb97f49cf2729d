"""/stats and /report: engagement by channel and top posts, a post's own numbers, charts and the
monthly report file, in the reader's language."""

from __future__ import annotations

from datetime import timedelta

import pytest

from content.analytics.latest import record_snapshot
from content.domain.states import PublicationState
from content.queueing.scheduling import NewPost, queue_post
from content.storage.models import Publication
from scheduler.clock import ManualClock
from tests.bot.conftest import ADMIN, EDITOR, MANAGER, STRANGER, Library
from tests.bot.harness import BotHarness
from tests.bot.world import manual_clock, organization


@pytest.fixture
def clock(library: Library) -> ManualClock:
    return manual_clock(library)


def sent_post(
    library: Library, clock: ManualClock, text: str, days_ago: float, reactions: int, **counts: int
) -> int:
    """A post sent `days_ago` on news and fb, with engagement on both."""
    with library.sessions.begin() as session:
        post = queue_post(
            session,
            organization(session),
            NewPost(text, ["news", "fb"], clock.now()),
            library.services.media_dir,
            "test",
        )
        session.flush()
        when = clock.now() - timedelta(days=days_ago)
        for publication in post.publications:
            publication.state = PublicationState.SENT
            publication.sent_at = when
            publication.remote_url = f"https://example.test/{publication.channel_id}/{text[:4]}"
            record_snapshot(
                session,
                publication,
                when + timedelta(hours=1),
                source="test",
                reactions=reactions,
                **counts,
            )
        return post.id


@pytest.fixture
def engagement(library: Library, clock: ManualClock) -> dict[str, int]:
    return {
        "fair": sent_post(library, clock, "Book fair", 2, 30, comments=4, reach=900),
        "club": sent_post(library, clock, "Reading club", 5, 12),
        "old": sent_post(library, clock, "Summer camp", 20, 50),
    }


async def test_stats_summarises_channels_and_top_posts(
    bot: BotHarness, library: Library, clock: ManualClock, engagement: dict[str, int]
) -> None:
    await bot.send(MANAGER, "/lang")
    await bot.press(MANAGER, "lang:en")
    replies = await bot.send(MANAGER, "/stats 7d")
    text = str(replies[0]["text"])
    assert "Publications: 4" in text  # two posts on two channels in the last week
    assert "news (Telegram): 2 sent" in text
    assert "1. Book fair — 68" in text  # (30 + 4) × 2 channels
    assert "2. Reading club — 24" in text
    assert "Summer camp" not in text
    assert [bool(m.get("photo")) for m in replies[1:]] == [True, True, True]  # the charts

    (text_30d, *_charts) = await bot.send(MANAGER, "/stats 30d")
    assert "Summer camp" in str(text_30d["text"])
    sent_post(library, clock, "Winter fair", 0.1, 3)  # this morning, the only one in December
    (month, *_charts) = await bot.send(MANAGER, "/stats month")
    assert "Publications: 2" in str(month["text"])


async def test_stats_of_one_post(bot: BotHarness, engagement: dict[str, int]) -> None:
    (reply,) = await bot.send(MANAGER, f"/stats {engagement['fair']}")
    text = str(reply["text"])
    assert "Book fair" in text
    assert "news (Telegram)" in text
    assert "https://example.test/" in text
    assert "1 800" in text or "1\u00a0800" in text  # reach 900 × 2, in Kazakh grouping


@pytest.mark.parametrize(
    ("user", "heading"),
    [(ADMIN, "Вовлечённость"), (MANAGER, "Қатысу белсенділігі"), (EDITOR, None)],
)
async def test_stats_read_in_the_managers_language(
    bot: BotHarness, engagement: dict[str, int], user: int, heading: str | None
) -> None:
    (reply, *_charts) = await bot.send(user, "/stats")
    if heading is None:  # editors may not see stats
        assert "Publications" not in str(reply["text"])
    else:
        assert str(reply["text"]).startswith(heading)


@pytest.mark.parametrize("arg", ["yesterday", "post abc", "99999"])
async def test_stats_explains_what_it_cannot_read(
    bot: BotHarness, engagement: dict[str, int], arg: str
) -> None:
    await bot.send(MANAGER, "/lang")
    await bot.press(MANAGER, "lang:en")
    (reply,) = await bot.send(MANAGER, f"/stats {arg}")
    assert "/stats" in str(reply["text"]) or "99999" in str(reply["text"])


@pytest.mark.parametrize(
    ("arg", "shown"),
    [
        (f"post {2**64 + 1}", f"no post has id {2**64 + 1}"),  # past 64 bits
        (f"event {2**63}", f"no event has id {2**63}"),
        ("post \uff11", "cannot read"),  # a full-width 1 is not a post's number
        ("\u0661\u0662", "cannot read"),  # nor Arabic-Indic 12
    ],
)
async def test_stats_takes_only_ascii_numbers_within_64_bits_as_ids(
    bot: BotHarness, engagement: dict[str, int], arg: str, shown: str
) -> None:
    await bot.send(MANAGER, "/lang")
    await bot.press(MANAGER, "lang:en")
    (reply,) = await bot.send(MANAGER, f"/stats {arg}")
    assert shown in str(reply["text"])


async def test_stats_without_publications_sends_no_charts(
    bot: BotHarness, clock: ManualClock
) -> None:
    replies = await bot.send(MANAGER, "/stats 7d")
    assert len(replies) == 1


async def test_report_sends_the_monthly_file(
    bot: BotHarness, clock: ManualClock, engagement: dict[str, int]
) -> None:
    (reply,) = await bot.send(MANAGER, "/report 2026-11 xlsx")
    assert reply["document"]["file_name"] == "afisha-report-2026-11-kk.xlsx"
    (reply,) = await bot.send(MANAGER, "/report")  # last month, as PDF
    assert reply["document"]["file_name"] == "afisha-report-2026-11-kk.pdf"
    (reply,) = await bot.send(MANAGER, "/report November")
    assert "2026-11" in str(reply["text"])  # how to write the month
    (reply,) = await bot.send(STRANGER, "/report")
    assert str(STRANGER) in str(reply["text"])


def test_sent_post_helper_marks_every_publication_sent(
    library: Library, clock: ManualClock
) -> None:
    sent_post(library, clock, "x", 1, 1)
    with library.sessions() as session:
        assert {p.state for p in session.query(Publication)} == {PublicationState.SENT}
