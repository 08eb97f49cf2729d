"""Emulator of the Graph API for Facebook Pages and Instagram, served at `<base>/graph/`.

Routing, tokens, usage accounting and throttling, injected faults, batch requests and
multi-id reads live here; the Page handlers are in `graph_pages`, Instagram's in `instagram`,
the emulator's memory in `graph_state`. Point facebook-sdk at it with
`facebook.FACEBOOK_GRAPH_URL = base_url + "/graph/"` and set `graph.version = "v21.0"`.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from aiohttp import web

from sandbox import graph_errors as errors
from sandbox import graph_pages, instagram
from sandbox.faults import drop_connection
from sandbox.graph_call import Call, Principal
from sandbox.graph_errors import GraphError
from sandbox.graph_state import GraphState, graph_state

if TYPE_CHECKING:
    from sandbox.app import Sandbox

LATEST_VERSION = "v25.0"
OLDEST_VERSION = (20, 0)  # older versions are answered with code 2635
VERSION = re.compile(r"^v(\d+)\.(\d+)$")
MAX_BATCH = 50
MAX_IDS = 50
ROUTES = {**graph_pages.ROUTES, **instagram.ROUTES}
PUBLISHING_OPS = {"feed", "photos", "media", "media_publish"}


def add_routes(app: web.Application, sandbox: Sandbox) -> None:
    """Register the Graph API routes and the CDN that serves uploaded images back."""
    state = graph_state(sandbox)

    async def handle(request: web.Request) -> web.StreamResponse:
        return await handle_http(state, request)

    async def cdn(request: web.Request) -> web.StreamResponse:
        image = state.images.get(request.match_info["image_id"])
        if image is None:
            raise web.HTTPNotFound()
        return web.Response(body=image.data, content_type=image.content_type)

    app.router.add_route("*", "/graph", handle)
    app.router.add_route("*", "/graph/{tail:.*}", handle)
    app.router.add_get("/graph-cdn/{image_id}", cdn)


# --- HTTP ---------------------------------------------------------------------------------------


async def handle_http(state: GraphState, request: web.Request) -> web.StreamResponse:
    """One HTTP request: count it, maybe inject a fault, run it, answer in Graph's shape."""
    sandbox = state.sandbox
    try:
        call = await _read_request(state, request)
    except GraphError as error:
        return _error_response(state, error)
    op = operation(call)
    state.http_calls += 1
    state.calls_by_op[op] += 1
    sandbox.ledger.count_call("graph", op)
    fault = sandbox.faults.draw(op)
    if fault == "drop_before":
        return drop_connection(request)
    if fault == "5xx":
        return _error_response(state, errors.unknown_error(state.rng.choice((1, 2))))
    if fault == "echo":
        return _echo(request)
    if fault == "429":
        return _error_response(state, injected_throttle(state, call))
    if fault == "slow":
        await asyncio.sleep(sandbox.faults.slow_seconds)
    try:
        body, headers = await execute(state, call)
        response: web.StreamResponse = web.json_response(body, headers=headers)
    except GraphError as error:
        response = _error_response(state, error)
    if fault == "drop_after":
        return drop_connection(request)
    return response


def _echo(request: web.Request) -> web.Response:
    """A refusal quoting the request, token and all (the `echo` fault)."""
    authorization = request.headers.get("Authorization", "")
    message = f"Invalid request {request.method} {request.path_qs}, Authorization: {authorization}"
    error = {"message": message, "type": "GraphMethodException", "code": 100}
    return web.json_response({"error": error}, status=400)


def _error_response(state: GraphState, error: GraphError) -> web.Response:
    return web.json_response(error.body(state.rng), status=error.status, headers=error.headers)


async def _read_request(state: GraphState, request: web.Request) -> Call:
    params = dict(request.query)
    files: dict[str, bytes] = {}
    if request.can_read_body:
        if request.content_type == "application/json":
            data = await request.json()
            if isinstance(data, dict):
                params.update(
                    {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
                )
        else:
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    files[key] = value.file.read()
                else:
                    params[key] = str(value)
    auth = request.headers.get("Authorization", "")
    scheme, _, credential = auth.partition(" ")
    if "access_token" not in params and scheme.lower() in ("bearer", "oauth") and credential:
        params["access_token"] = credential.strip()
    base = f"{state.sandbox.base_url or f'{request.scheme}://{request.host}'}/graph"
    return make_call(request.method, request.match_info.get("tail", ""), params, base, files)


def make_call(
    method: str,
    path: str,
    params: dict[str, str],
    base_url: str,
    files: dict[str, bytes] | None = None,
    default_version: str = LATEST_VERSION,
) -> Call:
    """A Call from a path such as `v21.0/123/feed`; the version prefix is optional."""
    segments = [s for s in path.strip("/").split("/") if s]
    version = default_version
    if segments and (match := VERSION.match(segments[0])):
        if (int(match.group(1)), int(match.group(2))) < OLDEST_VERSION:
            raise errors.deprecated_version(LATEST_VERSION)
        version = segments.pop(0)
    return Call(method.upper(), segments, params, version, base_url, files or {})


def operation(call: Call) -> str:
    """The name faults and call counts use: feed, photos, media, media_publish, batch,
    insights, delete or read."""
    if not call.path:
        return "batch" if call.method == "POST" else "read"
    edge = call.path[1] if len(call.path) > 1 else ""
    if call.method == "POST" and edge in PUBLISHING_OPS:
        return edge
    if call.method == "DELETE":
        return "delete"
    if edge == "insights":
        return "insights"
    return "read" if call.method == "GET" else "write"


# --- running a call -----------------------------------------------------------------------------


async def execute(state: GraphState, call: Call) -> tuple[Any, dict[str, str]]:
    """Authenticate, account usage, route; returns the body and the usage headers."""
    state.promote_due_posts()
    if not call.path:
        if call.method == "POST" and "batch" in call.params:
            return await run_batch(state, call), {}
        if call.method == "GET" and "ids" in call.params:
            return await read_many(state, call)
        raise errors.invalid_parameter("(#100) Missing ids or batch parameter")
    call.principal = authenticate(state, call.token)
    object_id = _alias(call.principal, call.path[0])
    resolved = resolve(state, object_id)
    if resolved is None or not call.principal.may_act_on(resolved[1]):
        raise errors.unsupported_request(call.method, call.path[0])
    kind, owner = resolved
    headers = account_usage(state, owner)
    edge = "/".join(call.path[1:])
    handler = ROUTES.get((kind, call.method, edge))
    if handler is None:
        raise (
            errors.unknown_path(edge)
            if edge
            else errors.unsupported_request(call.method, object_id)
        )
    try:
        return await handler(state, call, object_id), headers
    except GraphError as error:
        error.headers.update(headers)
        raise


def _alias(principal: Principal, object_id: str) -> str:
    """`me` is the Page (or IG account) the token belongs to."""
    if object_id != "me":
        return object_id
    return next(iter(sorted(principal.page_ids or principal.ig_ids)))


def authenticate(state: GraphState, token: str | None) -> Principal:
    """Who the token speaks for, or the code-190 family of errors."""
    if not token:
        raise errors.missing_token()
    fixtures = state.sandbox.fixtures
    if token in fixtures.revoked_tokens:
        raise errors.revoked_token()
    if token in state.expired_tokens:
        now = state.now()
        stamp = "%A, %d-%b-%y %H:%M:%S UTC"
        raise errors.expired_token((now - timedelta(hours=1)).strftime(stamp), now.strftime(stamp))
    for page in fixtures.pages:
        if page.access_token == token:
            ig_ids = frozenset(a.id for a in fixtures.instagram if a.page_id == page.id)
            return Principal(token, frozenset({page.id}), ig_ids)
    for account in fixtures.instagram:
        if account.access_token == token:
            return Principal(token, frozenset(), frozenset({account.id}))
    raise errors.invalid_token()


def resolve(state: GraphState, object_id: str) -> tuple[str, str] | None:
    """The node kind of an id and the Page or IG account that owns it."""
    fixtures = state.sandbox.fixtures
    if any(p.id == object_id for p in fixtures.pages):
        return "page", object_id
    if any(a.id == object_id for a in fixtures.instagram):
        return "ig_user", object_id
    post = state.posts.get(object_id)
    if post is not None and not post.deleted:
        return "post", post.page_id
    if object_id in state.photo_posts and not state.posts[state.photo_posts[object_id]].deleted:
        return "photo", state.posts[state.photo_posts[object_id]].page_id
    if object_id in state.photos:
        return "photo", state.photos[object_id].page_id
    if object_id in state.containers:
        return "container", state.containers[object_id].ig_user_id
    media = state.media.get(object_id)
    if media is not None and not media.deleted:
        return "ig_media", media.ig_user_id
    return None


async def read_many(state: GraphState, call: Call) -> tuple[dict[str, Any], dict[str, str]]:
    """GET /?ids=a,b&fields=...: several objects in one call, keyed by id."""
    ids = [i.strip() for i in call.params["ids"].split(",") if i.strip()]
    if len(ids) > MAX_IDS:
        raise errors.invalid_parameter(
            f"(#100) Too many IDs. Maximum: {MAX_IDS}. Provided: {len(ids)}."
        )
    result: dict[str, Any] = {}
    headers: dict[str, str] = {}
    for object_id in ids:
        single = Call("GET", [object_id], call.params, call.version, call.base_url)
        result[object_id], headers = await execute(state, single)
    return result, headers


async def run_batch(state: GraphState, call: Call) -> list[dict[str, Any] | None]:
    """POST / with `batch`: up to 50 requests, each answered as {code, headers, body}."""
    try:
        items = json.loads(call.params["batch"])
    except ValueError:
        raise errors.invalid_parameter("(#100) param batch must be a JSON array") from None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise errors.invalid_parameter("(#100) param batch must be a JSON array")
    if len(items) > MAX_BATCH:
        raise errors.batch_too_large()
    include_headers = call.flag("include_headers", True)
    answers: list[dict[str, Any] | None] = []
    for item in items:
        code, headers, body = await _batch_item(state, call, item)
        answer: dict[str, Any] = {"code": code}
        if include_headers:
            answer["headers"] = [
                {"name": "Content-Type", "value": "text/javascript; charset=UTF-8"},
                *({"name": k, "value": v} for k, v in headers.items()),
            ]
        answer["body"] = json.dumps(body)
        answers.append(answer)
    return answers


async def _batch_item(
    state: GraphState, batch: Call, item: dict[str, Any]
) -> tuple[int, dict[str, str], Any]:
    relative = str(item.get("relative_url", ""))
    path, _, query = relative.partition("?")
    params = dict(parse_qsl(query, keep_blank_values=True))
    if isinstance(item.get("body"), str):
        params.update(parse_qsl(item["body"], keep_blank_values=True))
    if "access_token" not in params and batch.token:
        params["access_token"] = batch.token
    try:
        sub = make_call(
            str(item.get("method", "GET")), path, params, batch.base_url, None, batch.version
        )
        if not sub.path:
            raise errors.invalid_parameter("(#100) A batch item needs a relative_url")
        body, headers = await execute(state, sub)
        return 200, headers, body
    except GraphError as error:
        return error.status, error.headers, error.body(state.rng)


# --- usage and throttling -----------------------------------------------------------------------


def _buc_type(state: GraphState, owner: str) -> str:
    return "instagram" if any(a.id == owner for a in state.sandbox.fixtures.instagram) else "pages"


def _throttle_code(state: GraphState, owner: str | None) -> int:
    if owner is None:
        return 4
    default = 80002 if _buc_type(state, owner) == "instagram" else 80001
    return state.settings.throttle_codes.get(owner, default)


def usage_headers(state: GraphState, owner: str | None, at_limit: bool = False) -> dict[str, str]:
    """X-App-Usage and, for a Page or IG account, X-Business-Use-Case-Usage (percentages)."""
    app = state.settings.app_budget
    app_pct = state.usage("app", app.window_seconds) * 100 // app.calls
    headers = {
        "X-App-Usage": json.dumps(
            {"call_count": app_pct, "total_cputime": app_pct // 2, "total_time": app_pct // 2}
        )
    }
    if owner is not None:
        budget = state.budget_for(owner)
        pct = state.usage(owner, budget.window_seconds) * 100 // budget.calls
        if at_limit:
            pct = max(pct, 100)
        regain = (
            math.ceil(state.regain_seconds(owner, budget.window_seconds) / 60) or 1
            if pct >= 100
            else 0
        )
        entry = {
            "type": _buc_type(state, owner),
            "call_count": pct,
            "total_cputime": pct // 2,
            "total_time": pct // 2,
            "estimated_time_to_regain_access": regain,
        }
        headers["X-Business-Use-Case-Usage"] = json.dumps({owner: [entry]})
    return headers


def account_usage(state: GraphState, owner: str) -> dict[str, str]:
    """Count one call against the owner's and the app's budgets; throttle when over."""
    budget = state.budget_for(owner)
    app = state.settings.app_budget
    owner_calls = state.note_usage(owner, budget.window_seconds)
    app_calls = state.note_usage("app", app.window_seconds)
    headers = usage_headers(state, owner)
    if budget.enforced and owner_calls > budget.calls:
        raise _with_headers(errors.throttled(_throttle_code(state, owner)), headers)
    if app.enforced and app_calls > app.calls:
        raise _with_headers(errors.throttled(4), headers)
    return headers


def injected_throttle(state: GraphState, call: Call) -> GraphError:
    """The answer for an injected "429": the owner's throttling code and full usage."""
    owner = None
    if call.path:
        resolved = resolve(state, call.path[0])
        owner = resolved[1] if resolved else None
    return _with_headers(
        errors.throttled(_throttle_code(state, owner)), usage_headers(state, owner, True)
    )


def _with_headers(error: GraphError, headers: dict[str, str]) -> GraphError:
    error.headers.update(headers)
    return error
