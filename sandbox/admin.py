"""The sandbox's admin API under `<base>/_sandbox/` (JSON): inspect and steer the outside world.

- `GET fixtures`, `GET ledger` (items and per-method call counts), `POST reset`;
- `GET clock`, `POST clock/advance {"seconds": N}` (then every emulator catches up, e.g. Telegram
  emits reaction counts);
- `GET faults`, `POST faults {"spec", "slow_seconds", "retry_after"}`,
  `POST faults/force {"method", "kind"}`;
- `POST revoke {"token"}`;
- `POST limits {"telegram_flood": bool, "overall_per_second": N, "per_chat_per_minute": N}`
  (each emulator part reads the keys it knows);
- Instagram: `GET instagram/processing`, `POST instagram/processing {"image_seconds",
  "carousel_seconds", "fail_next"}` (how long containers take to process on the sandbox's clock,
  and how many of the next image containers end in ERROR); `POST instagram/permissions {"token",
  "denied": ["instagram_manage_insights", "instagram_basic"]}` (a token granted without them:
  insights, or counts, answer code 10; `[]` grants all again);
  `POST instagram/hide_counts {"shortcode", "hidden"}` (the owner hides a post's like and view
  counts from the public web);
- Telegram: `POST telegram/updates` (what users do: `{"type": "message", "user_id", "text"}`,
  `{"type": "photo", "user_id", "image_base64"?, "caption"?}`,
  `{"type": "callback", "user_id", "chat_id", "message_id", "data"}`),
  `GET telegram/chats/{chat_id}/messages`, `GET telegram/files/{file_path}`,
  `GET telegram/callbacks/{query_id}`.
"""

from __future__ import annotations

import base64
import binascii
import io
from typing import TYPE_CHECKING, Any

from aiohttp import web
from PIL import Image

from sandbox.faults import FaultSpecError
from sandbox.graph_state import graph_state
from sandbox.telegram_errors import BotApiError
from sandbox.telegram_state import telegram_state

if TYPE_CHECKING:
    from sandbox.app import Sandbox

PREFIX = "/_sandbox"


class AdminError(Exception):
    """A request the admin API cannot carry out; answered as 400 with the reason."""


def add_routes(app: web.Application, sandbox: Sandbox) -> None:
    """Register the admin API."""
    routes: list[tuple[str, str, Any]] = [
        ("GET", "fixtures", lambda body, req: sandbox.fixtures.to_json()),
        ("GET", "ledger", lambda body, req: sandbox.ledger.to_json()),
        ("POST", "reset", lambda body, req: _reset(sandbox)),
        ("GET", "clock", lambda body, req: _clock(sandbox)),
        ("POST", "clock/advance", lambda body, req: _advance(sandbox, body)),
        ("GET", "faults", lambda body, req: _faults(sandbox)),
        ("POST", "faults", lambda body, req: _set_faults(sandbox, body)),
        ("POST", "faults/force", lambda body, req: _force_fault(sandbox, body)),
        ("POST", "revoke", lambda body, req: _revoke(sandbox, body)),
        ("POST", "limits", lambda body, req: _limits(sandbox, body)),
        ("GET", "instagram/processing", lambda body, req: graph_state(sandbox).processing()),
        (
            "POST",
            "instagram/processing",
            lambda body, req: graph_state(sandbox).configure_processing(body),
        ),
        ("POST", "instagram/permissions", lambda body, req: _permissions(sandbox, body)),
        ("POST", "instagram/hide_counts", lambda body, req: _hide_counts(sandbox, body)),
        ("POST", "telegram/updates", lambda body, req: _inject(sandbox, body)),
        ("GET", "telegram/chats/{chat_id}/messages", lambda body, req: _messages(sandbox, req)),
        ("GET", "telegram/callbacks/{query_id}", lambda body, req: _callback(sandbox, req)),
    ]
    for verb, path, action in routes:
        app.router.add_route(verb, f"{PREFIX}/{path}", _endpoint(action))
    app.router.add_get(f"{PREFIX}/telegram/files/{{path:.+}}", _file(sandbox))


def _endpoint(action: Any) -> Any:
    async def handle(request: web.Request) -> web.Response:
        body: dict[str, Any] = {}
        if request.method == "POST" and request.can_read_body:
            try:
                body = await request.json()
            except ValueError:
                return web.json_response({"error": "the body must be JSON"}, status=400)
            if not isinstance(body, dict):
                return web.json_response({"error": "the body must be a JSON object"}, status=400)
        try:
            result = action(body, request)
        except (AdminError, FaultSpecError, LookupError, ValueError, TypeError, BotApiError) as exc:
            message = exc.description if isinstance(exc, BotApiError) else str(exc)
            return web.json_response({"error": message}, status=400)
        return web.json_response(result)

    return handle


def _reset(sandbox: Sandbox) -> dict[str, Any]:
    sandbox.reset()
    return {"ok": True}


def _clock(sandbox: Sandbox) -> dict[str, Any]:
    now = sandbox.clock.now()
    return {"now": now.isoformat(), "timestamp": now.timestamp()}


def _advance(sandbox: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    sandbox.clock.advance(float(body["seconds"]))
    for part in sandbox.parts.values():
        hook = getattr(part, "on_clock_advanced", None)
        if hook is not None:
            hook()
    return _clock(sandbox)


def _faults(sandbox: Sandbox) -> dict[str, Any]:
    faults = sandbox.faults
    return {
        "rules": faults.rules,
        "forced": faults.forced,
        "injected": faults.injected,
        "slow_seconds": faults.slow_seconds,
        "retry_after": faults.retry_after,
    }


def _set_faults(sandbox: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    faults = sandbox.faults
    if "spec" in body:
        faults.configure(str(body["spec"]))
    if "slow_seconds" in body:
        faults.slow_seconds = float(body["slow_seconds"])
    if "retry_after" in body:
        faults.retry_after = int(body["retry_after"])
    return _faults(sandbox)


def _force_fault(sandbox: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    sandbox.faults.force(str(body["method"]), str(body["kind"]))
    return _faults(sandbox)


def _revoke(sandbox: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    sandbox.fixtures.revoked_tokens.add(str(body["token"]))
    return {"revoked_tokens": sorted(sandbox.fixtures.revoked_tokens)}


def _permissions(sandbox: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    denied = body.get("denied", [])
    if not isinstance(denied, list):
        raise AdminError("denied must be a list of permission names")
    graph_state(sandbox).deny_permissions(str(body["token"]), {str(p) for p in denied})
    return {"denied": sorted(str(p) for p in denied)}


def _hide_counts(sandbox: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    state = graph_state(sandbox)
    shortcode, hidden = str(body["shortcode"]), bool(body.get("hidden", True))
    for media in state.media.values():
        if media.shortcode == shortcode:
            media.counts_hidden = hidden
            return {"shortcode": shortcode, "hidden": hidden}
    for profile in state.public_profiles.values():
        for post in profile.posts:
            if post.shortcode == shortcode:
                post.counts_hidden = hidden
                return {"shortcode": shortcode, "hidden": hidden}
    raise AdminError(f"no Instagram post has shortcode {shortcode}")


def _limits(sandbox: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    for part in sandbox.parts.values():
        configure = getattr(part, "configure_limits", None)
        if configure is not None:
            configure(body)
    flood = telegram_state(sandbox).flood.limits
    return {
        "telegram_flood": flood.enabled,
        "overall_per_second": flood.overall_per_second,
        "per_chat_per_minute": flood.per_chat_per_minute,
    }


def _inject(sandbox: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    state = telegram_state(sandbox)
    kind = body.get("type")
    user_id = int(body.get("user_id", sandbox.fixtures.staff_user_id))
    if kind == "message":
        update = state.inject_message(user_id, str(body["text"]))
    elif kind == "photo":
        image = _image(body.get("image_base64"))
        update = state.inject_photo(user_id, image, body.get("caption"))
    elif kind == "callback":
        update = state.inject_callback(
            user_id, int(body["chat_id"]), int(body["message_id"]), str(body["data"])
        )
    elif kind == "block":
        state.block_bot(user_id)
        return {"update": None, "delivered": False, "blocked": user_id}
    else:
        raise AdminError("type must be message, photo, callback or block")
    return {"update": update, "delivered": update is not None}


def _image(encoded: str | None) -> bytes:
    """The photo a user sends: the given base64 bytes, or a small made-up JPEG."""
    if encoded:
        try:
            return base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise AdminError("image_base64 is not valid base64") from None
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 120, 40)).save(buffer, format="JPEG")
    return buffer.getvalue()


def _messages(sandbox: Sandbox, request: web.Request) -> dict[str, Any]:
    chat_id = int(request.match_info["chat_id"])
    state = telegram_state(sandbox)
    if chat_id not in state.chats and chat_id not in state.users:
        raise AdminError(f"no chat {chat_id}")
    return {"chat": state.chat_json(chat_id), "messages": state.chat_history(chat_id)}


def _callback(sandbox: Sandbox, request: web.Request) -> dict[str, Any]:
    query = telegram_state(sandbox).callback_queries.get(request.match_info["query_id"])
    if query is None:
        raise AdminError("no such callback query")
    return {"id": query.id, "data": query.data, "answered": query.answered, "answer": query.answer}


def _file(sandbox: Sandbox) -> Any:
    async def handle(request: web.Request) -> web.Response:
        file = telegram_state(sandbox).files.by_path.get(request.match_info["path"])
        if file is None:
            return web.json_response({"error": "no such file"}, status=404)
        return web.Response(
            body=file.data, content_type=file.mime_type or "application/octet-stream"
        )

    return handle
