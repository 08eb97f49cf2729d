"""Emulator of the Telegram Bot API over HTTP: `<base>/bot<token>/<method>` and
`<base>/file/bot<token>/<file_path>`, answering with Telegram's envelope and errors.

Each call is counted in the ledger, then may meet an injected fault (`sandbox.faults`):
`429` answers Too Many Requests, `5xx` a server error, `slow` answers late (the action still
happens), `drop_before` drops the connection and does nothing, `drop_after` acts, then drops it,
`echo` refuses with a page quoting the request's URL (and so the token).
The emulator's state lives in `sandbox.telegram_state.TelegramState`.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.faults import drop_connection
from sandbox.telegram_errors import NOT_FOUND, UNAUTHORIZED, BotApiError, too_many_requests
from sandbox.telegram_methods import METHODS_BY_LOWER_NAME, Answer
from sandbox.telegram_params import read_params
from sandbox.telegram_state import TelegramState

if TYPE_CHECKING:
    from sandbox.app import Sandbox

BAD_GATEWAY_PAGE = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
    "</body>\r\n</html>\r\n"
)


def add_routes(app: web.Application, sandbox: Sandbox) -> None:
    """Register the Bot API routes and create the emulator's state part."""
    state = TelegramState(sandbox)
    sandbox.parts["telegram"] = state
    app.on_cleanup.append(state.close)

    async def method(request: web.Request) -> web.StreamResponse:
        return await handle_method(sandbox, state, request)

    async def file(request: web.Request) -> web.StreamResponse:
        return handle_file(sandbox, state, request)

    for verb in ("GET", "POST"):
        app.router.add_route(verb, "/bot{token}/{method}", method)
    app.router.add_get("/file/bot{token}/{path:.+}", file)


def authorized(sandbox: Sandbox, token: str) -> bool:
    fixtures = sandbox.fixtures
    return token == fixtures.bot_token and token not in fixtures.revoked_tokens


def envelope(result: Any, description: str | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": True, "result": result}
    if description:
        body["description"] = description
    return web.json_response(body, dumps=_dumps)


def error_response(error: BotApiError) -> web.Response:
    return web.json_response(error.to_json(), status=error.code, dumps=_dumps)


def server_error(sandbox: Sandbox) -> web.Response:
    """A 500 from the Bot API or a 502 from the nginx in front of it, as both happen."""
    if sandbox.rng.random() < 0.5:
        return error_response(BotApiError(500, "Internal Server Error"))
    return web.Response(status=502, text=BAD_GATEWAY_PAGE, content_type="text/html")


async def handle_method(
    sandbox: Sandbox, state: TelegramState, request: web.Request
) -> web.StreamResponse:
    if not authorized(sandbox, request.match_info["token"]):
        return error_response(UNAUTHORIZED)
    found = METHODS_BY_LOWER_NAME.get(request.match_info["method"].lower())
    if found is None:
        return error_response(NOT_FOUND)
    name, handler = found
    sandbox.ledger.count_call("telegram", name)
    try:
        params = await read_params(request)
    except BotApiError as error:
        return error_response(error)
    kind = sandbox.faults.draw(name)
    if kind == "429":
        return error_response(too_many_requests(sandbox.faults.retry_after))
    if kind == "5xx":
        return server_error(sandbox)
    if kind == "echo":
        return web.Response(
            status=400,
            text=f"Request refused: {request.method} {request.url}",
            content_type="text/plain",
        )
    if kind == "drop_before":
        return drop_connection(request)
    if kind == "slow":
        await asyncio.sleep(sandbox.faults.slow_seconds)
    try:
        answer = await handler(state, params)
    except BotApiError as error:
        response = error_response(error)
    else:
        if isinstance(answer, Answer):
            response = envelope(answer.result, answer.description)
        else:
            response = envelope(answer)
    if kind == "drop_after":
        return drop_connection(request)
    return response


def handle_file(sandbox: Sandbox, state: TelegramState, request: web.Request) -> web.StreamResponse:
    if not authorized(sandbox, request.match_info["token"]):
        return error_response(UNAUTHORIZED)
    sandbox.ledger.count_call("telegram", "file")
    file = state.files.by_path.get(request.match_info["path"])
    if file is None:
        return error_response(NOT_FOUND)
    return web.Response(body=file.data, content_type=file.mime_type or "application/octet-stream")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
