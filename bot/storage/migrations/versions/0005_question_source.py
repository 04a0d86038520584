"""question_log.source: how a card reached the user (search, clarify, related, browse, link), so
every card can carry 👍/👎.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("question_log") as batch:
        batch.add_column(sa.Column("source", sa.String(16), nullable=False, server_default="search"))
        batch.create_check_constraint(
            "ck_question_log_source", "source IN ('search', 'clarify', 'related', 'browse', 'link')"
        )
    with op.batch_alter_table("question_log") as batch:
        batch.alter_column("source", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("question_log") as batch:
        batch.drop_constraint("ck_question_log_source", type_="check")
        batch.drop_column("source")
