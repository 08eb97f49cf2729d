"""Fuzzing (issue 20): Hypothesis targets for everything that reads what people and platforms
send. `make test` runs a small slice of each; `make fuzz` (AFISHA_FUZZ=1) the full budgets.

A target fails on a crash (an exception outside the AfishaError tree) and on a write to the
database by an input that was refused. Every target counts the inputs it ran (`ran`), and the
session prints the total.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

FULL = os.environ.get("AFISHA_FUZZ") == "1"
SCALE = float(os.environ.get("AFISHA_FUZZ_SCALE", "1"))  # to try a fraction of the budgets
COUNTS: Counter[str] = Counter()
# Under `make fuzz` the cheap targets take their inputs in batches: Hypothesis spends far more on
# starting an example than on drawing one more value, so a batch reaches a million inputs in
# minutes. A failing batch still shrinks to the simplest input that fails.
BATCH = 50
T = TypeVar("T")


def batch(values: st.SearchStrategy[T], size: int = BATCH) -> st.SearchStrategy[list[T]]:
    """`size` values at a time under `make fuzz`, one to three in the suite."""
    if FULL:
        return st.lists(values, min_size=size, max_size=size)
    return st.lists(values, min_size=1, max_size=3)


def ran(target: str) -> None:
    """One more generated input through `target`."""
    COUNTS[target] += 1


def budget(full: int, small: int = 25) -> settings:
    """`full` examples under `make fuzz` (each a batch, for the targets that take one), `small`
    in the suite."""
    return settings(
        max_examples=max(1, int(full * SCALE)) if FULL else small,
        deadline=None,  # a loaded machine is slow now and then; crashes are what count
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )
