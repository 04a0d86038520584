"""Migrations: up from empty, down and back up, and agreement with the models."""

from __future__ import annotations

import threading
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.pool import NullPool

from bot.storage import Base, Database, make_engine
from bot.storage.migrate import alembic_config, current, downgrade, head, upgrade

MODEL_TABLES = set(Base.metadata.tables)


def _tables(url: str) -> set[str]:
    engine = make_engine(url, poolclass=NullPool)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_from_empty_creates_every_table(database_url: str) -> None:
    assert current(database_url) is None
    upgrade(database_url)
    assert current(database_url) == head()
    assert _tables(database_url) == MODEL_TABLES | {"alembic_version"}


def test_upgrade_twice_is_a_no_op(database_url: str) -> None:
    upgrade(database_url)
    upgrade(database_url)
    assert current(database_url) == head()


def test_version_table_lives_with_the_schema(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                # The per-test schema, not public: tests stay isolated from each other.
                where = connection.execute(
                    text(
                        "SELECT table_schema FROM information_schema.tables"
                        " WHERE table_name = 'alembic_version'"
                        " AND table_schema = current_schema()"
                    )
                ).scalar_one()
                assert where.startswith("t_")
            version = connection.execute(text("SELECT version_num FROM alembic_version"))
            assert version.scalar_one() == head()
    finally:
        engine.dispose()


def test_downgrade_one_step_and_back_up(database_url: str) -> None:
    upgrade(database_url)
    previous = ScriptDirectory.from_config(alembic_config()).get_revision(head()).down_revision
    downgrade(database_url, "-1")
    assert current(database_url) == previous
    if previous is None:
        assert _tables(database_url) <= {"alembic_version"}
    upgrade(database_url)
    assert current(database_url) == head()
    assert _tables(database_url) == MODEL_TABLES | {"alembic_version"}


def test_every_revision_downgrades_to_base_and_up_again(database_url: str) -> None:
    upgrade(database_url)
    revisions = list(ScriptDirectory.from_config(alembic_config()).walk_revisions())
    for script in revisions:  # newest first
        assert current(database_url) == script.revision
        downgrade(database_url, "-1")
    assert current(database_url) is None
    assert _tables(database_url) <= {"alembic_version"}
    upgrade(database_url)
    assert current(database_url) == head()


def test_models_match_migrated_schema(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_engine_settings(database: Database) -> None:
    with database.engine.connect() as connection:
        if database.dialect == "sqlite":
            # The fixture's file sits in a folder that did not exist before.
            assert Path(database.engine.url.database or "").is_file()
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar_one() == "wal"
            assert pragma("PRAGMA foreign_keys").scalar_one() == 1
            assert pragma("PRAGMA busy_timeout").scalar_one() > 0
        else:
            assert database.engine.pool._pre_ping


def test_concurrent_upgrades_migrate_once(database_url: str) -> None:
    """Two processes starting at once both upgrade; one migrates, the other waits."""
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait(timeout=10)
            upgrade(database_url)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert current(database_url) == head()
