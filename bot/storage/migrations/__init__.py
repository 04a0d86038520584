"""Alembic migrations for bot.storage (a package so that wheels ship them)."""
