"""The state machine allows exactly the documented moves."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from content.domain.states import (
    ChannelStatus,
    EventStatus,
    PostStatus,
    PublicationState,
    allowed_targets,
    move_publication,
    publication_moves,
    transition,
)
from content.errors import IllegalTransition
from content.storage.models import Publication

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


@given(st.sampled_from(list(P)), st.sampled_from(list(P)))
def test_a_publication_moves_only_legally_and_leaves_no_claim_behind(
    current: PublicationState, target: PublicationState
) -> None:
    publication = Publication(state=current, claimed_by="w1", lease_until=datetime.now(UTC))
    if target not in allowed_targets(current):
        with pytest.raises(IllegalTransition):
            move_publication(publication, target)
        assert (publication.state, publication.claimed_by) == (current, "w1")
        return
    move_publication(publication, target)
    assert publication.state is target
    held = target is P.SENDING  # the engine's begin keeps its worker's claim
    assert (publication.claimed_by is not None) is held
    assert (publication.lease_until is not None) is held


def test_a_core_move_is_checked_from_every_source_and_releases_the_claim() -> None:
    assert publication_moves([P.SENDING], P.SENT) == {
        "state": P.SENT,
        "claimed_by": None,
        "lease_until": None,
    }
    assert publication_moves([P.SCHEDULED, P.RETRY_WAIT], P.SENDING) == {"state": P.SENDING}
    with pytest.raises(IllegalTransition):
        publication_moves([P.SCHEDULED, P.SENT], P.SENDING)
