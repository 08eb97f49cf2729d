"""The engine outlives its database connections being cut (a PostgreSQL restart)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from content.domain.states import PublicationState
from tests.scheduler.conftest import World


async def test_a_postgresql_restart_mid_run_is_survived(world: World, database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the restart case is PostgreSQL's (SQLite has no server)")
    engine = world.engine()
    world.queue("before", ["tg1"])
    assert await engine.publish_due() == 1
    # What a restart does to a running process: every server connection it holds is cut.
    own = database_url.rsplit("application_name=", 1)[1]
    admin = create_engine(database_url.split("?")[0])
    with admin.begin() as connection:
        cut = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = :own"
            ),
            {"own": own},
        ).scalar_one()
    admin.dispose()
    assert cut >= 1
    world.queue("after", ["tg1"])
    assert await engine.publish_due() == 1
    assert {p.state for p in world.publications()} == {PublicationState.SENT}
