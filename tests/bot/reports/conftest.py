"""The seeded month the analytics tests use, for the files made from it."""

from tests.content.analytics.conftest import seeded

__all__ = ["seeded"]
