"""Coaching and delivery: institutions, coaches, invites, cohorts, memberships, hand-off threads,
knowledge drafts, the outbox, leases; users.last_active_at.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30

Written by hand from bot/storage/coaching_models.py and delivery_models.py; the value lists in
the CHECK constraints are frozen here on purpose.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete=ondelete)


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(_timestamp("last_active_at", nullable=True))

    op.create_table(
        "institutions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(160), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("district", sa.String(128), nullable=True),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_institutions"),
        sa.CheckConstraint("kind IN ('government', 'ngo', 'company', 'cooperative')", name="ck_institutions_kind"),
    )

    op.create_table(
        "coaches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_coaches"),
        _fk("coaches", "user_id", "users", "CASCADE"),
        _fk("coaches", "institution_id", "institutions", "RESTRICT"),
        sa.UniqueConstraint("user_id", name="uq_coaches_user_id"),
    )
    op.create_index("ix_coaches_institution_id", "coaches", ["institution_id"])

    op.create_table(
        "coach_invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        _timestamp("expires_at"),
        _timestamp("used_at", nullable=True),
        sa.Column("used_by_user_id", sa.Integer(), nullable=True),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_coach_invites"),
        _fk("coach_invites", "institution_id", "institutions", "CASCADE"),
        sa.ForeignKeyConstraint(
            ["used_by_user_id"],
            ["users.id"],
            name="fk_coach_invites_used_by_user_id_users",
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("code_hash", name="uq_coach_invites_code_hash"),
    )

    op.create_table(
        "cohorts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coach_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("district", sa.String(128), nullable=True),
        sa.Column("timezone", sa.String(32), nullable=False),
        sa.Column("join_code", sa.String(32), nullable=False),
        _timestamp("created_at"),
        _timestamp("archived_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_cohorts"),
        _fk("cohorts", "coach_id", "coaches", "RESTRICT"),
        sa.UniqueConstraint("join_code", name="uq_cohorts_join_code"),
        sa.CheckConstraint(
            "kind IN ('sentra', 'kub', 'koperasi', 'kemitraan', 'pelatihan', 'lainnya')",
            name="ck_cohorts_kind",
        ),
        sa.CheckConstraint(
            "timezone IN ('Asia/Jakarta', 'Asia/Makassar', 'Asia/Jayapura')", name="ck_cohorts_timezone"
        ),
    )
    op.create_index("ix_cohorts_coach_id", "cohorts", ["coach_id"])

    op.create_table(
        "memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _timestamp("joined_at"),
        _timestamp("left_at", nullable=True),
        sa.Column("class_at_join", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_memberships"),
        _fk("memberships", "cohort_id", "cohorts", "CASCADE"),
        _fk("memberships", "user_id", "users", "CASCADE"),
        sa.UniqueConstraint("cohort_id", "user_id", name="uq_memberships_cohort_id_user_id"),
    )
    op.create_index("ix_memberships_user_id_left_at", "memberships", ["user_id", "left_at"])

    op.create_table(
        "handoff_threads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("coach_id", sa.Integer(), nullable=True),
        sa.Column("cohort_id", sa.Integer(), nullable=True),
        sa.Column("question_log_id", sa.Integer(), nullable=True),
        sa.Column("entry_id", sa.String(96), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        _timestamp("answered_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_handoff_threads"),
        _fk("handoff_threads", "user_id", "users", "CASCADE"),
        _fk("handoff_threads", "coach_id", "coaches", "SET NULL"),
        _fk("handoff_threads", "cohort_id", "cohorts", "SET NULL"),
        _fk("handoff_threads", "question_log_id", "question_log", "SET NULL"),
        sa.CheckConstraint("status IN ('open', 'answered', 'closed')", name="ck_handoff_threads_status"),
    )
    op.create_index("ix_handoff_threads_user_id", "handoff_threads", ["user_id"])
    op.create_index(
        "ix_handoff_threads_coach_id_status_created_at",
        "handoff_threads",
        ["coach_id", "status", "created_at"],
    )

    op.create_table(
        "handoff_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_handoff_messages"),
        _fk("handoff_messages", "thread_id", "handoff_threads", "CASCADE"),
        sa.CheckConstraint("author IN ('member', 'coach')", name="ck_handoff_messages_author"),
    )
    op.create_index("ix_handoff_messages_thread_id", "handoff_messages", ["thread_id"])

    op.create_table(
        "knowledge_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("coach_id", sa.Integer(), nullable=True),
        sa.Column("thread_id", sa.Integer(), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("entry_id", sa.String(96), nullable=True),
        _timestamp("created_at"),
        _timestamp("exported_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_knowledge_drafts"),
        _fk("knowledge_drafts", "user_id", "users", "CASCADE"),
        _fk("knowledge_drafts", "coach_id", "coaches", "SET NULL"),
        _fk("knowledge_drafts", "thread_id", "handoff_threads", "SET NULL"),
    )

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("about_user_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("subject_type", sa.String(32), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("dedupe_key", sa.String(191), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _timestamp("next_attempt_at"),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        _timestamp("claimed_until", nullable=True),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.Column("sent_message_id", sa.BigInteger(), nullable=True),
        _timestamp("created_at"),
        _timestamp("sent_at", nullable=True),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        _fk("outbox", "user_id", "users", "CASCADE"),
        sa.ForeignKeyConstraint(
            ["about_user_id"], ["users.id"], name="fk_outbox_about_user_id_users", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("dedupe_key", name="uq_outbox_dedupe_key"),
        sa.CheckConstraint(
            "state IN ('pending', 'sending', 'sent', 'blocked', 'failed', 'uncertain')",
            name="ck_outbox_state",
        ),
    )
    op.create_index("ix_outbox_state_next_attempt_at", "outbox", ["state", "next_attempt_at"])
    op.create_index("ix_outbox_channel_chat_id_sent_at", "outbox", ["channel", "chat_id", "sent_at"])
    op.create_index("ix_outbox_subject_type_subject_id", "outbox", ["subject_type", "subject_id"])
    op.create_index("ix_outbox_user_id_sent_message_id", "outbox", ["user_id", "sent_message_id"])

    op.create_table(
        "leases",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("holder", sa.String(128), nullable=False),
        _timestamp("expires_at"),
        _timestamp("acquired_at"),
        sa.PrimaryKeyConstraint("name", name="pk_leases"),
    )


def downgrade() -> None:
    for table in (
        "leases",
        "outbox",
        "knowledge_drafts",
        "handoff_messages",
        "handoff_threads",
        "memberships",
        "cohorts",
        "coach_invites",
        "coaches",
        "institutions",
    ):
        op.drop_table(table)
    with op.batch_alter_table("users") as batch:
        batch.drop_column("last_active_at")
