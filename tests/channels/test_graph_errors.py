"""How Graph failures become Afisha errors: every sandbox fault kind, Graph's error codes, the
usage headers, and the token kept out of messages and logs."""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime, timedelta

import pytest
import requests

from channels.base import (
    AlreadyPublished,
    AuthExpired,
    ChannelError,
    NotSent,
    OutcomeUnknown,
    Outgoing,
    RateLimited,
    Rejected,
    Verdict,
    classify,
)
from channels.graph import GraphClient, api_url_from_environment, text_fingerprint
from channels.graph_errors import GraphCallError, graph_error_table
from channels.graph_usage import DEFAULT_RETRY_AFTER, GraphUsage, parse_usage, suggested_delay
from content.domain.states import Platform
from sandbox.runner import SandboxThread
from tests.channels.graph_helpers import (
    SLOW_SECONDS,
    Sleeps,
    facebook_channel,
    force,
    http_calls,
    ledger,
    on_state,
)

TABLE = graph_error_table("Facebook")


def page(sandbox: SandboxThread) -> tuple[str, str]:
    fixture = sandbox.sandbox.fixtures.pages[0]
    return fixture.id, fixture.access_token


def since() -> datetime:
    return datetime.now(UTC) - timedelta(seconds=1)


# --- sandbox faults on a publishing call ---------------------------------------------------------

# fault kind -> (Afisha error, retry_safe, what verify finds afterwards)
PUBLISH_FAULTS = {
    # Throttled: refused before doing anything, so safe to send again after retry_after.
    "429": (RateLimited, True, Verdict.NOT_POSTED),
    # Codes 1/2: Meta sometimes creates the post anyway, so publishing must be reconciled.
    "5xx": (OutcomeUnknown, False, Verdict.NOT_POSTED),
    # Read timeout: the request was sent; the sandbox records it once it has "thought".
    "slow": (OutcomeUnknown, False, Verdict.POSTED),
    # A dropped connection looks the same to the client whether or not the post was made.
    "drop_before": (OutcomeUnknown, False, Verdict.NOT_POSTED),
    "drop_after": (OutcomeUnknown, False, Verdict.POSTED),
}


@pytest.mark.parametrize("kind", list(PUBLISH_FAULTS))
async def test_publishing_fault_kinds(sandbox: SandboxThread, kind: str) -> None:
    error_class, retry_safe, verdict = PUBLISH_FAULTS[kind]
    channel = facebook_channel(sandbox)
    sent_after = since()
    force(sandbox, "feed", kind)

    with pytest.raises(ChannelError) as caught:
        await channel.publish(Outgoing(f"fault {kind}"))
    if kind == "slow":
        await _wait_for_ledger(sandbox)
    found = await facebook_channel(sandbox).verify(Outgoing(f"fault {kind}"), {}, sent_after)

    assert type(caught.value) is error_class
    assert caught.value.retry_safe is retry_safe
    assert found.verdict is verdict
    if verdict is Verdict.POSTED:
        assert found.published is not None
        assert [found.published.remote_id] == [i[0] for i in ledger(sandbox, "facebook")]
    else:
        assert ledger(sandbox, "facebook") == []


async def _wait_for_ledger(sandbox: SandboxThread) -> None:
    import asyncio

    for _ in range(int(SLOW_SECONDS * 20) + 10):
        if ledger(sandbox, "facebook"):
            return
        await asyncio.sleep(0.05)


# --- sandbox faults on reads: nothing can be doubled, so every failure is retry-safe ------------


@pytest.mark.parametrize("kind", ["5xx", "slow", "drop_before", "drop_after"])
async def test_read_faults_are_not_sent(sandbox: SandboxThread, kind: str) -> None:
    channel = facebook_channel(sandbox)
    post = await channel.publish(Outgoing("readable"))
    force(sandbox, "batch", kind)

    with pytest.raises(NotSent) as caught:
        await channel.fetch_engagement([post.remote_id])

    assert type(caught.value) is NotSent
    assert caught.value.retry_safe


async def test_read_throttled_is_rate_limited(sandbox: SandboxThread) -> None:
    force(sandbox, "read", "429")

    with pytest.raises(RateLimited) as caught:
        await facebook_channel(sandbox).check_credentials()

    assert caught.value.retry_safe
    assert caught.value.retry_after >= 60  # from estimated_time_to_regain_access (minutes)


@pytest.mark.parametrize("code", [4, 17, 32, 613, 80001])
async def test_throttling_codes_are_rate_limited(sandbox: SandboxThread, code: int) -> None:
    page_id, _ = page(sandbox)
    on_state(sandbox, lambda s: s.set_throttle_code(page_id, code))
    force(sandbox, "feed", "429")

    with pytest.raises(RateLimited) as caught:
        await facebook_channel(sandbox).publish(Outgoing("throttled"))

    assert f"code {code}" in caught.value.reason
    assert ledger(sandbox, "facebook") == []


async def test_connection_refused_is_not_sent() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again below: nothing listens there
    client = GraphClient(
        "EAAsecret",
        platform=Platform.FACEBOOK,
        service="Facebook",
        api_url=f"http://127.0.0.1:{port}/graph",
        timeout=(1, 1),
    )

    with pytest.raises(NotSent) as caught:
        await client.post("123/feed", {"message": "hi"})

    assert type(caught.value) is NotSent
    assert "could not connect" in caught.value.reason


# --- Graph's own errors --------------------------------------------------------------------------


async def test_revoked_and_expired_tokens_are_auth_expired(sandbox: SandboxThread) -> None:
    pages = sandbox.sandbox.fixtures.pages
    on_state(sandbox, lambda s: s.revoke_token(pages[0].access_token))
    on_state(sandbox, lambda s: s.expire_token(pages[1].access_token))

    with pytest.raises(AuthExpired) as revoked:
        await facebook_channel(sandbox, 0).publish(Outgoing("hi"))
    with pytest.raises(AuthExpired) as expired:
        await facebook_channel(sandbox, 1).fetch_engagement([f"{pages[1].id}_1"])

    assert not revoked.value.retry_safe
    assert not expired.value.retry_safe
    assert "Reconnect" in revoked.value.reason


async def test_policy_block_is_rejected(sandbox: SandboxThread) -> None:
    with pytest.raises(Rejected) as caught:
        await facebook_channel(sandbox).publish(Outgoing("Win now #sandbox-policy-block"))

    assert "blocked this post" in caught.value.reason


async def test_duplicate_is_already_published(sandbox: SandboxThread) -> None:
    channel = facebook_channel(sandbox)
    await channel.publish(Outgoing("twice"))

    with pytest.raises(AlreadyPublished) as caught:
        await channel.publish(Outgoing("twice"))

    assert not caught.value.retry_safe


def graph_error(code: int, subcode: int | None = None, **kw: object) -> GraphCallError:
    return GraphCallError(code, f"(#{code}) message", subcode=subcode, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "expected", "idempotent_expected"),
    [
        (graph_error(190, 463), AuthExpired, AuthExpired),
        (graph_error(200), AuthExpired, AuthExpired),
        (graph_error(10), AuthExpired, AuthExpired),
        (graph_error(80002, regain_seconds=120.0), RateLimited, RateLimited),
        (graph_error(9, 2207042), RateLimited, RateLimited),
        (graph_error(4, 2207051), Rejected, Rejected),
        (graph_error(506), AlreadyPublished, AlreadyPublished),
        (graph_error(368), Rejected, Rejected),
        (graph_error(9004, 2207052), Rejected, Rejected),
        (graph_error(324), Rejected, Rejected),
        (graph_error(100, 2207010, user_msg="The caption is too long."), Rejected, Rejected),
        (graph_error(36003, 2207009), Rejected, Rejected),
        (graph_error(100), Rejected, Rejected),
        (graph_error(9007, 2207027), NotSent, NotSent),
        (graph_error(-2, 2207020), NotSent, NotSent),
        (graph_error(24, 2207006), OutcomeUnknown, NotSent),
        (graph_error(1), OutcomeUnknown, NotSent),
        (graph_error(2), OutcomeUnknown, NotSent),
        (
            GraphCallError(None, "Maintype was not text, image, or querystring"),
            OutcomeUnknown,
            NotSent,
        ),
        (requests.ConnectTimeout("connect"), NotSent, NotSent),
        (requests.ReadTimeout("read"), OutcomeUnknown, NotSent),
        (requests.ConnectionError("reset by peer"), OutcomeUnknown, NotSent),
        (KeyError("content-type"), OutcomeUnknown, NotSent),
    ],
)
def test_error_table(
    error: BaseException, expected: type[ChannelError], idempotent_expected: type[ChannelError]
) -> None:
    publishing = classify(error, TABLE, Platform.FACEBOOK)
    reading = classify(error, TABLE, Platform.FACEBOOK, idempotent=True)

    assert type(publishing) is expected
    assert type(reading) is idempotent_expected
    assert publishing.reason.endswith(".")


def test_rate_limit_delay_comes_from_regain_time_or_a_default() -> None:
    told = classify(graph_error(80001, regain_seconds=420.0), TABLE, Platform.FACEBOOK)
    untold = classify(graph_error(17), TABLE, Platform.FACEBOOK)

    assert isinstance(told, RateLimited)
    assert told.retry_after == 420.0
    assert "7 minutes" in told.reason
    assert isinstance(untold, RateLimited)
    assert untold.retry_after == DEFAULT_RETRY_AFTER


def test_reasons_hide_addresses_and_tokens() -> None:
    error = graph_error(100, user_msg="bad https://x.example/?access_token=EAAsecret thing")

    reason = classify(error, TABLE, Platform.FACEBOOK).reason

    assert "EAAsecret" not in reason
    assert "https://" not in reason


# --- usage headers and pacing --------------------------------------------------------------------


def test_parse_usage_headers() -> None:
    usage = parse_usage(
        {
            "X-App-Usage": '{"call_count": 12, "total_time": 3, "total_cputime": 2}',
            "X-Business-Use-Case-Usage": '{"1": [{"type": "pages", "call_count": 91, '
            '"total_cputime": 10, "total_time": 8, "estimated_time_to_regain_access": 0}]}',
        },
        observed_at=100.0,
    )

    assert usage == GraphUsage(12, 91, 0.0, 100.0)
    assert suggested_delay(usage, now=101.0) == 5.0
    assert suggested_delay(usage, now=100.0 + 3600) == 0.0  # stale readings say nothing
    assert suggested_delay(GraphUsage(None, 100, 600.0, 0.0), now=60.0) == 540.0
    assert parse_usage({"Content-Type": "text/javascript"}) is None


async def test_client_slows_down_before_meta_throttles(sandbox: SandboxThread) -> None:
    page_id, _ = page(sandbox)
    on_state(sandbox, lambda s: s.set_call_budget(page_id, 10))
    sleeps = Sleeps()
    channel = facebook_channel(sandbox, sleep=sleeps)

    for _ in range(9):
        await channel.check_credentials()
    usage = channel.graph.usage()
    await channel.check_credentials()  # the tenth call: usage reaches 100%
    calls = http_calls(sandbox)
    with pytest.raises(RateLimited) as held_back:
        await channel.check_credentials()

    assert usage is not None
    assert usage.business_percent == 90
    assert sleeps.delays
    assert all(0 < d <= 10 for d in sleeps.delays)
    assert http_calls(sandbox) == calls  # refused locally: Meta never saw an over-limit call
    assert held_back.value.retry_after >= 60


def test_api_url_from_environment() -> None:
    assert api_url_from_environment({}) == "https://graph.facebook.com"
    assert (
        api_url_from_environment({"AFISHA_GRAPH_API_URL": "http://127.0.0.1:8700/graph/"})
        == "http://127.0.0.1:8700/graph"
    )


def test_version_is_checked_and_pinned() -> None:
    client = GraphClient("t", platform=Platform.FACEBOOK, service="Facebook", version="v24.0")
    assert client.version == "v24.0"
    with pytest.raises(ValueError, match="v25.0"):
        GraphClient("t", platform=Platform.FACEBOOK, service="Facebook", version="21.0")


def test_fingerprint_ignores_whitespace_only() -> None:
    assert text_fingerprint(" a  b\r\nc ") == text_fingerprint("a b c")
    assert text_fingerprint("a b c") != text_fingerprint("A b c")


# --- the token never leaks ----------------------------------------------------------------------


async def test_token_never_in_logs_or_errors(
    sandbox: SandboxThread, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("urllib3", "requests", "channels", "facebook"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    page_id, token = page(sandbox)
    channel = facebook_channel(sandbox)
    errors: list[ChannelError] = []

    post = await channel.publish(Outgoing("hello"))
    await channel.fetch_engagement([post.remote_id])
    for op, kind in [("feed", "drop_after"), ("feed", "5xx"), ("read", "slow")]:
        force(sandbox, op, kind)
        try:
            if op == "feed":
                await channel.publish(Outgoing(f"{op} {kind}"))
            else:
                await facebook_channel(sandbox).check_credentials()
        except ChannelError as failure:
            errors.append(failure)
    on_state(sandbox, lambda s: s.revoke_token(token))
    with pytest.raises(AuthExpired) as revoked:
        await channel.publish(Outgoing("after revoke"))
    errors.append(revoked.value)

    assert len(errors) == 4
    assert "GET /graph/" in caplog.text or "POST /graph/" in caplog.text  # urllib3 did log
    assert token not in caplog.text
    for error in errors:
        assert token not in str(error)
        assert token not in repr(error)
        assert token not in error.reason
        assert "http://" not in error.reason
        assert error.__cause__ is None
        assert error.__suppress_context__
