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
`ChannelError` from `channels.base.classify` with `graph_error_table` (in `channels.graph_errors`),
re-worded so that no message carries the token or a URL.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
import threading
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import facebook
import requests
from requests.adapters import HTTPAdapter

from channels.base import (
    AuthExpired,
    ChannelError,
    CredentialStatus,
    RateLimited,
    Rejected,
    Sleep,
    classify,
)
from channels.graph_errors import GraphCallError, graph_error_table
from channels.graph_usage import GraphUsage, parse_usage, suggested_delay
from content.domain.states import Platform
from content.redaction import guard_loggers, hide, redact

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://graph.facebook.com"
API_URL_VARIABLE = "AFISHA_GRAPH_API_URL"
DEFAULT_VERSION = "v25.0"
VERSION_PATTERN = re.compile(r"^v\d+\.\d+$")
BATCH_LIMIT = 50  # Meta's maximum number of requests in one batch call
DEFAULT_TIMEOUT = (5.0, 30.0)  # (connect, read) seconds
POOL_SIZE = 32
MAX_INLINE_DELAY = 10.0  # longer suggested delays are raised as RateLimited instead of slept


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
