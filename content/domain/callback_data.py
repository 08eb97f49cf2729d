"""Typed button payloads (Telegram's callback data): a prefix and typed fields, packed within
the 64 bytes Telegram allows and read back only when every field is valid, as aiogram's
`filters/callback_data.py` does.

Payloads are frozen dataclasses:

    @dataclass(frozen=True)
    class QueuePage(CallbackData, prefix="q:page"):
        page: int

    QueuePage(2).pack() == "q:page:2";  QueuePage.unpack("q:page:2") == QueuePage(2)

Unlike aiogram's, a prefix may hold the separator, so the payloads of buttons already sent keep
their meaning. Fields are `int` (ASCII digits, 0 to 2**63 - 1), `bool` ("1"/"0"), `str` or a
`Literal` of strings; a payload may check more in `__post_init__` by raising ValueError.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Literal, Self, get_args, get_origin, get_type_hints

MAX_BYTES = 64  # Telegram refuses longer callback data
SEPARATOR = ":"
LARGEST_INT = 2**63 - 1  # the databases' BIGINT, and Telegram's ids


class InvalidCallbackData(ValueError):
    """Data no button of ours carries: forged, garbled, or from a button since changed."""


class CallbackData:
    """The base of every button payload; subclasses are frozen dataclasses with a prefix."""

    prefix: ClassVar[str]

    def __init_subclass__(cls, *, prefix: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not prefix or any(not part for part in prefix.split(SEPARATOR)):
            raise ValueError(f"{cls.__name__}: a prefix of empty parts: {prefix!r}")
        cls.prefix = prefix

    def pack(self) -> str:
        """The callback data of a button; ValueError if a value cannot be carried."""
        parts = [self.prefix]
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            kind = field_types(type(self))[field.name]
            parts.append(_encode(getattr(self, field.name), kind, field.name))
        data = SEPARATOR.join(parts)
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"{type(self).__name__}: {data!r} is over {MAX_BYTES} bytes")
        return data

    @classmethod
    def unpack(cls, data: str) -> Self:
        """The payload `data` carries; InvalidCallbackData unless it is exactly one of ours."""
        if len(data.encode()) > MAX_BYTES:
            raise InvalidCallbackData("over 64 bytes")
        head = cls.prefix + SEPARATOR
        if data != cls.prefix and not data.startswith(head):
            raise InvalidCallbackData(f"not a {cls.__name__}")
        values = data[len(head) :].split(SEPARATOR) if data != cls.prefix else []
        kinds = field_types(cls)
        if len(values) != len(kinds):
            raise InvalidCallbackData(f"{cls.__name__} takes {len(kinds)} value(s)")
        try:
            fields = {
                name: _decode(value, kind)
                for (name, kind), value in zip(kinds.items(), values, strict=True)
            }
            return cls(**fields)
        except (ValueError, TypeError) as err:
            raise InvalidCallbackData(str(err)) from None


_KINDS: dict[type, dict[str, Any]] = {}


def field_types(cls: type) -> dict[str, Any]:
    """Each field's type in a payload class, resolved once (annotations are strings until
    then)."""
    kinds = _KINDS.get(cls)
    if kinds is None:
        hints = get_type_hints(cls)
        kinds = {f.name: hints[f.name] for f in dataclasses.fields(cls)}
        for name, kind in kinds.items():
            if kind not in (int, bool, str) and get_origin(kind) is not Literal:
                raise TypeError(f"{cls.__name__}.{name}: a button cannot carry {kind}")
        _KINDS[cls] = kinds
    return kinds


def _encode(value: object, kind: Any, name: str) -> str:
    if kind is bool:
        return "1" if value else "0"
    if kind is int and not (isinstance(value, int) and 0 <= value <= LARGEST_INT):
        raise ValueError(f"{name}={value!r} cannot be carried in a button")
    text = str(value)
    if not text or SEPARATOR in text:
        raise ValueError(f"{name}={value!r} cannot be carried in a button")
    return text


def _decode(text: str, kind: Any) -> object:
    if kind is bool:
        if text not in ("0", "1"):
            raise ValueError(f"{text!r} is not 0 or 1")
        return text == "1"
    if kind is int:
        # ASCII digits only: str.isdigit and int() also take "１" or "٣", which no button of
        # ours carries; and nothing we number goes past a signed 64-bit integer.
        if not (text.isascii() and text.isdigit()) or int(text) > LARGEST_INT:
            raise ValueError(f"{text!r} is not a number a button carries")
        return int(text)
    if kind is str:
        if not text:
            raise ValueError("an empty value")
        return text
    if text not in get_args(kind):
        raise ValueError(f"{text!r} is not one of {get_args(kind)}")
    return text


@dataclasses.dataclass(frozen=True)
class RemindMe(CallbackData, prefix="remind"):
    """ "Remind me" under an event's post in a channel (made by the scheduler, pressed by
    followers in the bot)."""

    event_id: int


# "Remind me" pressed by someone the bot may not write to yet opens the bot with this start
# parameter (t.me/<bot>?start=remind-<id>); Telegram allows A-Z, a-z, 0-9, _ and - there.
REMIND_START = "remind-"


def remind_start(event_id: int) -> str:
    """The /start parameter that asks for a reminder of `event_id`."""
    return f"{REMIND_START}{event_id}"


def read_remind_start(parameter: str) -> int | None:
    """The event id of a `remind-<id>` start parameter; None if it is not one (or is forged)."""
    if not parameter.startswith(REMIND_START):
        return None
    digits = parameter[len(REMIND_START) :]
    if not digits or not (digits.isascii() and digits.isdigit()) or len(digits) > 19:
        return None
    value = int(digits)
    return value if value <= LARGEST_INT else None
