"""Engagement numbers and their rules: interactions, totals that know their unknowns, changes.

Plain values and pure functions; see the package docstring for the definitions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# Stored per snapshot, in the order reports list them.
STORED = ("reactions", "comments", "shares", "saves", "views", "reach")
INTERACTION_PARTS = ("reactions", "comments", "shares", "saves")
# What a total reports on: interactions first, then each stored metric.
METRICS = ("interactions", *STORED)


def interactions(
    reactions: int | None, comments: int | None, shares: int | None, saves: int | None
) -> int | None:
    """The known parts added up; None (n/a) when the platform gave none of them."""
    parts = [p for p in (reactions, comments, shares, saves) if p is not None]
    return sum(parts) if parts else None


@dataclass(frozen=True)
class Counts:
    """One publication's counts (its latest snapshot); None is unknown."""

    reactions: int | None = None
    comments: int | None = None
    shares: int | None = None
    saves: int | None = None
    views: int | None = None
    reach: int | None = None

    @property
    def interactions(self) -> int | None:
        return interactions(self.reactions, self.comments, self.shares, self.saves)

    @property
    def rate(self) -> float | None:
        """Engagement rate, when both reach (above zero) and interactions are known."""
        found = self.interactions
        if found is None or not self.reach:
            return None
        return found / self.reach

    def get(self, metric: str) -> int | None:
        value: int | None = getattr(self, metric)
        return value


@dataclass(frozen=True)
class Total:
    """A sum over publications that ignores unknowns and says how many were known."""

    value: int | None
    known: int

    @property
    def available(self) -> bool:
        return self.value is not None


NA = Total(None, 0)


@dataclass(frozen=True)
class Totals:
    """The totals of a set of publications; adding two gives the totals of both sets."""

    publications: int = 0
    values: Mapping[str, Total] = field(default_factory=dict)
    # Interactions and reach over the publications that count towards the engagement rate.
    rate_interactions: int = 0
    rate_reach: int = 0
    rate_publications: int = 0

    def __getitem__(self, metric: str) -> Total:
        return self.values.get(metric, NA)

    @property
    def rate(self) -> float | None:
        return self.rate_interactions / self.rate_reach if self.rate_reach else None

    def __add__(self, other: Totals) -> Totals:
        values = {}
        for metric in METRICS:
            mine, theirs = self[metric], other[metric]
            known = [t.value for t in (mine, theirs) if t.value is not None]
            values[metric] = Total(sum(known) if known else None, mine.known + theirs.known)
        return Totals(
            publications=self.publications + other.publications,
            values=values,
            rate_interactions=self.rate_interactions + other.rate_interactions,
            rate_reach=self.rate_reach + other.rate_reach,
            rate_publications=self.rate_publications + other.rate_publications,
        )


EMPTY = Totals()


def total_of(counts: Iterable[Counts]) -> Totals:
    """Totals of publications' counts, by the definitions (the reference the SQL must match)."""
    result = EMPTY
    for item in counts:
        counted = item.rate is not None
        result = result + Totals(
            publications=1,
            values={m: Total(v, 1) if (v := item.get(m)) is not None else NA for m in METRICS},
            rate_interactions=(item.interactions or 0) if counted else 0,
            rate_reach=(item.reach or 0) if counted else 0,
            rate_publications=int(counted),
        )
    return result


@dataclass(frozen=True)
class Change:
    """A number against the previous period's; n/a when either side is."""

    current: float | None
    previous: float | None

    @property
    def delta(self) -> float | None:
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous

    @property
    def ratio(self) -> float | None:
        """Relative change (0.25 for +25 %); n/a when the previous value is n/a or zero."""
        delta = self.delta
        if delta is None or not self.previous:
            return None
        return delta / self.previous


def changes(current: Totals, previous: Totals) -> dict[str, Change]:
    """Each metric, the publication count and the engagement rate against the previous period."""
    found = {m: Change(current[m].value, previous[m].value) for m in METRICS}
    found["publications"] = Change(current.publications, previous.publications)
    found["rate"] = Change(current.rate, previous.rate)
    return found
