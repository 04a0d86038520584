"""Initial schema: users, conversation state, question log, processed updates,
milestones, monthly figures and UMKM class history.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Written by hand from bot/storage/models.py; the value lists in the CHECK constraints are
frozen here on purpose (a new sector or figure kind needs its own migration).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _user_id(table: str) -> list[sa.SchemaItem]:
    return [
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=f"fk_{table}_user_id_users", ondelete="CASCADE"
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(64), nullable=False),
        sa.Column("locale", sa.String(8), nullable=False),
        _timestamp("consent_at", nullable=True),
        sa.Column("start_payload", sa.String(64), nullable=True),
        sa.Column("name", sa.String(128), nullable=True),
        sa.Column("sector", sa.String(16), nullable=True),
        sa.Column("district", sa.String(128), nullable=True),
        sa.Column("products", sa.Text(), nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("channel", "external_id", name="uq_users_channel_external_id"),
        sa.CheckConstraint("channel IN ('telegram', 'terminal')", name="ck_users_channel"),
        sa.CheckConstraint("locale IN ('id', 'en')", name="ck_users_locale"),
        sa.CheckConstraint(
            "sector IN ('food', 'craft', 'agri', 'trade', 'service', 'other')",
            name="ck_users_sector",
        ),
    )

    op.create_table(
        "conversation_states",
        *_user_id("conversation_states"),
        sa.Column("state", sa.String(64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("user_id", name="pk_conversation_states"),
    )

    op.create_table(
        "question_log",
        sa.Column("id", sa.Integer(), nullable=False),
        *_user_id("question_log"),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("normalized", sa.Text(), nullable=False),
        sa.Column("top_ids", sa.JSON(), nullable=False),
        sa.Column("top_scores", sa.JSON(), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("feedback", sa.String(8), nullable=True),
        _timestamp("feedback_at", nullable=True),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_question_log"),
        sa.CheckConstraint("feedback IN ('up', 'down')", name="ck_question_log_feedback"),
    )
    op.create_index("ix_question_log_user_id", "question_log", ["user_id"])
    op.create_index(
        "ix_question_log_answered_created_at", "question_log", ["answered", "created_at"]
    )

    op.create_table(
        "processed_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        _timestamp("processed_at"),
        sa.PrimaryKeyConstraint("update_id", name="pk_processed_updates"),
    )

    op.create_table(
        "milestone_progress",
        sa.Column("id", sa.Integer(), nullable=False),
        *_user_id("milestone_progress"),
        sa.Column("milestone_id", sa.String(64), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        _timestamp("changed_at"),
        sa.PrimaryKeyConstraint("id", name="pk_milestone_progress"),
        sa.UniqueConstraint(
            "user_id", "milestone_id", name="uq_milestone_progress_user_id_milestone_id"
        ),
    )

    op.create_table(
        "milestone_events",
        sa.Column("id", sa.Integer(), nullable=False),
        *_user_id("milestone_events"),
        sa.Column("milestone_id", sa.String(64), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        _timestamp("at"),
        sa.PrimaryKeyConstraint("id", name="pk_milestone_events"),
    )
    op.create_index("ix_milestone_events_user_id_at", "milestone_events", ["user_id", "at"])

    op.create_table(
        "figures",
        sa.Column("id", sa.Integer(), nullable=False),
        *_user_id("figures"),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        _timestamp("created_at"),
        _timestamp("superseded_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_figures"),
        sa.CheckConstraint(
            "kind IN ('omzet', 'modal', 'workers', 'units')", name="ck_figures_kind"
        ),
        sa.CheckConstraint("value >= 0", name="ck_figures_value_not_negative"),
    )
    op.create_index("ix_figures_user_id_kind_month", "figures", ["user_id", "kind", "month"])
    # One current (not superseded) value per user, kind and month.
    op.create_index(
        "uq_figures_current",
        "figures",
        ["user_id", "kind", "month"],
        unique=True,
        sqlite_where=sa.text("superseded_at IS NULL"),
        postgresql_where=sa.text("superseded_at IS NULL"),
    )

    op.create_table(
        "class_history",
        sa.Column("id", sa.Integer(), nullable=False),
        *_user_id("class_history"),
        sa.Column("umkm_class", sa.String(16), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        _timestamp("recorded_at"),
        sa.PrimaryKeyConstraint("id", name="pk_class_history"),
    )
    op.create_index("ix_class_history_user_id_as_of", "class_history", ["user_id", "as_of"])


def downgrade() -> None:
    # Children first; dropping a table drops its indexes too.
    for table in (
        "class_history",
        "figures",
        "milestone_events",
        "milestone_progress",
        "processed_updates",
        "question_log",
        "conversation_states",
        "users",
    ):
        op.drop_table(table)
