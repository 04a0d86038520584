"""The engine, one-transaction-per-unit-of-work sessions, and retrying a unit of work."""

from __future__ import annotations

import logging
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["Database", "is_retryable", "make_engine", "run_with_retry"]

log = logging.getLogger(__name__)

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 5000

# PostgreSQL SQLSTATEs worth retrying: serialization_failure, deadlock_detected, and the
# connection classes (admin shutdown or a killed backend, a connection that broke mid-way):
# the whole unit of work was rolled back, so running it again on a fresh connection is safe.
_RETRY_SQLSTATES = frozenset({"40001", "40P01", "57P01", "57P02", "57P03", "08000", "08003", "08006"})
# SQLite reports lock contention (after busy_timeout ran out) only in the message.
_RETRY_SQLITE_MESSAGES = ("database is locked", "database is busy", "deadlock")


def _sqlite_file(url: URL) -> Path | None:
    """The database file of a SQLite URL, or None for an in-memory database."""
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def make_engine(
    url: str | URL,
    *,
    sqlite_foreign_keys: bool = True,
    sqlite_busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS,
    **kwargs: Any,
) -> Engine:
    """An engine set up for this project; `sqlite_foreign_keys=False` is for migrations.
    `sqlite_busy_timeout_ms` is how long a SQLite writer waits for another one's lock before
    "database is locked" (which `run_with_retry` then retries a few times)."""
    url = make_url(url)
    # A database error's message would otherwise quote the statement's values (names, figures,
    # question texts), and the error handler logs it: personal data must not reach the logs.
    kwargs.setdefault("hide_parameters", True)
    if url.get_backend_name() == "sqlite":
        path = _sqlite_file(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine, foreign_keys=sqlite_foreign_keys, busy_timeout_ms=sqlite_busy_timeout_ms)
        return engine
    if url.get_backend_name() == "postgresql":
        # A connection dropped by a server restart or a proxy is replaced, not handed out.
        kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine, *, foreign_keys: bool, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module (Python 3.11 has no
        # `autocommit` attribute): its legacy mode does not BEGIN before SELECT or
        # SAVEPOINT, which breaks savepoints and one-transaction-per-unit-of-work.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
            _enable_wal(cursor, busy_timeout_ms)
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front, so concurrent writers queue on
        # busy_timeout. A deferred BEGIN would fail at once with SQLITE_BUSY when a
        # transaction that has read tries to write after another writer committed.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _enable_wal(cursor: Any, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> None:
    """Switch the file to WAL, which lets readers run while one writer writes.

    The mode is stored in the file, so this only changes something once. The switch
    needs an exclusive lock and SQLite reports "database is locked" at once (without
    waiting on busy_timeout) while another connection, e.g. a second process starting
    up, holds one; so wait here.
    """
    deadline = time.monotonic() + busy_timeout_ms / 1000
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                # Answers "memory" for an in-memory database, which cannot use WAL.
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(0.01)


class Database:
    """An engine plus a session factory; `transaction()` is one unit of work."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        # Objects stay readable after commit, so a service can return what it stored.
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite lets one transaction at a time write (BEGIN IMMEDIATE); a connection that waits for
        # it polls with sleeps of up to 100 ms, so under load the lock sits idle while waiters sleep
        # (p99 of seconds with 10 users). This process's transactions queue on a lock instead, and
        # the next starts as soon as the last one ends; other processes still wait on busy_timeout.
        self._sqlite_lock = threading.RLock() if self.engine.dialect.name == "sqlite" else None
        self._sqlite_wait = engine_kwargs.get("sqlite_busy_timeout_ms", SQLITE_BUSY_TIMEOUT_MS) / 1000

    @property
    def dialect(self) -> str:
        """The backend name: "sqlite" or "postgresql"."""
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on exception."""
        lock = self._sqlite_lock
        # Waiting longer than busy_timeout goes on to SQLite, which then says "database is locked".
        locked = lock is not None and lock.acquire(timeout=self._sqlite_wait)
        try:
            with self._sessions.begin() as session:
                yield session
        finally:
            if locked:
                lock.release()  # type: ignore[union-attr]

    def dispose(self) -> None:
        """Close all pooled connections."""
        self.engine.dispose()


def is_retryable(exc: BaseException) -> bool:
    """True for errors a fresh attempt of the same unit of work can get past."""
    if isinstance(exc, IntegrityError):
        # A concurrent insert of the same key: the next attempt sees the winner's row.
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if getattr(exc.orig, "sqlstate", None) in _RETRY_SQLSTATES:
        return True
    if exc.connection_invalidated:  # the connection died (pg_terminate_backend, network): retry on a new one
        return True
    message = str(exc.orig).lower()
    return isinstance(exc, OperationalError) and any(m in message for m in _RETRY_SQLITE_MESSAGES)


def run_with_retry(fn: Callable[[], T], attempts: int = 4, *, backoff: float = 0.05) -> T:
    """Run a unit of work (a callable that opens its own transaction), retrying conflicts.

    Two updates from one user can race (a double tap); the loser's transaction fails
    with a unique violation, deadlock or serialization failure and is simply run again.
    Other errors, and the last failed attempt, propagate.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except DBAPIError as exc:
            if attempt == attempts or not is_retryable(exc):
                raise
            log.info("retrying unit of work after %s (attempt %d)", type(exc).__name__, attempt)
            # Jitter so that two retrying workers do not collide again in lockstep.
            time.sleep(backoff * attempt * (0.5 + random.random()))
    raise AssertionError("unreachable")
