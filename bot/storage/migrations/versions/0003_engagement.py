"""Engagement: reminders and occurrences, events with RSVPs, broadcasts; weekly check-in settings
on cohorts; users.checkins_off and users.blocked_at.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30

Written by hand from bot/storage/engagement_models.py; CHECK value lists frozen on purpose.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AUDIENCE = "audience IN ('cohort', 'missing_milestone', 'no_figures', 'person')"
_TIMEZONE = "timezone IN ('Asia/Jakarta', 'Asia/Makassar', 'Asia/Jayapura')"


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete=ondelete
    )


def _audience(table: str) -> list[sa.SchemaItem]:
    return [
        sa.Column("audience", sa.String(24), nullable=False),
        sa.Column("audience_milestone", sa.String(64), nullable=True),
        sa.Column("audience_user_id", sa.Integer(), nullable=True),
        _fk(table, "audience_user_id", "users", "CASCADE"),
        sa.CheckConstraint(_AUDIENCE, name=f"ck_{table}_audience"),
    ]


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("checkins_off", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(_timestamp("blocked_at", nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.alter_column("checkins_off", server_default=None)
    with op.batch_alter_table("cohorts") as batch:
        batch.add_column(sa.Column("checkin_weekday", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("checkin_time", sa.String(5), nullable=True))
        batch.add_column(_timestamp("next_checkin_at", nullable=True))
        batch.create_index("ix_cohorts_next_checkin_at", ["next_checkin_at"])

    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("coach_id", sa.Integer(), nullable=True),
        *_audience("reminders"),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("start_local", sa.String(19), nullable=False),
        sa.Column("timezone", sa.String(32), nullable=False),
        sa.Column("rrule", sa.String(255), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        _timestamp("next_at", nullable=True),
        _timestamp("last_at", nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_reminders"),
        _fk("reminders", "cohort_id", "cohorts", "CASCADE"),
        _fk("reminders", "coach_id", "coaches", "SET NULL"),
        sa.CheckConstraint(
            "status IN ('active', 'paused', 'cancelled', 'done')", name="ck_reminders_status"
        ),
        sa.CheckConstraint(_TIMEZONE, name="ck_reminders_timezone"),
    )
    op.create_index("ix_reminders_cohort_id", "reminders", ["cohort_id"])
    op.create_index("ix_reminders_status_next_at", "reminders", ["status", "next_at"])

    op.create_table(
        "reminder_occurrences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reminder_id", sa.Integer(), nullable=False),
        _timestamp("occurs_at"),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_reminder_occurrences"),
        _fk("reminder_occurrences", "reminder_id", "reminders", "CASCADE"),
        sa.UniqueConstraint(
            "reminder_id", "occurs_at", name="uq_reminder_occurrences_reminder_id_occurs_at"
        ),
        sa.CheckConstraint("state IN ('queued', 'missed')", name="ck_reminder_occurrences_state"),
    )

    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("coach_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(160), nullable=False),
        _timestamp("starts_at"),
        _timestamp("ends_at"),
        sa.Column("timezone", sa.String(32), nullable=False),
        sa.Column("place", sa.String(255), nullable=True),
        sa.Column("online_link", sa.String(500), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("quota", sa.Integer(), nullable=True),
        _timestamp("rsvp_closes_at"),
        *_audience("events"),
        sa.Column("status", sa.String(16), nullable=False),
        _timestamp("next_notice_at", nullable=True),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        _fk("events", "cohort_id", "cohorts", "CASCADE"),
        _fk("events", "coach_id", "coaches", "SET NULL"),
        sa.CheckConstraint("status IN ('open', 'cancelled')", name="ck_events_status"),
        sa.CheckConstraint(_TIMEZONE, name="ck_events_timezone"),
    )
    op.create_index("ix_events_cohort_id", "events", ["cohort_id"])
    op.create_index("ix_events_status_next_notice_at", "events", ["status", "next_notice_at"])

    op.create_table(
        "rsvps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("answer", sa.String(8), nullable=True),
        _timestamp("waitlisted_at", nullable=True),
        _timestamp("answered_at", nullable=True),
        sa.Column("attended", sa.Boolean(), nullable=True),
        _timestamp("attendance_at", nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        _timestamp("rated_at", nullable=True),
        _timestamp("invited_at"),
        sa.PrimaryKeyConstraint("id", name="pk_rsvps"),
        _fk("rsvps", "event_id", "events", "CASCADE"),
        _fk("rsvps", "user_id", "users", "CASCADE"),
        sa.UniqueConstraint("event_id", "user_id", name="uq_rsvps_event_id_user_id"),
        sa.CheckConstraint("answer IN ('yes', 'no', 'maybe')", name="ck_rsvps_answer"),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="ck_rsvps_rating"),
    )
    op.create_index("ix_rsvps_user_id", "rsvps", ["user_id"])

    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=True),
        sa.Column("institution_id", sa.Integer(), nullable=True),
        sa.Column("coach_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        *_audience("broadcasts"),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("skipped_blocked", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_broadcasts"),
        _fk("broadcasts", "cohort_id", "cohorts", "CASCADE"),
        _fk("broadcasts", "institution_id", "institutions", "CASCADE"),
        _fk("broadcasts", "coach_id", "coaches", "SET NULL"),
    )


def downgrade() -> None:
    for table in ("broadcasts", "rsvps", "events", "reminder_occurrences", "reminders"):
        op.drop_table(table)
    with op.batch_alter_table("cohorts") as batch:
        batch.drop_index("ix_cohorts_next_checkin_at")
        batch.drop_column("next_checkin_at")
        batch.drop_column("checkin_time")
        batch.drop_column("checkin_weekday")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("blocked_at")
        batch.drop_column("checkins_off")
