"""Schema migrations, driven from code: no alembic.ini is needed, so a wheel can upgrade."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.pool import NullPool

from bot.storage.db import make_engine

__all__ = [
    "MIGRATIONS_DIR",
    "MigrationError",
    "alembic_config",
    "current",
    "downgrade",
    "head",
    "revision",
    "upgrade",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_ADVISORY_LOCK_ID = 0x554D4B4D  # "UMKM": any constant shared by all processes


class MigrationError(RuntimeError):
    """A migration left the database inconsistent (it was rolled back)."""


def alembic_config() -> Config:
    """An Alembic config pointing at the migrations shipped inside this package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    return config


@contextmanager
def _migrating(url: str) -> Iterator[Config]:
    """A config bound to one connection in one transaction: all steps land, or none."""
    # SQLite: foreign keys off while migrating. Batch mode rebuilds a table by copy,
    # drop and rename; with enforcement on, the DROP would cascade-delete child rows.
    engine = make_engine(url, sqlite_foreign_keys=False, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            _lock(connection)
            config = alembic_config()
            config.attributes["connection"] = connection
            yield config
            _check_foreign_keys(connection)
    finally:
        engine.dispose()


def _lock(connection: Connection) -> None:
    # Several processes may upgrade at start-up: the first migrates, the others wait
    # and then find the database at head. (SQLite: BEGIN IMMEDIATE already serialises.)
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_ADVISORY_LOCK_ID})")


def _check_foreign_keys(connection: Connection) -> None:
    # What enforcement would have caught during the migration, checked once at the end.
    if connection.dialect.name != "sqlite":
        return
    problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if problems:
        raise MigrationError(f"foreign key violations after migration: {problems[:5]}")


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` up to `revision`."""
    with _migrating(url) as config:
        command.upgrade(config, revision)


def downgrade(url: str, revision: str) -> None:
    """Migrate the database at `url` down to `revision` ("-1" for one step, "base")."""
    with _migrating(url) as config:
        command.downgrade(config, revision)


def current(url: str) -> str | None:
    """The revision the database is at, or None if it was never migrated."""
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head() -> str | None:
    """The newest revision shipped with the code."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def revision(url: str, message: str, *, autogenerate: bool = True) -> None:
    """Write a new revision file (developers only), compared against the database at `url`.

    Review the generated file by hand before committing it.
    """
    with _migrating(url) as config:
        command.revision(config, message=message, autogenerate=autogenerate)
