"""Meta's node specs (fields with types, edges) and the `fields=` field-expansion syntax.

The JSON files in `graph_specs/` come from Meta's business SDK code generator (licence beside
them). The emulator uses them to reject unknown fields the way Graph does, and tests use
`conformance_problems` to check that every object the emulator returns is documented.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from sandbox.graph_errors import GraphError, invalid_parameter, nonexisting_field

SPEC_DIR = Path(__file__).with_name("graph_specs")
GRAPH_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$")
PRIMITIVES = {"string", "bool", "int", "unsigned int", "float", "datetime", "Object", "list"}


@dataclass(frozen=True)
class NodeSpec:
    """One node type: its documented fields (name -> type) and the edges it can GET."""

    name: str
    fields: dict[str, str]
    edges: frozenset[str]

    def knows(self, name: str) -> bool:
        return name in self.fields or name in self.edges


# The IG media container is not in the SDK specs; Graph calls it ShadowIGMediaBuilder.
CONTAINER = NodeSpec(
    "ShadowIGMediaBuilder",
    {"id": "string", "status": "string", "status_code": "string"},
    frozenset(),
)


@cache
def node(name: str) -> NodeSpec:
    """The spec of a node type by name (e.g. "PagePost")."""
    if name == CONTAINER.name:
        return CONTAINER
    data = json.loads((SPEC_DIR / f"{name}.json").read_text(encoding="utf-8"))
    fields = {f["name"]: f["type"] for f in data.get("fields", [])}
    edges = frozenset(
        a["endpoint"] for a in data.get("apis", []) if a.get("endpoint") and a["method"] == "GET"
    )
    return NodeSpec(name, fields, edges)


@dataclass
class FieldRequest:
    """One entry of `fields=`: a name, its modifiers (`.limit(0)`) and nested fields (`{a,b}`)."""

    name: str
    modifiers: dict[str, str] = field(default_factory=dict)
    children: list[FieldRequest] = field(default_factory=list)


def parse_fields(text: str) -> list[FieldRequest]:
    """Parse Graph's field expansion, e.g. `reactions.summary(total_count).limit(0),shares`."""
    return _FieldParser(text).parse_list(top=True)


class _FieldParser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def _error(self) -> GraphError:
        return invalid_parameter(
            f'(#100) Syntax error "Expected end of string" at character {self.pos}: {self.text}'
        )

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def parse_list(self, top: bool) -> list[FieldRequest]:
        items: list[FieldRequest] = []
        while True:
            while self._peek() == " ":
                self.pos += 1
            if self._peek() in ("", "}"):
                break
            items.append(self._parse_item())
            if self._peek() == ",":
                self.pos += 1
                continue
            break
        if top and self.pos != len(self.text):
            raise self._error()
        return items

    def _name(self) -> str:
        match = re.compile(r"[A-Za-z0-9_]+").match(self.text, self.pos)
        if not match:
            raise self._error()
        self.pos = match.end()
        return match.group()

    def _parse_item(self) -> FieldRequest:
        request = FieldRequest(self._name())
        while self._peek() in (".", "{"):
            if self._peek() == "{":
                self.pos += 1
                request.children = self.parse_list(top=False)
                if self._peek() != "}":
                    raise self._error()
                self.pos += 1
                continue
            self.pos += 1
            modifier = self._name()
            if self._peek() != "(":
                raise self._error()
            end = self.text.find(")", self.pos)
            if end < 0:
                raise self._error()
            request.modifiers[modifier] = self.text[self.pos + 1 : end]
            self.pos = end + 1
        return request


def check_known(spec: NodeSpec, requests: list[FieldRequest]) -> None:
    """Raise Graph's code-100 error for the first requested name the node does not have."""
    for request in requests:
        if not spec.knows(request.name):
            raise nonexisting_field(request.name, spec.name)


def conformance_problems(node_type: str, obj: dict[str, Any]) -> list[str]:
    """What in `obj` is not a documented field of `node_type` with the documented type."""
    spec = node(node_type)
    problems: list[str] = []
    for name, value in obj.items():
        if name in spec.fields:
            problems += _type_problems(f"{node_type}.{name}", spec.fields[name], value)
        elif name in spec.edges:
            if not (isinstance(value, dict) and isinstance(value.get("data"), list)):
                problems.append(f"{node_type}.{name}: an edge must be {{'data': [...]}}")
        else:
            problems.append(f"{node_type}.{name}: not a documented field")
    return problems


def _type_problems(where: str, type_name: str, value: Any) -> list[str]:
    ok: bool
    if type_name == "string":
        ok = isinstance(value, str)
    elif type_name == "bool":
        ok = isinstance(value, bool)
    elif type_name in ("int", "unsigned int"):
        ok = isinstance(value, int) and not isinstance(value, bool)
        ok = ok and (type_name == "int" or value >= 0)
    elif type_name == "float":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif type_name == "datetime":
        ok = isinstance(value, str) and bool(GRAPH_DATETIME.match(value))
    elif type_name == "Object":
        ok = isinstance(value, dict)
    elif type_name == "list" or type_name.startswith("list<"):
        if not isinstance(value, list):
            return [f"{where}: expected {type_name}, got {type(value).__name__}"]
        inner = type_name[5:-1] if type_name.startswith("list<") else ""
        problems: list[str] = []
        for i, item in enumerate(value):
            if inner:
                problems += _type_problems(f"{where}[{i}]", inner, item)
        return problems
    else:
        # Another node type (Profile, Album, IGUser, PlatformImageSource ...): an object.
        ok = isinstance(value, dict)
    return [] if ok else [f"{where}: expected {type_name}, got {value!r}"]
