"""Typed button payloads: what packs, what reads back, and what is refused."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from content.domain.callback_data import MAX_BYTES, CallbackData, InvalidCallbackData, RemindMe


@dataclass(frozen=True)
class Change(CallbackData, prefix="t:change"):
    action: Literal["now", "later"]
    post_id: int
    notify: bool


@dataclass(frozen=True)
class Named(CallbackData, prefix="t:named"):
    name: str


@dataclass(frozen=True)
class Bare(CallbackData, prefix="t:bare"):
    pass


def test_a_payload_packs_to_its_prefix_and_fields() -> None:
    assert Change("now", 12, True).pack() == "t:change:now:12:1"
    assert Bare().pack() == "t:bare"
    assert RemindMe(7).pack() == "remind:7"


@given(
    action=st.sampled_from(["now", "later"]),
    post_id=st.integers(min_value=0, max_value=2**63 - 1),
    notify=st.booleans(),
)
def test_what_is_packed_reads_back_the_same(action: str, post_id: int, notify: bool) -> None:
    payload = Change(action, post_id, notify)  # type: ignore[arg-type]
    assert Change.unpack(payload.pack()) == payload


@pytest.mark.parametrize(
    "data",
    [
        "t:change:soon:12:1",  # not one of the actions
        "t:change:now:12",  # a value missing
        "t:change:now:12:1:9",  # one too many
        "t:change:now:x:1",  # not a number
        "t:change:now:-3:1",  # not a number we make
        f"t:change:now:{2**63}:1",  # past a signed 64-bit integer
        f"t:change:now:{2**64 + 12}:1",
        "t:change:now:\uff11\uff12:1",  # full-width digits
        "t:change:now:\u0661\u0662:1",  # Arabic-Indic digits
        "t:change:now:\u06f1\u06f2:1",  # Persian digits
        "t:change:now:\u00b2:1",  # a superscript two (str.isdigit says yes)
        "t:change:now:12:yes",  # not 0 or 1
        "t:changes:now:12:1",  # another prefix
        "t:change",
        "",
    ],
)
def test_data_that_is_not_exactly_a_payload_is_refused(data: str) -> None:
    with pytest.raises(InvalidCallbackData):
        Change.unpack(data)


def test_a_bare_payload_takes_no_values() -> None:
    assert Bare.unpack("t:bare") == Bare()
    with pytest.raises(InvalidCallbackData):
        Bare.unpack("t:bare:1")


def test_a_value_that_cannot_be_carried_is_refused_when_packing() -> None:
    with pytest.raises(ValueError, match="cannot be carried"):
        Named("a:b").pack()
    with pytest.raises(ValueError, match="cannot be carried"):
        Named("").pack()
    with pytest.raises(ValueError, match="cannot be carried"):
        Change("now", 2**63, False).pack()
    with pytest.raises(ValueError, match="cannot be carried"):
        Change("now", -1, False).pack()
    with pytest.raises(ValueError, match=f"over {MAX_BYTES} bytes"):
        Named("ы" * 30).pack()  # 60 bytes of value, 68 with the prefix
    with pytest.raises(InvalidCallbackData):
        Named.unpack("t:named:" + "x" * 60)


def test_a_prefix_needs_every_part() -> None:
    with pytest.raises(ValueError, match="empty parts"):

        class Broken(CallbackData, prefix="a::b"):
            pass
