"""The official Bot API description as data, and a checker of JSON values against it.

`telegram_specs/telegram-bot-api-10.1.json` is the Bot API 10.1 documentation scraped by the
MIT-licensed telegram-bot-api-spec project (licence beside it). The emulator uses it to keep its
answers honest: every object it returns must have the documented required fields, with the
documented JSON types, and no field the documentation does not know.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).with_name("telegram_specs") / "telegram-bot-api-10.1.json"

_SCALARS = ("Integer", "Float", "String", "Boolean", "True")


@cache
def load_spec() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return data


def method_spec(method: str) -> dict[str, Any]:
    """The documented method, found case-insensitively as the Bot API finds it."""
    methods = load_spec()["methods"]
    for name, spec in methods.items():
        if name.lower() == method.lower():
            result: dict[str, Any] = spec
            return result
    raise KeyError(method)


def required_fields(method: str) -> list[str]:
    """Names of the method's parameters the documentation marks as required."""
    return [f["name"] for f in method_spec(method).get("fields", []) if f["required"]]


def check_result(method: str, value: Any) -> list[str]:
    """Problems of a method's result against its documented return types (empty if fine)."""
    return _check_any(method_spec(method)["returns"], value, "result")


def check_object(type_name: str, value: Any, path: str = "") -> list[str]:
    """Problems of `value` as a `type_name` object: missing, mistyped or undocumented fields."""
    return _check_type(type_name, value, path or type_name)


def _check_any(type_exprs: list[str], value: Any, path: str) -> list[str]:
    """Problems if `value` matches none of the alternatives; the closest one's are reported."""
    best: list[str] | None = None
    for expr in type_exprs:
        problems = _check_type(expr, value, path)
        if not problems:
            return []
        if best is None or len(problems) < len(best):
            best = problems
    return best or [f"{path}: no type to check against"]


def _check_type(expr: str, value: Any, path: str) -> list[str]:
    if expr.startswith("Array of "):
        if not isinstance(value, list):
            return [f"{path}: expected an array, got {type(value).__name__}"]
        item_type = expr.removeprefix("Array of ")
        return [
            p for i, item in enumerate(value) for p in _check_type(item_type, item, f"{path}[{i}]")
        ]
    if expr in _SCALARS:
        return [] if _scalar_ok(expr, value) else [f"{path}: expected {expr}, got {value!r:.60}"]
    types = load_spec()["types"]
    if expr not in types:
        return [f"{path}: unknown type {expr}"]
    spec = types[expr]
    if "subtypes" in spec:
        return _check_any(spec["subtypes"], value, path)
    if not isinstance(value, dict):
        return [f"{path}: expected a {expr} object, got {type(value).__name__}"]
    fields = {f["name"]: f for f in spec.get("fields", [])}
    problems = [
        f"{path}.{name}: required by {expr} but missing"
        for name, f in fields.items()
        if f["required"] and name not in value
    ]
    for name, item in value.items():
        if name not in fields:
            problems.append(f"{path}.{name}: not a documented field of {expr}")
        else:
            problems += _check_any(fields[name]["types"], item, f"{path}.{name}")
    return problems


def _scalar_ok(expr: str, value: Any) -> bool:
    if expr == "Integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if expr == "Float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if expr == "String":
        return isinstance(value, str)
    if expr == "Boolean":
        return isinstance(value, bool)
    return value is True
