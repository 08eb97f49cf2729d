"""FacebookChannel against the sandbox's Graph emulator, through the real facebook-sdk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from channels.base import (
    AlreadyPublished,
    Button,
    Channel,
    Outgoing,
    Rejected,
    ShareOf,
    Verdict,
)
from channels.facebook import FacebookChannel, compose_message
from content.domain.states import ShareMode
from sandbox.graph_state import GraphState, PagePost
from sandbox.runner import SandboxThread
from tests.channels.graph_helpers import (
    advance,
    engagement,
    facebook_channel,
    force,
    http_calls,
    ledger,
    on_state,
    stored_image,
)


def page_id(sandbox: SandboxThread) -> str:
    return sandbox.sandbox.fixtures.pages[0].id


def before() -> datetime:
    return datetime.now(UTC) - timedelta(seconds=1)


async def test_is_a_channel(sandbox: SandboxThread) -> None:
    assert isinstance(facebook_channel(sandbox), Channel)


async def test_text_post_appears_once_with_permalink(sandbox: SandboxThread) -> None:
    channel = facebook_channel(sandbox)

    published = await channel.publish(Outgoing("Story hour at 5"))

    assert published.remote_id.startswith(page_id(sandbox) + "_")
    assert published.url
    assert published.url.startswith("https://www.facebook.com/")
    assert ledger(sandbox, "facebook") == [(published.remote_id, "Story hour at 5", 0)]


async def test_link_post_and_buttons_become_text(sandbox: SandboxThread) -> None:
    channel = facebook_channel(sandbox)
    outgoing = Outgoing(
        "Book fair",
        link="https://lib.example/fair",
        buttons=(Button("Sign up", "https://lib.example/rsvp"), Button("Later", None, "cb")),
    )

    published = await channel.publish(outgoing)

    post = on_state(sandbox, lambda s: s.posts[published.remote_id])
    assert post.link == "https://lib.example/fair"
    assert post.message == "Book fair\n\nSign up: https://lib.example/rsvp"
    assert len(ledger(sandbox, "facebook")) == 1


async def test_single_photo_upload_and_by_url(sandbox: SandboxThread, tmp_path: Path) -> None:
    channel = facebook_channel(sandbox)
    upload = stored_image(tmp_path, "a.png", (300, 200), "PNG")
    url_image = stored_image(tmp_path, "b.jpg", public_url=f"{sandbox.base_url}/graph-cdn/nowhere")

    published = await channel.publish(Outgoing("Poster", images=(upload,)))
    with pytest.raises(Rejected) as refused:  # the "public" address serves no image
        await channel.publish(Outgoing("Poster 2", images=(url_image,)))

    assert ledger(sandbox, "facebook") == [(published.remote_id, "Poster", 1)]
    assert published.extra["photo_ids"][0] in published.remote_id
    assert not refused.value.retry_safe


async def test_multi_photo_post_is_one_post(sandbox: SandboxThread, tmp_path: Path) -> None:
    channel = facebook_channel(sandbox)
    images = tuple(stored_image(tmp_path, f"{n}.jpg") for n in range(3))
    saved: list[dict[str, object]] = []

    async def checkpoint(progress: object) -> None:
        saved.append(dict(progress))  # type: ignore[call-overload]

    published = await channel.publish(
        Outgoing("Three", images=images, link="https://lib.example"), checkpoint
    )

    assert ledger(sandbox, "facebook") == [(published.remote_id, "Three\n\nhttps://lib.example", 3)]
    assert saved == [{"photo_ids": published.extra["photo_ids"]}]


async def test_too_long_or_empty_is_refused_before_any_request(sandbox: SandboxThread) -> None:
    channel = facebook_channel(sandbox)
    calls = http_calls(sandbox)

    with pytest.raises(Rejected) as long:
        await channel.publish(Outgoing("x" * 70_000))
    with pytest.raises(Rejected):
        await channel.publish(Outgoing("  "))

    assert http_calls(sandbox) == calls
    assert "over the Facebook limit" in long.value.reason


async def test_duplicate_is_already_published_and_verify_finds_it(
    sandbox: SandboxThread,
) -> None:
    channel = facebook_channel(sandbox)
    sent_after = before()
    first = await channel.publish(Outgoing("Same words"))

    with pytest.raises(AlreadyPublished) as duplicate:
        await channel.publish(Outgoing("Same words"))
    found = await channel.verify(Outgoing("Same words"), {}, sent_after)

    assert not duplicate.value.retry_safe
    assert found.verdict is Verdict.POSTED
    assert found.published is not None
    assert found.published.remote_id == first.remote_id
    assert len(ledger(sandbox, "facebook")) == 1


async def test_lost_answer_after_posting_is_found_by_verify(sandbox: SandboxThread) -> None:
    channel = facebook_channel(sandbox)
    sent_after = before()
    force(sandbox, "feed", "drop_after")

    with pytest.raises(Exception) as lost:  # noqa: PT011 - the class is asserted below
        await channel.publish(Outgoing("Did it post?"))
    found = await channel.verify(Outgoing("Did it post?"), {}, sent_after)

    assert type(lost.value).__name__ == "OutcomeUnknown"
    [(remote_id, _, _)] = ledger(sandbox, "facebook")
    assert found.verdict is Verdict.POSTED
    assert found.published is not None
    assert found.published.remote_id == remote_id
    assert found.published.url == f"https://www.facebook.com/{remote_id.replace('_', '/posts/')}"


async def test_verify_says_not_posted_and_ignores_older_posts(sandbox: SandboxThread) -> None:
    channel = facebook_channel(sandbox)
    await channel.publish(Outgoing("Old news"))
    advance(sandbox, 3600)

    found = await channel.verify(
        Outgoing("Old news"), {}, datetime.now(UTC) + timedelta(minutes=30)
    )
    missing = await channel.verify(Outgoing("Never sent"), {}, before())

    assert found.verdict is Verdict.NOT_POSTED
    assert missing.verdict is Verdict.NOT_POSTED


async def test_verify_matches_despite_whitespace_changes(sandbox: SandboxThread) -> None:
    channel = facebook_channel(sandbox)
    sent_after = before()
    published = await channel.publish(Outgoing("Spaced   out\r\ntext "))

    found = await channel.verify(Outgoing("Spaced out\ntext"), {}, sent_after)

    assert found.published is not None
    assert found.published.remote_id == published.remote_id


async def test_engagement_of_120_posts_costs_three_calls(sandbox: SandboxThread) -> None:
    channel = facebook_channel(sandbox)
    page = page_id(sandbox)

    def seed(state: GraphState) -> list[str]:
        """120 posts straight into the emulator's memory: publishing them is not the point."""
        ids = []
        for n in range(120):
            post = PagePost(f"{page}_{900000 + n}", page, f"post {n}", state.now())
            state.posts[post.id] = post
            ids.append(post.id)
        return ids

    ids = on_state(sandbox, seed)
    advance(sandbox, 30 * 24 * 3600)  # growth has levelled off: counts stop moving
    calls = http_calls(sandbox)

    metrics = await channel.fetch_engagement(ids)

    assert http_calls(sandbox) - calls == 3
    assert set(metrics) == set(ids)
    for post_id in ids:
        expected = engagement(sandbox, post_id)
        got = metrics[post_id]
        assert (got.reactions, got.comments, got.shares) == (
            expected.reactions,
            expected.comments,
            expected.shares,
        )
        assert (got.views, got.reach) == (expected.views, expected.reach)
        assert got.saves is None  # Pages do not report saves: unknown, not zero
    assert channel.insights_allowed is True


async def test_refused_insights_are_asked_once_then_never(sandbox: SandboxThread) -> None:
    # A deprecated metric is answered like a missing permission: the insights are refused.
    channel = facebook_channel(sandbox, insight_metrics={"post_impressions": "views"})
    published = [await channel.publish(Outgoing(f"post {n}")) for n in range(3)]
    ids = [p.remote_id for p in published]
    calls = http_calls(sandbox)

    first = await channel.fetch_engagement(ids)
    after_first = http_calls(sandbox)
    second = await channel.fetch_engagement(ids)

    assert after_first - calls == 2  # the refused batch, then the same items without insights
    assert http_calls(sandbox) - after_first == 1
    assert channel.insights_allowed is False
    assert all(m.views is None and m.reach is None for m in [*first.values(), *second.values()])
    assert all(m.reactions is not None for m in second.values())


async def test_deleted_posts_are_left_out(sandbox: SandboxThread) -> None:
    channel = facebook_channel(sandbox)
    kept = await channel.publish(Outgoing("kept"))
    gone = await channel.publish(Outgoing("gone"))
    on_state(sandbox, lambda s: setattr(s.posts[gone.remote_id], "deleted", True))

    metrics = await channel.fetch_engagement([kept.remote_id, gone.remote_id])

    assert list(metrics) == [kept.remote_id]


async def test_credentials(sandbox: SandboxThread) -> None:
    channel = facebook_channel(sandbox)
    wrong_page = FacebookChannel(
        sandbox.sandbox.fixtures.pages[1].id,
        sandbox.sandbox.fixtures.pages[0].access_token,
        sandbox.base_url + "/graph",
        "v21.0",
    )

    healthy = await channel.check_credentials()
    mismatch = await wrong_page.check_credentials()
    token = sandbox.sandbox.fixtures.pages[0].access_token
    on_state(sandbox, lambda s: s.revoke_token(token))
    revoked = await channel.check_credentials()

    assert healthy.valid
    assert "Regional Library" in healthy.detail
    assert not mismatch.valid
    assert not revoked.valid
    assert "Reconnect" in revoked.detail
    assert token not in revoked.detail
    await channel.close()


def test_compose_message_keeps_the_link_for_photo_posts(tmp_path: Path) -> None:
    image = stored_image(tmp_path, "p.jpg")
    assert compose_message(Outgoing("Hi", link="https://x.example")) == "Hi"
    assert compose_message(Outgoing("Hi", (image,), "https://x.example")) == (
        "Hi\n\nhttps://x.example"
    )


async def test_a_members_post_is_shared_to_the_heads_page_by_its_permalink(
    sandbox: SandboxThread,
) -> None:
    head, member = facebook_channel(sandbox, 0), facebook_channel(sandbox, 1)
    source = await member.publish(Outgoing("Puppet theatre on Sunday"))
    assert source.url
    share = ShareOf(ShareMode.LINK, permalink=source.url)

    published = await head.publish(Outgoing("From our district library", share=share))

    post = on_state(sandbox, lambda s: s.posts[published.remote_id])
    assert post.page_id == page_id(sandbox)
    assert (post.link, post.parent_id) == (source.url, source.remote_id)
    assert post.message == "From our district library"
    assert published.url
    assert published.url != source.url
    assert len(ledger(sandbox, "facebook")) == 2
    # Copying or forwarding is Telegram's: refused before any request.
    calls = http_calls(sandbox)
    with pytest.raises(Rejected, match="cannot copy"):
        await head.publish(Outgoing("", share=ShareOf(ShareMode.COPY, 1, (2,))))
    assert http_calls(sandbox) == calls
