"""Snapshot of every row in a database, to prove that a refused command wrote nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData, create_engine, select


def dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_engine(url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.connect() as connection:
            return {
                name: sorted((tuple(row) for row in connection.execute(select(table))), key=repr)
                for name, table in sorted(metadata.tables.items())
            }
    finally:
        engine.dispose()
