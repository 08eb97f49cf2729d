"""One Graph API call as the handlers see it, and the helpers they share to answer it."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlencode

from sandbox.graph_errors import invalid_parameter
from sandbox.graph_spec import FieldRequest, check_known, node, parse_fields

T = TypeVar("T")
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Principal:
    """Whom a token speaks for: the Pages and IG accounts it may act on."""

    token: str
    page_ids: frozenset[str]
    ig_ids: frozenset[str]

    def may_act_on(self, owner: str) -> bool:
        return owner in self.page_ids or owner in self.ig_ids


@dataclass
class Call:
    """A Graph request, from HTTP or from a batch item, after the version prefix is removed."""

    method: str  # GET | POST | DELETE
    path: list[str]
    params: dict[str, str]
    version: str
    base_url: str  # e.g. http://127.0.0.1:8700/graph
    files: dict[str, bytes] = field(default_factory=dict)
    principal: Principal | None = None

    @property
    def token(self) -> str | None:
        return self.params.get("access_token") or None

    def require(self) -> Principal:
        assert self.principal is not None, "authentication runs before handlers"
        return self.principal

    def fields(self, default: str) -> list[FieldRequest]:
        return parse_fields(self.params.get("fields") or default)

    def flag(self, name: str, default: bool) -> bool:
        """A boolean parameter: true/false/1/0, any case (whether Graph takes facebook-sdk's
        "False" is unconfirmed; the sandbox is lenient so only real mistakes fail)."""
        raw = self.params.get(name)
        if raw is None or raw == "":
            return default
        if raw.lower() in ("true", "1"):
            return True
        if raw.lower() in ("false", "0"):
            return False
        raise invalid_parameter(f"(#100) param {name} must be a boolean")


def graph_time(moment: datetime) -> str:
    """Graph's datetime format: 2026-11-21T10:00:00+0000."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


def render(
    node_type: str,
    object_id: str,
    requests: list[FieldRequest],
    fields: dict[str, Callable[[], Any]],
    edges: dict[str, Callable[[FieldRequest], Any]] | None = None,
) -> dict[str, Any]:
    """The object with the requested fields; documented fields we do not model are left out."""
    check_known(node(node_type), requests)
    edges = edges or {}
    out: dict[str, Any] = {}
    for request in requests:
        if request.name in edges:
            out[request.name] = edges[request.name](request)
        elif request.name in fields:
            value = fields[request.name]()
            if value is not None:
                out[request.name] = value
    out.setdefault("id", object_id)  # Graph always answers with the id
    return out


def summary_edge(kind: str, total: int, modifiers: dict[str, str]) -> dict[str, Any]:
    """`reactions`/`comments`/`likes` with `.summary(...)`: individual people are not modelled."""
    edge: dict[str, Any] = {"data": []}
    if modifiers.get("summary", "false").lower() not in ("false", "0"):
        summary: dict[str, Any] = {"total_count": total}
        if kind == "reactions":
            summary["viewer_reaction"] = "NONE"
        elif kind == "comments":
            summary = {"order": "ranked", "total_count": total, "can_comment": True}
        elif kind == "likes":
            summary.update(can_like=True, has_liked=False)
        edge["summary"] = summary
    return edge


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(cursor: str) -> int:
    try:
        return int(base64.urlsafe_b64decode(cursor.encode()).decode().removeprefix("offset:"))
    except ValueError:
        raise invalid_parameter("(#100) The after cursor is invalid") from None


def paginate(
    call: Call, items: Sequence[T], render_item: Callable[[T], dict[str, Any]]
) -> dict[str, Any]:
    """A page of an edge with cursors; `next` carries the access token like Graph's does."""
    try:
        limit = min(int(call.params.get("limit", DEFAULT_PAGE_SIZE)), MAX_PAGE_SIZE)
    except ValueError:
        raise invalid_parameter("(#100) Param limit must be an integer") from None
    start = _offset(call.params["after"]) if call.params.get("after") else 0
    chunk = items[start : start + limit]
    body: dict[str, Any] = {"data": [render_item(item) for item in chunk]}
    if chunk:
        after = _cursor(start + len(chunk))
        paging: dict[str, Any] = {"cursors": {"before": _cursor(start), "after": after}}
        if start + len(chunk) < len(items):
            query = {k: v for k, v in call.params.items() if k != "before"}
            query.update(after=after, limit=str(limit))
            path = "/".join(call.path)
            paging["next"] = f"{call.base_url}/{call.version}/{path}?{urlencode(query)}"
        body["paging"] = paging
    return body
