"""Telegram's `parse_mode=HTML`: the supported tags, the entities they make, and the errors.

Follows TDLib's `parse_html` (td/telegram/MessageEntity.cpp): the error texts and their UTF-8 byte
offsets are TDLib's, and the Bot API answers them as `Bad Request: can't parse entities: ...`.
Entity offsets and lengths count UTF-16 code units, as the Bot API documents.
"""

from __future__ import annotations

import html
import re
from typing import Any

_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
_SUPPORTED = {*_SIMPLE_TAGS, "a", "span", "tg-emoji"}
_ATTRIBUTE = re.compile(r"""\s*([A-Za-z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?""")
_CHAR_REF = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);")


class EntityParseError(ValueError):
    """The text is not valid Telegram HTML; the message is TDLib's."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Plain text and MessageEntity dicts of a Telegram-HTML string."""
    out: list[str] = []
    out_len = 0  # UTF-16 length of the text produced so far
    stack: list[tuple[str, int, dict[str, str], int]] = []
    opened: list[tuple[int, dict[str, Any]]] = []  # (opening order, entity)
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "&":
            match = _CHAR_REF.match(text, i)
            decoded = _decode_reference(match.group(0)) if match else None
            if match and decoded is not None:
                out.append(decoded)
                out_len += utf16_len(decoded)
                i = match.end()
                continue
        if ch != "<":
            out.append(ch)
            out_len += utf16_len(ch)
            i += 1
            continue
        offset = len(text[:i].encode())
        close = text.find(">", i)
        if text.startswith("</", i):
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {offset}")
            if close < 0:
                raise EntityParseError(f"Unclosed end tag at byte offset {offset}")
            end_name = text[i + 2 : close].strip().lower()
            name, start, attrs, order = stack.pop()
            if end_name and end_name != name:
                raise EntityParseError(
                    f'Unmatched end tag at byte offset {offset}, expected "</{name}>", '
                    f'found "</{end_name}>"'
                )
            entity = _entity(name, attrs, start, out_len - start)
            if entity is not None and entity["length"] > 0:
                opened.append((order, entity))
            i = close + 1
            continue
        name_match = re.match(r"[^\s>]*", text[i + 1 :])
        name = name_match.group(0).lower() if name_match else ""
        if close < 0:
            raise EntityParseError(f"Unclosed start tag at byte offset {offset}")
        if name not in _SUPPORTED:
            raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {offset}')
        attrs = _attributes(text[i + 1 + len(name) : close])
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise EntityParseError('Tag "span" must have class "tg-spoiler"')
        stack.append((name, out_len, attrs, i))
        i = close + 1
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    # Telegram orders entities by offset, longer first, and an outer one before an inner one.
    opened.sort(key=lambda item: (item[1]["offset"], -item[1]["length"], item[0]))
    return "".join(out), [entity for _, entity in opened]


def _decode_reference(ref: str) -> str | None:
    decoded = html.unescape(ref)
    return None if decoded == ref else decoded


def _attributes(raw: str) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for match in _ATTRIBUTE.finditer(raw.rstrip("/")):
        if match.group(1):
            value = next((g for g in match.groups()[1:] if g is not None), "")
            attrs[match.group(1).lower()] = html.unescape(value)
    return attrs


def _entity(name: str, attrs: dict[str, str], offset: int, length: int) -> dict[str, Any] | None:
    entity: dict[str, Any] = {"offset": offset, "length": length}
    if name == "a":
        href = attrs.get("href", "")
        if not href:
            return None  # TDLib keeps the text and drops a link without a target
        entity.update(type="text_link", url=href)
    elif name == "span":
        entity["type"] = "spoiler"
    elif name == "tg-emoji":
        entity.update(type="custom_emoji", custom_emoji_id=attrs.get("emoji-id", ""))
    elif name == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    else:
        entity["type"] = _SIMPLE_TAGS[name]
    if name == "pre" and "language" in attrs:
        entity["language"] = attrs["language"]
    return entity
