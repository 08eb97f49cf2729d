"""No secret reaches a log handler."""

from __future__ import annotations

import logging

import pytest

from content.redaction import MASK, RedactingFilter, redact

BOT_TOKEN = "7000000001:AAbotTokenThatMustNeverLeak_0123456789"


@pytest.mark.parametrize(
    "line",
    [
        f"HTTP Request: POST https://api.telegram.org/bot{BOT_TOKEN}/sendMessage",
        "GET /v25.0/123/feed?access_token=EAAsecret123&fields=id",
        "Authorization: Bearer EAAsecret123",
    ],
)
def test_known_token_shapes_are_redacted(line: str) -> None:
    cleaned = redact(line)
    assert MASK in cleaned
    assert BOT_TOKEN not in cleaned
    assert "EAAsecret123" not in cleaned


def test_configured_secrets_are_redacted_wherever_they_appear() -> None:
    assert redact("key is s3cr3t-value!", ["s3cr3t-value"]) == f"key is {MASK}!"


def test_filter_rewrites_records_with_arguments(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("afisha.test")
    caplog.handler.addFilter(RedactingFilter(["page-token-xyz"]))
    with caplog.at_level(logging.INFO):
        logger.info("calling %s with %s", f"/bot{BOT_TOKEN}/getMe", "page-token-xyz")
    assert caplog.messages == [f"calling /bot{MASK}/getMe with {MASK}"]


GRAPH_TOKEN = "EAAgraphTokenThatMustNeverLeak0123456789"
FERNET_KEY = "k" * 43 + "="


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        (f"POST /bot{'123:short'}/getMe failed", "123:short"),
        (f"token {BOT_TOKEN} bare", BOT_TOKEN),
        ('{"access_token": "opaque-page-token", "fields": "id"}', "opaque-page-token"),
        ("access_token=opaque-page-token&fields=id", "opaque-page-token"),
        (f"a Graph token {GRAPH_TOKEN} on its own", GRAPH_TOKEN),
        ("X-Telegram-Bot-Api-Secret-Token: hook-secret-1", "hook-secret-1"),
        ("setWebhook secret_token=hook-secret-1", "hook-secret-1"),
        (f"key={FERNET_KEY}", FERNET_KEY),
    ],
)
def test_every_secret_shape_is_redacted(line: str, secret: str) -> None:
    cleaned = redact(line)
    assert secret not in cleaned
    assert MASK in cleaned


def test_a_short_secret_is_masked_only_where_it_stands_alone() -> None:
    assert (
        redact("sent to /botty with key t, at t=3", ["t"])
        == f"sent to /botty with key {MASK}, at {MASK}=3"
    )


def test_ordinary_text_is_left_alone() -> None:
    line = "published 12 posts to /bots and channel -1001000000001 at 10:00:05"
    assert redact(line) == line


def _logged(records: list[logging.LogRecord]) -> str:
    formatter = logging.Formatter("%(message)s")
    return "\n".join(formatter.format(record) for record in records)


def test_tracebacks_and_exception_arguments_are_redacted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.handler.addFilter(RedactingFilter(["webhook-secret-xyz"]))
    logger = logging.getLogger("afisha.test")
    with caplog.at_level(logging.DEBUG):
        try:
            try:
                raise OSError(f"connect to https://api.telegram.org/bot{BOT_TOKEN}/getMe")
            except OSError as first:
                raise RuntimeError("hook", "webhook-secret-xyz") from first
        except RuntimeError:
            logger.exception("the call failed")
        logger.debug("the stack at webhook-secret-xyz", stack_info=True)  # quotes its line
        logger.warning("%s", ValueError(GRAPH_TOKEN))
    text = caplog.text + _logged(caplog.records)
    assert "the call failed" in text
    assert "Traceback" in text
    for secret in (BOT_TOKEN, "webhook-secret-xyz", GRAPH_TOKEN):
        assert secret not in text
    failed = caplog.records[0]
    assert failed.exc_info is None  # no handler can render the original exception again
    assert failed.exc_text is not None
    assert MASK in failed.exc_text
    assert "RuntimeError" in failed.exc_text
    assert caplog.records[1].stack_info is not None
    assert f"the stack at {MASK}" in caplog.records[1].stack_info
    assert "test_tracebacks_and_exception_arguments_are_redacted" in caplog.records[1].stack_info


def test_a_secret_only_in_an_exception_argument_drops_the_exception(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Quiet(Exception):
        def __str__(self) -> str:
            return "something failed"

    caplog.handler.addFilter(RedactingFilter(["s3cr3t-value"]))
    with caplog.at_level(logging.INFO):
        try:
            raise Quiet("s3cr3t-value")
        except Quiet:
            logging.getLogger("afisha.test").exception("oops")
    (record,) = caplog.records
    assert record.exc_info is None
    assert record.exc_text is not None
    assert "something failed" in record.exc_text


def test_a_traceback_without_secrets_keeps_its_exception(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.handler.addFilter(RedactingFilter(["s3cr3t-value"]))
    with caplog.at_level(logging.INFO):
        try:
            raise KeyError("harmless")
        except KeyError:
            logging.getLogger("afisha.test").exception("oops")
    (record,) = caplog.records
    assert record.exc_info is not None
    assert "KeyError: 'harmless'" in caplog.text


def test_a_malformed_call_is_masked_and_does_not_raise(caplog: pytest.LogCaptureFixture) -> None:
    caplog.handler.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO):
        logging.getLogger("afisha.test").info("%s and %s", f"/bot{BOT_TOKEN}/x")
    assert BOT_TOKEN not in caplog.text
    assert BOT_TOKEN not in caplog.records[0].getMessage()
