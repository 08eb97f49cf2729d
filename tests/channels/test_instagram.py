"""InstagramChannel against the sandbox's Graph emulator, through the real facebook-sdk."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from channels.base import (
    AuthExpired,
    Channel,
    NotSent,
    OutcomeUnknown,
    Outgoing,
    Preparing,
    RateLimited,
    Rejected,
    Verdict,
)
from channels.instagram import InstagramChannel
from sandbox.graph_state import DEFAULT_CAROUSEL_PROCESSING, DEFAULT_IMAGE_PROCESSING
from sandbox.runner import SandboxThread
from tests.channels.graph_helpers import (
    FileServer,
    Sleeps,
    advance,
    engagement,
    force,
    http_calls,
    instagram_channel,
    ledger,
    on_state,
    stored_image,
)


def ig_id(sandbox: SandboxThread) -> str:
    return sandbox.sandbox.fixtures.instagram[0].id


def since() -> datetime:
    return datetime.now(UTC) - timedelta(seconds=1)


def ops(sandbox: SandboxThread) -> dict[str, int]:
    return dict(on_state(sandbox, lambda s: dict(s.calls_by_op)))


class Crashed(Exception):
    """The process stopped (a test's stand-in for a crash)."""


async def _crash() -> None:
    raise Crashed


class Recorder:
    """A checkpoint that notes what it was given and what the platform held at that moment."""

    def __init__(self, sandbox: SandboxThread) -> None:
        self.sandbox = sandbox
        self.saved: list[dict[str, Any]] = []
        self.published_then: list[int] = []

    async def __call__(self, progress: Mapping[str, Any]) -> None:
        self.saved.append(dict(progress))
        self.published_then.append(len(ledger(self.sandbox, "instagram")))


async def test_is_a_channel_that_prepares(sandbox: SandboxThread) -> None:
    assert isinstance(instagram_channel(sandbox), Channel)
    assert isinstance(instagram_channel(sandbox), Preparing)


async def test_single_image_hosted_on_the_page(sandbox: SandboxThread, tmp_path: Path) -> None:
    sleeps = Sleeps(sandbox)
    channel = instagram_channel(sandbox, sleep=sleeps)
    checkpoint = Recorder(sandbox)

    published = await channel.publish(
        Outgoing("Poetry night #books", (stored_image(tmp_path, "p.jpg", alt_text="A poster"),)),
        checkpoint,
    )

    assert ledger(sandbox, "instagram") == [(published.remote_id, "Poetry night #books", 1)]
    assert ledger(sandbox, "facebook") == []  # the hosting photo is unpublished
    assert published.url
    assert published.url.startswith("https://www.instagram.com/p/")
    assert published.extra["shortcode"] in published.url
    [saved] = checkpoint.saved
    assert (saved["container_id"], saved["child_container_ids"]) == (
        published.extra["container_id"],
        [],
    )
    assert saved["prepared"]["ready_at"] is None  # saved before it was waited on
    assert published.extra["late"]["seconds"] >= 0  # it waited for processing, and says so
    assert "not uploaded to Instagram ahead" in published.extra["late"]["reason"]
    assert checkpoint.published_then == [0]  # saved before media_publish
    assert sum(sleeps.delays) >= DEFAULT_IMAGE_PROCESSING  # polled until it was processed
    assert ops(sandbox)["media_publish"] == 1


async def test_carousel_is_one_media(sandbox: SandboxThread, tmp_path: Path) -> None:
    channel = instagram_channel(sandbox)
    images = tuple(stored_image(tmp_path, f"{n}.jpg", (1080, 1080)) for n in range(3))
    checkpoint = Recorder(sandbox)

    published = await channel.publish(Outgoing("Three covers", images), checkpoint)

    assert ledger(sandbox, "instagram") == [(published.remote_id, "Three covers", 3)]
    assert len(checkpoint.saved[0]["child_container_ids"]) == 3
    media_type = on_state(sandbox, lambda s: s.media[published.remote_id].media_type)
    assert media_type == "CAROUSEL_ALBUM"


async def test_public_url_is_used_as_it_is(sandbox: SandboxThread, tmp_path: Path) -> None:
    with FileServer(tmp_path) as web:
        image = stored_image(tmp_path, "p.jpg", public_url=f"{web.base}/p.jpg")
        before = ops(sandbox).get("photos", 0)

        published = await instagram_channel(sandbox).publish(Outgoing("public", (image,)))

    assert ops(sandbox).get("photos", 0) == before  # nothing hosted on the Page
    source = on_state(sandbox, lambda s: s.media[published.remote_id].images[0].source_url)
    assert source == f"{web.base}/p.jpg"


async def test_public_media_url_serves_the_prepared_file(
    sandbox: SandboxThread, tmp_path: Path
) -> None:
    with FileServer(tmp_path) as web:
        channel = instagram_channel(sandbox, public_media_url=web.base, media_root=tmp_path)
        png = stored_image(tmp_path, "wide.png", (2400, 800), "PNG", public_url="http://x/a.png")

        published = await channel.publish(Outgoing("padded", (png,), pad_to_fit=True))

    image = on_state(sandbox, lambda s: s.media[published.remote_id].images[0])
    assert image.source_url is not None
    assert image.source_url.startswith(web.base)
    assert image.source_url.endswith(".ig1.jpg")
    assert image.content_type == "image/jpeg"
    assert image.width / image.height == pytest.approx(1.91, abs=0.002)


async def test_unfit_images_are_refused_before_any_request(
    sandbox: SandboxThread, tmp_path: Path
) -> None:
    channel = instagram_channel(sandbox)
    png = stored_image(tmp_path, "a.png", (800, 1000), "PNG")
    tall = stored_image(tmp_path, "tall.jpg", (500, 1000))
    calls = http_calls(sandbox)

    for outgoing in [
        Outgoing("png", (png,)),
        Outgoing("tall", (tall,)),
        Outgoing("no image"),
        Outgoing("x" * 2201, (tall,), pad_to_fit=True),
        Outgoing(" ".join(f"#t{n}" for n in range(31)), (tall,), pad_to_fit=True),
        Outgoing("eleven", (tall,) * 11, pad_to_fit=True),
    ]:
        with pytest.raises(Rejected):
            await channel.publish(outgoing)

    assert http_calls(sandbox) == calls
    published = await channel.publish(Outgoing("png and tall", (png, tall), pad_to_fit=True))
    assert ledger(sandbox, "instagram") == [(published.remote_id, "png and tall", 2)]


async def test_quota_is_never_exceeded(sandbox: SandboxThread, tmp_path: Path) -> None:
    on_state(sandbox, lambda s: s.set_ig_quota(ig_id(sandbox), 2))
    channel = instagram_channel(sandbox)
    image = stored_image(tmp_path, "p.jpg")
    await channel.publish(Outgoing("one", (image,)))
    await channel.publish(Outgoing("two", (image,)))

    with pytest.raises(RateLimited) as limited:
        await channel.publish(Outgoing("three", (image,)))

    assert limited.value.retry_safe
    assert 23 * 3600 < limited.value.retry_after <= 24 * 3600  # when "one" leaves the window
    assert ops(sandbox)["media_publish"] == 2  # the sandbox never had to refuse
    assert len(ledger(sandbox, "instagram")) == 2
    advance(sandbox, 24 * 3600 + 60)
    quota_now = instagram_channel(sandbox, now=lambda: datetime.now(UTC) + timedelta(days=1))
    assert (await quota_now.publish(Outgoing("three", (image,)))).remote_id


async def test_lost_answer_to_media_publish_is_found_by_verify(
    sandbox: SandboxThread, tmp_path: Path
) -> None:
    channel = instagram_channel(sandbox)
    outgoing = Outgoing("Did it post?", (stored_image(tmp_path, "p.jpg"),))
    checkpoint = Recorder(sandbox)
    sent_after = since()
    force(sandbox, "media_publish", "drop_after")

    with pytest.raises(OutcomeUnknown) as lost:
        await channel.publish(outgoing, checkpoint)
    found = await channel.verify(outgoing, checkpoint.saved[-1], sent_after)

    [(media_id, _, _)] = ledger(sandbox, "instagram")
    assert not lost.value.retry_safe
    assert found.verdict is Verdict.POSTED
    assert found.published is not None
    assert found.published.remote_id == media_id
    assert found.published.url
    assert found.published.url.startswith("https://www.instagram.com/p/")


async def test_lost_request_to_media_publish_is_not_posted(
    sandbox: SandboxThread, tmp_path: Path
) -> None:
    channel = instagram_channel(sandbox)
    outgoing = Outgoing("Lost on the way", (stored_image(tmp_path, "p.jpg"),))
    checkpoint = Recorder(sandbox)
    force(sandbox, "media_publish", "drop_before")

    with pytest.raises(OutcomeUnknown):
        await channel.publish(outgoing, checkpoint)
    with_container = await channel.verify(outgoing, checkpoint.saved[-1], since())
    by_caption = await channel.verify(outgoing, {}, since())

    assert with_container.verdict is Verdict.NOT_POSTED
    assert "FINISHED" in with_container.detail
    assert by_caption.verdict is Verdict.NOT_POSTED
    assert ledger(sandbox, "instagram") == []


async def test_verify_by_caption_without_progress(sandbox: SandboxThread, tmp_path: Path) -> None:
    channel = instagram_channel(sandbox)
    outgoing = Outgoing("Found by caption", (stored_image(tmp_path, "p.jpg"),))
    published = await channel.publish(outgoing)

    found = await channel.verify(outgoing, {}, since() - timedelta(minutes=1))

    assert found.published is not None
    assert found.published.remote_id == published.remote_id


@pytest.mark.parametrize("kind", ["5xx", "drop_after", "429"])
async def test_failures_before_media_publish_are_retry_safe(
    sandbox: SandboxThread, tmp_path: Path, kind: str
) -> None:
    force(sandbox, "media", kind)

    with pytest.raises(NotSent) as caught:
        await instagram_channel(sandbox).publish(
            Outgoing("container", (stored_image(tmp_path, "p.jpg"),))
        )

    assert caught.value.retry_safe
    assert ledger(sandbox, "instagram") == []


async def test_expired_container_is_not_sent(sandbox: SandboxThread, tmp_path: Path) -> None:
    async def a_day_passes(seconds: float) -> None:
        advance(sandbox, 25 * 3600)

    with pytest.raises(NotSent, match="expired"):
        await instagram_channel(sandbox, sleep=a_day_passes).publish(
            Outgoing("late", (stored_image(tmp_path, "p.jpg"),))
        )


async def test_container_that_never_finishes_is_not_sent(
    sandbox: SandboxThread, tmp_path: Path
) -> None:
    on_state(sandbox, lambda s: s.configure_processing({"image_seconds": 3600}))
    sleeps = Sleeps(sandbox)

    with pytest.raises(NotSent, match="still processing"):
        await instagram_channel(sandbox, sleep=sleeps, poll_delays=(1.0, 2.0, 4.0)).publish(
            Outgoing("slow", (stored_image(tmp_path, "p.jpg"),))
        )

    assert sleeps.delays == [1.0, 2.0, 4.0]
    assert ops(sandbox).get("media_publish", 0) == 0


async def test_engagement_matches_the_sandbox(sandbox: SandboxThread, tmp_path: Path) -> None:
    channel = instagram_channel(sandbox)
    image = stored_image(tmp_path, "p.jpg")
    ids = [(await channel.publish(Outgoing(f"post {n}", (image,)))).remote_id for n in range(3)]
    advance(sandbox, 30 * 24 * 3600)  # growth has levelled off: counts stop moving
    calls = http_calls(sandbox)

    metrics = await channel.fetch_engagement([*ids, "17950000000000999"])

    assert http_calls(sandbox) - calls == 1
    assert set(metrics) == set(ids)  # the unknown id is left out
    for media_id in ids:
        expected = engagement(sandbox, media_id)
        got = metrics[media_id]
        assert (got.reactions, got.comments) == (expected.reactions, expected.comments)
        assert (got.views, got.reach, got.saves, got.shares) == (
            expected.views,
            expected.reach,
            expected.saves,
            expected.shares,
        )


async def test_without_insights_unknown_metrics_are_none(
    sandbox: SandboxThread, tmp_path: Path
) -> None:
    channel = instagram_channel(sandbox, insight_metrics={"impressions": "views"})
    media_id = (await channel.publish(Outgoing("p", (stored_image(tmp_path, "p.jpg"),)))).remote_id

    got = (await channel.fetch_engagement([media_id]))[media_id]

    assert channel.insights_allowed is False
    assert got.reactions == 0
    assert got.comments == 0
    assert (got.views, got.reach, got.saves, got.shares) == (None, None, None, None)


async def test_revoked_token(sandbox: SandboxThread, tmp_path: Path) -> None:
    token = sandbox.sandbox.fixtures.instagram[0].access_token
    channel = instagram_channel(sandbox)
    assert (await channel.check_credentials()).valid
    on_state(sandbox, lambda s: s.revoke_token(token))

    with pytest.raises(AuthExpired) as caught:
        await channel.publish(Outgoing("p", (stored_image(tmp_path, "p.jpg"),)))
    status = await channel.check_credentials()

    assert not status.valid
    assert token not in status.detail
    assert token not in caught.value.reason
    await channel.close()


async def test_credentials_with_the_pages_token(sandbox: SandboxThread) -> None:
    page_token = sandbox.sandbox.fixtures.pages[0].access_token
    other_page_token = sandbox.sandbox.fixtures.pages[1].access_token

    linked = await instagram_channel(sandbox, token=page_token).check_credentials()
    unrelated = await instagram_channel(sandbox, token=other_page_token).check_credentials()

    assert linked.valid
    assert "regional_library" in linked.detail
    assert not unrelated.valid


# --- containers prepared ahead --------------------------------------------------------------


def sandbox_now(sandbox: SandboxThread) -> datetime:
    return sandbox.call(sandbox.sandbox.clock.now)


def ahead_channel(sandbox: SandboxThread, **kwargs: Any) -> InstagramChannel:
    """A channel whose clock is the sandbox's, so that time it waits is sandbox time."""
    return instagram_channel(sandbox, now=lambda: sandbox_now(sandbox), **kwargs)


async def made_not_processed(sandbox: SandboxThread, outgoing: Outgoing) -> dict[str, Any]:
    """Containers made ahead, then the worker stopped before Instagram had processed them:
    what it saved."""
    checkpoint = Recorder(sandbox)
    with pytest.raises(Crashed):
        await ahead_channel(sandbox, sleep=lambda seconds: _crash()).prepare(outgoing, checkpoint)
    [saved] = checkpoint.saved
    return saved


def containers(sandbox: SandboxThread) -> int:
    return int(on_state(sandbox, lambda s: len(s.containers)))


async def test_prepared_ahead_then_only_media_publish_at_the_due_moment(
    sandbox: SandboxThread, tmp_path: Path
) -> None:
    channel = ahead_channel(sandbox)
    images = tuple(stored_image(tmp_path, f"{n}.jpg", (1080, 1080)) for n in range(2))
    outgoing = Outgoing("Two covers", images)
    checkpoint = Recorder(sandbox)

    progress = await channel.prepare(outgoing, checkpoint)
    prepared_calls, made = http_calls(sandbox), containers(sandbox)
    due = sandbox_now(sandbox)
    published = await channel.publish(replace(outgoing, progress=progress))
    media_at = on_state(sandbox, lambda s: s.media[published.remote_id].published_at)

    assert checkpoint.published_then == [0, 0]  # nothing was published while preparing
    assert checkpoint.saved[0]["container_id"] == progress["container_id"]  # kept at once
    assert progress["prepared"]["ready_at"] is not None
    assert len(progress["child_container_ids"]) == 2
    assert ledger(sandbox, "instagram") == [(published.remote_id, "Two covers", 2)]
    assert published.extra["container_id"] == progress["container_id"]
    assert "late" not in published.extra
    # media_publish first, then the permalink: no container made or polled at the due moment.
    assert http_calls(sandbox) - prepared_calls == 2
    assert containers(sandbox) == made
    # One loopback request's worth (the lateness figures are measured in tests/scheduler).
    assert (media_at - due).total_seconds() < 0.1
    [measured] = channel.processing_seconds()
    assert DEFAULT_CAROUSEL_PROCESSING <= measured < DEFAULT_CAROUSEL_PROCESSING + 10


async def test_a_restart_reuses_the_containers_prepared_before_it(
    sandbox: SandboxThread, tmp_path: Path
) -> None:
    outgoing = Outgoing("Kept across a restart", (stored_image(tmp_path, "p.jpg"),))
    saved = await made_not_processed(sandbox, outgoing)  # the worker stopped while waiting
    made = containers(sandbox)

    again = ahead_channel(sandbox)  # a new process, with what was saved
    progress = await again.prepare(replace(outgoing, progress=saved))
    published = await again.publish(replace(outgoing, progress=progress))

    assert containers(sandbox) == made == 1  # no second container was created
    assert progress["container_id"] == saved["container_id"]
    assert published.extra["container_id"] == saved["container_id"]
    assert again.processing_seconds() == ()  # not made here: its processing time is unknown
    assert len(ledger(sandbox, "instagram")) == 1


async def test_prepared_containers_near_their_end_are_made_again_not_published(
    sandbox: SandboxThread, tmp_path: Path
) -> None:
    on_state(sandbox, lambda s: s.configure_processing({"image_seconds": 1}))
    outgoing = Outgoing("Postponed a day", (stored_image(tmp_path, "p.jpg"),))
    channel = ahead_channel(sandbox)
    progress = await channel.prepare(outgoing)
    advance(sandbox, 23 * 3600 + 60)  # still FINISHED at Instagram, but not for long

    again = await channel.prepare(replace(outgoing, progress=progress))
    published = await channel.publish(replace(outgoing, progress=again))

    old, new = progress["container_id"], again["container_id"]
    assert new != old
    media = on_state(sandbox, lambda s: {c: s.containers[c].published_media_id for c in (old, new)})
    assert media == {old: None, new: published.remote_id}
    assert len(ledger(sandbox, "instagram")) == 1


async def test_an_expired_container_prepared_ahead_is_made_again(
    sandbox: SandboxThread, tmp_path: Path
) -> None:
    outgoing = Outgoing("Expired meanwhile", (stored_image(tmp_path, "p.jpg"),))
    channel = instagram_channel(sandbox)  # its own clock: it does not know a day has passed
    made = await made_not_processed(sandbox, outgoing)  # then the worker was down a day
    advance(sandbox, 24 * 3600 + 60)

    again = await channel.prepare(replace(outgoing, progress=made))

    assert again["container_id"] != made["container_id"]
    assert again["prepared"]["ready_at"] is not None
    assert containers(sandbox) == 2
    assert ledger(sandbox, "instagram") == []


async def test_at_the_due_moment_an_expired_container_is_made_again(
    sandbox: SandboxThread, tmp_path: Path
) -> None:
    on_state(sandbox, lambda s: s.configure_processing({"image_seconds": 1}))
    outgoing = Outgoing("Expired by the due moment", (stored_image(tmp_path, "p.jpg"),))
    channel = instagram_channel(sandbox)
    progress = await channel.prepare(outgoing)
    advance(sandbox, 24 * 3600 + 60)
    saved: list[Mapping[str, Any]] = []

    async def checkpoint(progress: Mapping[str, Any]) -> None:
        saved.append(dict(progress))

    published = await channel.publish(replace(outgoing, progress=progress), checkpoint)

    assert published.extra["container_id"] == saved[0]["container_id"] != progress["container_id"]
    assert "expired or failed" in published.extra["late"]["reason"]
    assert len(ledger(sandbox, "instagram")) == 1


async def test_a_container_that_fails_processing_ahead_is_made_again(
    sandbox: SandboxThread, tmp_path: Path
) -> None:
    on_state(sandbox, lambda s: s.configure_processing({"fail_next": 1}))
    outgoing = Outgoing("Second time lucky", (stored_image(tmp_path, "p.jpg"),))
    channel = ahead_channel(sandbox)

    progress = await channel.prepare(outgoing)
    published = await channel.publish(replace(outgoing, progress=progress))

    assert containers(sandbox) == 2
    failed = on_state(sandbox, lambda s: [c.id for c in s.containers.values() if c.fails])
    assert progress["container_id"] not in failed
    assert published.extra["container_id"] == progress["container_id"]


async def test_a_container_failing_twice_is_refused_and_not_made_a_third_time(
    sandbox: SandboxThread, tmp_path: Path
) -> None:
    on_state(sandbox, lambda s: s.configure_processing({"fail_next": 2}))
    outgoing = Outgoing("Broken image", (stored_image(tmp_path, "p.jpg"),))
    checkpoint = Recorder(sandbox)
    channel = ahead_channel(sandbox)

    with pytest.raises(Rejected, match="could not process") as first:
        await channel.prepare(outgoing, checkpoint)
    with pytest.raises(Rejected):
        await channel.prepare(replace(outgoing, progress=checkpoint.saved[-1]))

    assert "2207001" in first.value.reason
    assert containers(sandbox) == 2
    assert ledger(sandbox, "instagram") == []


async def test_a_slow_container_is_published_as_soon_as_finished_and_says_so(
    sandbox: SandboxThread, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    on_state(sandbox, lambda s: s.configure_processing({"image_seconds": 7}))
    outgoing = Outgoing("Slow to process", (stored_image(tmp_path, "p.jpg"),))
    channel = ahead_channel(sandbox, sleep=Sleeps(sandbox))
    made = await made_not_processed(sandbox, outgoing)  # not processed when the post is due
    due = sandbox_now(sandbox)

    with caplog.at_level(logging.WARNING, logger="channels.instagram"):
        published = await channel.publish(replace(outgoing, progress=made))

    media_at = on_state(sandbox, lambda s: s.media[published.remote_id].published_at)
    late = (media_at - due).total_seconds()
    assert 7 <= late < 7 + 1.0  # polled every half second or so: soon after it finished
    assert published.extra["late"]["seconds"] == pytest.approx(late, abs=0.2)
    assert "still processing" in published.extra["late"]["reason"]
    assert "late" in caplog.text
    assert containers(sandbox) == 1


async def test_containers_prepared_for_other_content_are_not_published(
    sandbox: SandboxThread, tmp_path: Path
) -> None:
    channel = ahead_channel(sandbox)
    image = stored_image(tmp_path, "p.jpg")
    progress = await channel.prepare(Outgoing("Before the edit", (image,)))

    published = await channel.publish(Outgoing("After the edit", (image,), progress=progress))

    assert published.extra["container_id"] != progress["container_id"]
    assert ledger(sandbox, "instagram") == [(published.remote_id, "After the edit", 1)]


async def test_a_full_quota_at_the_due_moment_waits_until_a_slot_frees(
    sandbox: SandboxThread, tmp_path: Path
) -> None:
    on_state(sandbox, lambda s: s.set_ig_quota(ig_id(sandbox), 1))
    channel = ahead_channel(sandbox)
    image = stored_image(tmp_path, "p.jpg")
    await channel.publish(Outgoing("one", (image,)))
    outgoing = Outgoing("two", (image,))
    progress = await channel.prepare(outgoing)  # containers do not count against the quota

    with pytest.raises(RateLimited) as limited:
        await channel.publish(replace(outgoing, progress=progress))

    assert 23 * 3600 < limited.value.retry_after <= 24 * 3600  # when "one" leaves the window
    assert "1 of the 1 posts" in limited.value.reason
    assert len(ledger(sandbox, "instagram")) == 1
