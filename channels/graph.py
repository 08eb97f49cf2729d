"""The Graph API as Facebook and Instagram channels use it: one client, one error table.

facebook-sdk 3.1.0 is used as it is (never patched): it only knows Graph versions up to 3.1 and
sends every call to the module global `facebook.FACEBOOK_GRAPH_URL`. `GraphClient` therefore
constructs `GraphAPI` without a version and sets `graph.version` afterwards, and gives it a
`requests.Session` of its own that

- swaps whatever prefix `FACEBOOK_GRAPH_URL` holds for this client's `api_url` (per client and
  thread-safe, unlike assigning the global, so a sandbox and the real Graph can coexist);
- sends the access token in the `Authorization` header, so it is never in a URL: urllib3 logs
  URLs at DEBUG and `requests` exceptions quote them (the SDK only adds `access_token` to the
  query or body when it holds a token, and this one does not);
- reads the usage headers (`X-App-Usage`, `X-Business-Use-Case-Usage`) of every answer with a
  response hook, because the SDK does not expose response headers.

Calls run in a worker thread (the SDK is synchronous). Every failure leaves as exactly one
`ChannelError` from `channels.base.classify` with `graph_error_table`, re-worded so that no
message carries the token or a URL.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
import threading
import time
import unicodedata
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import facebook
import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter

from channels.base import (
    AuthExpired,
    ChannelError,
    CredentialStatus,
    ErrorRule,
    Outcome,
    RateLimited,
    Rejected,
    classify,
)
from content.domain.states import Platform
from content.redaction import guard_loggers, hide, redact

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://graph.facebook.com"
API_URL_VARIABLE = "AFISHA_GRAPH_API_URL"
DEFAULT_VERSION = "v25.0"
VERSION_PATTERN = re.compile(r"^v\d+\.\d+$")
BATCH_LIMIT = 50  # Meta's maximum number of requests in one batch call
DEFAULT_TIMEOUT = (5.0, 30.0)  # (connect, read) seconds
# When Meta throttles without saying how long (no usage header), wait this long: its guide
# says limits are computed over a rolling hour, and five minutes lets the usage fall a little.
DEFAULT_RETRY_AFTER = 300.0
# Usage readings older than this say nothing about the current window.
USAGE_FRESH_SECONDS = 300.0
# Before Meta throttles, slow down as usage (percent of the allowance) climbs.
PACING = ((95, 10.0), (90, 5.0), (80, 1.0))
POOL_SIZE = 32
MAX_INLINE_DELAY = 10.0  # longer suggested delays are raised as RateLimited instead of slept

Sleep = Callable[[float], Awaitable[None]]


def api_url_from_environment(environ: Mapping[str, str] | None = None) -> str:
    """`AFISHA_GRAPH_API_URL` (e.g. the sandbox's `http://127.0.0.1:8700/graph`) or Meta's."""
    env = os.environ if environ is None else environ
    return (env.get(API_URL_VARIABLE) or DEFAULT_API_URL).rstrip("/")


def text_fingerprint(text: str) -> str:
    """A hash of a post's text that survives the platform's cosmetic changes.

    The text is NFC-normalised, line endings unified, every run of whitespace collapsed to one
    space and the ends stripped; case and punctuation are kept (a different text is a different
    post). Facebook and Instagram return the message exactly as sent apart from such whitespace,
    so the fingerprint of what we sent equals the fingerprint of what we read back.
    """
    normal = " ".join(unicodedata.normalize("NFC", text).split())
    return hashlib.sha256(normal.encode()).hexdigest()[:32]


# --- errors ---------------------------------------------------------------------------------------


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


def refuses_insights(error: GraphCallError) -> bool:
    """Whether an answer means "you may not read these insights" (permission or metric name)."""
    return _permission(error) or (error.code == 100 and "metric" in error.message.lower())


# --- usage ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GraphUsage:
    """Meta's latest usage report, in percent of the allowance (100 means throttled)."""

    app_percent: int | None
    business_percent: int | None
    regain_seconds: float
    observed_at: float  # time.monotonic() of the answer

    @property
    def percent(self) -> int:
        return max(self.app_percent or 0, self.business_percent or 0)


def _percent(entry: Any) -> int | None:
    if not isinstance(entry, dict):
        return None
    values = [
        v
        for k in ("call_count", "total_cputime", "total_time")
        if isinstance(v := entry.get(k), int)
    ]
    return max(values) if values else None


def parse_usage(headers: Mapping[str, str], observed_at: float | None = None) -> GraphUsage | None:
    """The usage headers of one answer, or None when it carries none."""
    lowered = {k.lower(): v for k, v in headers.items()}
    app_raw, buc_raw = lowered.get("x-app-usage"), lowered.get("x-business-use-case-usage")
    if app_raw is None and buc_raw is None:
        return None
    app = business = None
    regain = 0.0
    try:
        app = _percent(json.loads(app_raw)) if app_raw else None
        if buc_raw:
            for entries in json.loads(buc_raw).values():
                for entry in entries if isinstance(entries, list) else []:
                    pct = _percent(entry)
                    if pct is not None:
                        business = max(business or 0, pct)
                    minutes = entry.get("estimated_time_to_regain_access") or 0
                    if isinstance(minutes, int | float):
                        regain = max(regain, float(minutes) * 60)
    except (ValueError, AttributeError, TypeError):
        log.debug("unreadable Graph usage headers")
    stamp = time.monotonic() if observed_at is None else observed_at
    return GraphUsage(app, business, regain, stamp)


def suggested_delay(usage: GraphUsage | None, now: float | None = None) -> float:
    """Seconds to wait before the next call so that Meta does not have to throttle us."""
    if usage is None:
        return 0.0
    elapsed = (time.monotonic() if now is None else now) - usage.observed_at
    if usage.percent >= 100:
        wait = (usage.regain_seconds or DEFAULT_RETRY_AFTER) - elapsed
        return max(wait, 0.0)
    if elapsed > USAGE_FRESH_SECONDS:
        return 0.0
    return next((delay for level, delay in PACING if usage.percent >= level), 0.0)


# --- the client -----------------------------------------------------------------------------------


class _GraphSession(requests.Session):
    """requests.Session that redirects facebook-sdk's URLs and carries the token in a header."""

    def __init__(self, api_url: str, token: str, on_headers: Callable[[Any], None]) -> None:
        super().__init__()
        self.api_url = api_url.rstrip("/") + "/"
        self.headers["Authorization"] = f"OAuth {token}"
        # No automatic retries (a retried POST could publish twice) and a pool as large as the
        # default thread pool that runs the calls, so concurrent calls reuse connections.
        for scheme in ("https://", "http://"):
            self.mount(scheme, HTTPAdapter(pool_maxsize=POOL_SIZE, max_retries=0))
        self.hooks["response"].append(lambda response, **_: on_headers(response.headers))

    def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> requests.Response:
        prefix = facebook.FACEBOOK_GRAPH_URL  # read at call time, as the SDK does
        if isinstance(url, str) and url.startswith(prefix):
            url = self.api_url + url[len(prefix) :]
        return super().request(method, url, *args, **kwargs)


@dataclass(frozen=True)
class BatchRequest:
    """One request of a batch call; `relative_url` has no version prefix."""

    method: str
    relative_url: str
    body: Mapping[str, str] | None = None

    def to_json(self) -> dict[str, str]:
        item = {"method": self.method, "relative_url": self.relative_url}
        if self.body:
            item["body"] = urlencode(dict(self.body))
        return item


class GraphClient:
    """One token against one Graph API base URL and version, with pacing and one error table."""

    def __init__(
        self,
        token: str,
        *,
        platform: Platform,
        service: str,
        api_url: str = DEFAULT_API_URL,
        version: str = DEFAULT_VERSION,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        sleep: Sleep = asyncio.sleep,
        max_inline_delay: float = MAX_INLINE_DELAY,
    ) -> None:
        if not VERSION_PATTERN.match(version):
            raise ValueError(f"Graph API version must look like v25.0, not {version!r}")
        self.platform = platform
        self.service = service
        self.version = version
        self.table = graph_error_table(service)
        self._token = token
        # The token goes in a header, never in a URL; should a record (urllib3 logs request
        # lines at DEBUG) or a traceback ever carry it, the process's filter masks it.
        hide(token)
        guard_loggers("urllib3.connectionpool")
        self._sleep = sleep
        self._max_inline_delay = max_inline_delay
        self._usage: GraphUsage | None = None
        self._local = threading.local()
        self._session = _GraphSession(api_url, token, self._note_headers)
        # Without `version` the SDK's old version list is never consulted; the attribute is
        # all it uses to build paths, so setting it afterwards pins any current version.
        self._api = facebook.GraphAPI(timeout=timeout, session=self._session)
        self._api.version = version

    # --- usage and pacing ------------------------------------------------------------------

    def _note_headers(self, headers: Any) -> None:
        self._local.headers = headers
        usage = parse_usage(headers)
        if usage is not None:
            self._usage = usage

    def usage(self) -> GraphUsage | None:
        """The latest usage Meta reported for this token, if any."""
        return self._usage

    def suggested_delay(self) -> float:
        return suggested_delay(self._usage)

    async def _pace(self) -> None:
        delay = self.suggested_delay()
        if delay > self._max_inline_delay:
            raise RateLimited(
                f"{self.service} usage is at {self._usage.percent if self._usage else 100}% of "
                f"its allowance; Afisha waits {round(delay)} seconds before calling again so "
                "that it is not blocked. Nothing was sent.",
                delay,
                platform=self.platform,
            )
        if delay > 0:
            log.info("%s usage high: pausing %.1f s before the next call", self.service, delay)
            await self._sleep(delay)

    # --- calls ------------------------------------------------------------------------------

    def redact(self, text: str) -> str:
        return redact(text, [self._token])

    def _run(self, fn: Callable[[], Any]) -> Any:
        self._local.headers = None
        try:
            return fn()
        except facebook.GraphAPIError as exc:
            raise GraphCallError.from_result(exc.result, self._local.headers) from None

    async def _call(self, what: str, fn: Callable[[], Any], *, idempotent: bool) -> Any:
        await self._pace()
        try:
            result = await asyncio.to_thread(self._run, fn)
        except ChannelError:
            raise
        except Exception as exc:  # the SDK and requests raise many kinds; classify sorts them
            error = classify(exc, self.table, self.platform, idempotent=idempotent)
            error.reason = self.redact(error.reason)
            error.args = (error.reason,)
            log.info("%s %s failed: %s", self.service, what, error.__class__.__name__)
            raise error from None
        log.debug("%s %s ok", self.service, what)
        return result

    async def get(self, path: str, **params: str) -> Any:
        """GET `path` (no version prefix); reads are idempotent."""
        versioned = f"{self.version}/{path}"
        return await self._call(
            f"GET {path}", lambda: self._api.request(versioned, dict(params)), idempotent=True
        )

    async def post(
        self,
        path: str,
        data: Mapping[str, str],
        *,
        files: Mapping[str, Any] | None = None,
        idempotent: bool = False,
    ) -> Any:
        """POST to `path`; `idempotent=True` for steps that publish nothing by themselves."""
        versioned = f"{self.version}/{path}"
        return await self._call(
            f"POST {path}",
            lambda: self._api.request(
                versioned, post_args=dict(data), files=dict(files) if files else None
            ),
            idempotent=idempotent,
        )

    async def batch(self, requests_: Sequence[BatchRequest]) -> list[Any]:
        """Up to 50 requests in one HTTP call; each answer is its body or a GraphCallError.

        Errors inside a batch are answers, not exceptions; a failure of the batch call itself
        raises. Only batches of GETs are treated as idempotent.
        """
        if len(requests_) > BATCH_LIMIT:
            raise ValueError(f"a Graph batch holds at most {BATCH_LIMIT} requests")
        if not requests_:
            return []
        payload = json.dumps([r.to_json() for r in requests_])
        idempotent = all(r.method == "GET" for r in requests_)
        answers = await self._call(
            f"batch of {len(requests_)}",
            lambda: self._api.request(f"{self.version}/", post_args={"batch": payload}),
            idempotent=idempotent,
        )
        if not isinstance(answers, list) or len(answers) != len(requests_):
            raise classify(ValueError("bad batch answer"), self.table, self.platform)
        return [self._batch_answer(answer) for answer in answers]

    def _batch_answer(self, answer: Any) -> Any:
        if not isinstance(answer, dict):  # Graph answers null for an item it gave up on
            return GraphCallError(None, "no answer for this batch item")
        headers = {
            h.get("name", ""): h.get("value", "")
            for h in answer.get("headers") or []
            if isinstance(h, dict)
        }
        usage = parse_usage(headers)
        if usage is not None:
            self._usage = usage
        try:
            body = json.loads(answer.get("body") or "null")
        except ValueError:
            return GraphCallError(None, "unreadable batch answer")
        if answer.get("code") == 200 and not (isinstance(body, dict) and "error" in body):
            return body
        return GraphCallError.from_result(body, headers)

    def classify(self, error: BaseException, *, idempotent: bool = True) -> ChannelError:
        """The Afisha error for a failure met outside `_call` (e.g. a batch item's error)."""
        result = classify(error, self.table, self.platform, idempotent=idempotent)
        result.reason = self.redact(result.reason)
        result.args = (result.reason,)
        return result

    async def check_credentials(
        self, expected_id: str, *, node: str = "me", fields: str = "id,name"
    ) -> CredentialStatus:
        """Read `node` (the token's own `me` by default): valid when the token works and the
        node is `expected_id`. Code 190 and permission errors give valid=False; other failures
        (network, throttling) are raised, since they say nothing about the token."""
        try:
            me = await self.get(node, fields=fields)
        except (AuthExpired, Rejected) as error:  # Rejected: code 100, the node is out of reach
            return CredentialStatus(False, error.reason)
        if str(me.get("id")) != expected_id:
            return CredentialStatus(
                False,
                f"The {self.service} token belongs to {me.get('name') or me.get('id')}, not to "
                f"the configured account {expected_id}. Reconnect the right account.",
            )
        name = me.get("name") or me.get("username") or expected_id
        return CredentialStatus(True, f"Connected as {name}.")

    def close(self) -> None:
        self._session.close()
