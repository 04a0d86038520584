"""A throw-away PostgreSQL schema for a benchmark run, so that nothing of it stays in the database."""

from __future__ import annotations

import uuid

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url


def create_schema(pg_url: str, prefix: str = "bench") -> tuple[URL, str]:
    """A new empty schema: (the URL whose connections see only it, its name)."""
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    _execute(pg_url, f'CREATE SCHEMA "{schema}"')
    return make_url(pg_url).update_query_dict({"options": f"-csearch_path={schema}"}), schema


def drop_schema(pg_url: str, schema: str) -> None:
    """Remove the schema and everything in it."""
    _execute(pg_url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _execute(pg_url: str, statement: str) -> None:
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(statement))
    finally:
        admin.dispose()
