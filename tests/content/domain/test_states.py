"""The state machine allows exactly the documented moves."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from content.domain.states import (
    ChannelStatus,
    EventStatus,
    PostStatus,
    PublicationState,
    allowed_targets,
    transition,
)
from content.errors import IllegalTransition

P = PublicationState
ENUMS = [PublicationState, PostStatus, ChannelStatus, EventStatus]


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (P.SCHEDULED, P.SENDING),
        (P.SENDING, P.SENT),
        (P.SENDING, P.UNCONFIRMED),
        (P.SENDING, P.RETRY_WAIT),
        (P.RETRY_WAIT, P.SENDING),
        (P.UNCONFIRMED, P.SENT),
        (P.PAUSED, P.SCHEDULED),
        (P.MISSED, P.SCHEDULED),
    ],
)
def test_documented_publication_moves_are_allowed(
    current: PublicationState, target: PublicationState
) -> None:
    assert transition(current, target) is target


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (P.SENT, P.SENDING),  # a sent publication is never sent again
        (P.UNCONFIRMED, P.SENDING),  # an unknown outcome is never re-sent by itself
        (P.SCHEDULED, P.SENT),  # no outcome without an attempt
        (P.CANCELLED, P.SCHEDULED),
    ],
)
def test_dangerous_publication_moves_are_refused(
    current: PublicationState, target: PublicationState
) -> None:
    with pytest.raises(IllegalTransition, match=f"from {current} to {target}"):
        transition(current, target)


@given(st.sampled_from(ENUMS).flatmap(lambda e: st.tuples(st.sampled_from(e), st.sampled_from(e))))
def test_transition_agrees_with_allowed_targets(pair: tuple) -> None:  # type: ignore[type-arg]
    current, target = pair
    if target in allowed_targets(current):
        assert transition(current, target) is target
    else:
        with pytest.raises(IllegalTransition):
            transition(current, target)


def test_states_of_different_kinds_never_mix() -> None:
    with pytest.raises(IllegalTransition):
        transition(PostStatus.DRAFT, PublicationState.SCHEDULED)  # type: ignore[type-var]


def test_terminal_states_have_no_way_out() -> None:
    assert allowed_targets(P.SENT) == frozenset()
    assert allowed_targets(P.CANCELLED) == frozenset()
    assert allowed_targets(PostStatus.DONE) == frozenset()
