"""How Graph failures become Afisha errors: `GraphCallError` and `graph_error_table`.

Facebook and Instagram share the table (`service` names the platform in the reasons);
`channels.graph.GraphClient` classifies every failure of a call through it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import requests
import urllib3.exceptions

from channels.base import ErrorRule, Outcome
from channels.graph_usage import DEFAULT_RETRY_AFTER, parse_usage


class GraphCallError(Exception):
    """A Graph error answer (raised or inside a batch), without the client library's baggage."""

    def __init__(
        self,
        code: int | None,
        message: str,
        *,
        subcode: int | None = None,
        error_type: str = "",
        user_title: str | None = None,
        user_msg: str | None = None,
        regain_seconds: float | None = None,
    ) -> None:
        super().__init__(f"Graph error {code}: {message}")
        self.code = code
        self.subcode = subcode
        self.message = message
        self.error_type = error_type
        self.user_title = user_title
        self.user_msg = user_msg
        self.regain_seconds = regain_seconds

    @classmethod
    def from_result(cls, result: Any, headers: Mapping[str, str] | None = None) -> GraphCallError:
        """From Graph's `{"error": {...}}` body (or the SDK's odd non-JSON complaint)."""
        usage = parse_usage(headers or {})
        regain = usage.regain_seconds if usage and usage.regain_seconds else None
        error = result.get("error") if isinstance(result, dict) else None
        if not isinstance(error, dict):
            return cls(None, str(result)[:200], regain_seconds=regain)
        code = error.get("code")
        subcode = error.get("error_subcode")
        return cls(
            code if isinstance(code, int) else None,
            str(error.get("message", "")),
            subcode=subcode if isinstance(subcode, int) else None,
            error_type=str(error.get("type", "")),
            user_title=error.get("error_user_title"),
            user_msg=error.get("error_user_msg"),
            regain_seconds=regain,
        )


def _code(*codes: int, subcode: int | None = None) -> Callable[[BaseException], bool]:
    def matches(exc: BaseException) -> bool:
        return (
            isinstance(exc, GraphCallError)
            and exc.code in codes
            and (subcode is None or exc.subcode == subcode)
        )

    return matches


def _subcode_in(low: int, high: int) -> Callable[[BaseException], bool]:
    return lambda exc: (
        isinstance(exc, GraphCallError) and exc.subcode is not None and low <= exc.subcode <= high
    )


def _permission(exc: BaseException) -> bool:
    return isinstance(exc, GraphCallError) and (
        exc.code == 10 or (exc.code is not None and 200 <= exc.code <= 299)
    )


def _graph_any(exc: BaseException) -> bool:
    return isinstance(exc, GraphCallError)


def _connect_failed(exc: BaseException) -> bool:
    """Refused, unresolvable or timed out while connecting: the request never left."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if not isinstance(exc, requests.ConnectionError):
        return False
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, urllib3.exceptions.MaxRetryError):
        reason = reason.reason
    return isinstance(
        reason, urllib3.exceptions.NewConnectionError | urllib3.exceptions.NameResolutionError
    )


def _regain(exc: BaseException) -> float:
    if isinstance(exc, GraphCallError) and exc.regain_seconds:
        return exc.regain_seconds
    return DEFAULT_RETRY_AFTER


def _plain(text: str) -> str:
    """A Graph message made presentable: no URLs, no access tokens, bounded length."""
    text = re.sub(r"https?://\S+", "<address>", text)
    text = re.sub(r"access_token=[^&\s]+", "access_token=<hidden>", text)
    return text.strip().rstrip(".")[:300]


def graph_error_table(service: str) -> tuple[ErrorRule, ...]:
    """How Graph failures become Afisha errors; `service` ("Facebook", "Instagram") names the
    platform in the reasons. Order matters: the first matching row wins.

    Codes 1/2 (and an unknown code or a broken answer) are MAYBE_SENT: Meta answers "an unknown
    error has occurred" for posts that were in fact created, so a publishing call must be
    reconciled, not repeated. `classify(..., idempotent=True)` turns them into NOT_SENT for
    reads and for steps that publish nothing (unpublished photo uploads, IG containers).
    """
    s = service
    reasons = {
        "auth": (
            "{service} no longer accepts Afisha's access token: it has expired or was revoked. "
            "Reconnect the {service} account in Afisha's channel settings."
        ),
        "permission": (
            "{service} says Afisha's access token lacks a permission it needs (code {code}). "
            "Reconnect the account and grant every permission Afisha asks for."
        ),
        "throttled": (
            "{service} asked Afisha to slow down (code {code}), so the request was not carried "
            "out. Afisha will try again in about {minutes} minutes."
        ),
        "ig_quota": (
            "The Instagram account has reached its limit of posts published through the API in "
            "24 hours. Afisha will publish when the limit frees up; nothing was published."
        ),
        "duplicate": (
            "{service} says this exact post is already on the Page. Afisha will look for it "
            "instead of posting it again."
        ),
        "policy": (
            "{service} blocked this post as abusive or against its rules. Change the text or "
            "images, or check the account's status in Meta Business Suite."
        ),
        "ig_blocked": (
            "Instagram blocked this action to protect its community. Wait a few hours, check the "
            "account in the Instagram app, then try again."
        ),
        "fetch": (
            "Instagram could not download or read an image. Make sure each image is a JPEG of at "
            "most 8 MB at a publicly reachable address, then try again."
        ),
        "image": (
            "{service} could not read an image of this post. Use a JPEG or PNG image and try again."
        ),
        "caption": "Instagram refused the caption: {detail}. Shorten or correct it.",
        "ig_media": "Instagram refused the media: {detail}. Change the images and try again.",
        "not_ready": (
            "Instagram had not finished processing the images, so nothing was published. Afisha "
            "will try again."
        ),
        "expired": (
            "Instagram's prepared upload expired before it was published, so nothing was "
            "published. Afisha will upload the images again."
        ),
        "vanished": (
            "Instagram could not find the prepared upload; it may already have been published. "
            "Afisha will check before doing anything else."
        ),
        "version": (
            "{service} no longer supports the Graph API version Afisha is configured with. Ask "
            "the administrator to update the Graph API version setting."
        ),
        "invalid": "{service} refused the request as invalid ({detail}). Check the post's content.",
        "transient": (
            "{service} had an internal error (code {code}); the request may or may not have "
            "taken effect. Afisha will check before trying again."
        ),
        "connect": "Afisha could not connect to {service}; nothing was sent. It will try again.",
        "timeout": (
            "{service} did not answer in time; the request may or may not have taken effect. "
            "Afisha will check before trying again."
        ),
        "dropped": (
            "The connection to {service} broke before it answered; the request may or may not "
            "have taken effect. Afisha will check before trying again."
        ),
        "network": (
            "Afisha's request to {service} failed ({kind}); it may or may not have taken effect."
        ),
    }

    def say(key: str, **params: Any) -> Callable[[BaseException], str]:
        def reason(exc: BaseException) -> str:
            values: dict[str, Any] = {"service": s, **params}
            if isinstance(exc, GraphCallError):
                detail = exc.user_msg or exc.message or exc.user_title or "no details"
                values.update(code=exc.code, detail=_plain(detail))
                values["minutes"] = max(1, round(_regain(exc) / 60))
            values.setdefault("kind", exc.__class__.__name__)
            values.setdefault("minutes", max(1, round(DEFAULT_RETRY_AFTER / 60)))
            return reasons[key].format(**values)

        return reason

    return (
        ErrorRule(_code(190), Outcome.AUTH_EXPIRED, say("auth")),
        ErrorRule(_code(102, 104), Outcome.AUTH_EXPIRED, say("auth")),
        ErrorRule(_permission, Outcome.AUTH_EXPIRED, say("permission")),
        # Code 4 with subcode 2207051 is Instagram's spam block, not throttling.
        ErrorRule(_code(4, subcode=2207051), Outcome.REJECTED, say("ig_blocked")),
        ErrorRule(
            _code(9, subcode=2207042),
            Outcome.RATE_LIMITED,
            say("ig_quota"),
            lambda exc: 3600.0,
        ),
        ErrorRule(
            _code(4, 17, 32, 341, 613, 80001, 80002),
            Outcome.RATE_LIMITED,
            say("throttled"),
            _regain,
        ),
        ErrorRule(_code(506), Outcome.DUPLICATE, say("duplicate")),
        ErrorRule(_code(368), Outcome.REJECTED, say("policy")),
        ErrorRule(_code(9004), Outcome.REJECTED, say("fetch")),
        ErrorRule(_code(324), Outcome.REJECTED, say("image")),
        ErrorRule(_code(9007), Outcome.NOT_SENT, say("not_ready")),
        ErrorRule(_code(-2, 2207020), Outcome.NOT_SENT, say("expired")),
        ErrorRule(_code(24), Outcome.MAYBE_SENT, say("vanished")),
        ErrorRule(_code(100, subcode=2207010), Outcome.REJECTED, say("caption")),
        ErrorRule(_subcode_in(2207000, 2207999), Outcome.REJECTED, say("ig_media")),
        ErrorRule(_code(2635), Outcome.REJECTED, say("version")),
        ErrorRule(_code(100, 2500), Outcome.REJECTED, say("invalid")),
        ErrorRule(_graph_any, Outcome.MAYBE_SENT, say("transient")),
        ErrorRule(_connect_failed, Outcome.NOT_SENT, say("connect")),
        ErrorRule(lambda e: isinstance(e, requests.Timeout), Outcome.MAYBE_SENT, say("timeout")),
        ErrorRule(
            lambda e: isinstance(e, requests.ConnectionError), Outcome.MAYBE_SENT, say("dropped")
        ),
        ErrorRule(lambda e: True, Outcome.MAYBE_SENT, say("network")),
    )


def is_permission(error: GraphCallError) -> bool:
    """Whether Graph refused for want of a permission (code 10 or 200-299)."""
    return _permission(error)


def refuses_insights(error: GraphCallError) -> bool:
    """Whether an answer means "you may not read these insights" (permission or metric name)."""
    return _permission(error) or (error.code == 100 and "metric" in error.message.lower())
