"""Dashboard sign-in: one-time login links and sessions (hashes only).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _user(table: str) -> list[sa.SchemaItem]:
    return [
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=f"fk_{table}_user_id_users", ondelete="CASCADE"),
    ]


def upgrade() -> None:
    op.create_table(
        "web_logins",
        sa.Column("id", sa.Integer(), nullable=False),
        *_user("web_logins"),
        sa.Column("code_hash", sa.String(64), nullable=False),
        _timestamp("expires_at"),
        _timestamp("used_at", nullable=True),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_web_logins"),
        sa.UniqueConstraint("code_hash", name="uq_web_logins_code_hash"),
    )
    op.create_index("ix_web_logins_user_id", "web_logins", ["user_id"])
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        *_user("web_sessions"),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        _timestamp("expires_at"),
        _timestamp("revoked_at", nullable=True),
        _timestamp("created_at"),
        _timestamp("last_seen_at"),
        sa.PrimaryKeyConstraint("id", name="pk_web_sessions"),
        sa.UniqueConstraint("token_hash", name="uq_web_sessions_token_hash"),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])


def downgrade() -> None:
    op.drop_table("web_sessions")
    op.drop_table("web_logins")
