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
