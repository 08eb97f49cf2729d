"""Reading Bot API parameters the way the official server does, from any of its four encodings.

The query string, `application/x-www-form-urlencoded`, `application/json` and
`multipart/form-data` are all accepted and merged. Form values are strings and non-string values
arrive JSON-encoded (python-telegram-bot sends `reply_markup` and `allowed_updates` so); JSON bodies
carry typed values. Files come as multipart parts, named after the parameter or referenced from a
value as `attach://<part name>`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from sandbox.telegram_errors import bad_request

ATTACH = "attach://"


@dataclass(frozen=True)
class Upload:
    data: bytes
    filename: str | None
    content_type: str | None


class Params:
    """A request's parameters; a missing and an empty parameter read alike, as on Telegram."""

    def __init__(self, values: dict[str, Any], uploads: dict[str, Upload] | None = None) -> None:
        self.values = values
        self.uploads = uploads or {}

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "") or name in self.uploads

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def integer(self, name: str) -> int | None:
        """An integer, or None when missing or not a number (Telegram then reads it as 0)."""
        value = self.values.get(name)
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        try:
            return int(str(value).strip())
        except ValueError:
            return None

    def number(self, name: str, default: float) -> float:
        try:
            return float(self.values.get(name, default))
        except (TypeError, ValueError):
            return default

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in ("true", "1")

    def decoded(self, name: str, what: str | None = None) -> Any:
        """A JSON-serialized parameter, decoded; None when missing."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {what or name} JSON object") from None

    def upload(self, name: str) -> Upload | None:
        """The file sent for parameter `name`, either as its own part or via attach://."""
        if name in self.uploads:
            return self.uploads[name]
        value = self.values.get(name)
        if isinstance(value, str) and value.startswith(ATTACH):
            return self.uploads.get(value.removeprefix(ATTACH))
        return None

    def attached(self, reference: str) -> Upload | None:
        """The part an `attach://name` reference inside a JSON parameter points at."""
        return self.uploads.get(reference.removeprefix(ATTACH))


async def read_params(request: web.Request) -> Params:
    """Parameters from the query string and the body, whatever its content type."""
    values: dict[str, Any] = dict(request.query)
    uploads: dict[str, Upload] = {}
    content_type = request.content_type
    if content_type == "application/json":
        raw = await request.read()
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError:
                raise bad_request("can't parse JSON object") from None
            if not isinstance(body, dict):
                raise bad_request("JSON object expected")
            values.update(body)
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for name, value in form.items():
            if isinstance(value, web.FileField):
                uploads[name] = Upload(value.file.read(), value.filename, value.content_type)
            else:
                values[name] = value
    return Params(values, uploads)
