"""Storage: SQLAlchemy models, repositories, the Database and Alembic migrations.

Services run one unit of work per transaction::

    with db.transaction() as session:
        repos = Repositories(session)
        user, _ = repos.users.get_or_create("telegram", "42")
"""

from __future__ import annotations

from bot.storage.db import Database, is_retryable, make_engine, run_with_retry
from bot.storage.models import (
    CHANNELS,
    FEEDBACK_VALUES,
    FIGURE_KINDS,
    LOCALES,
    SECTORS,
    Base,
    ClassHistory,
    ConversationState,
    Figure,
    MilestoneEvent,
    MilestoneProgress,
    ProcessedUpdate,
    QuestionLog,
    User,
)
from bot.storage.repos import (
    PERSONAL_FIELDS,
    ClassHistoryRepository,
    ConsentRequiredError,
    FigureRepository,
    MilestoneRepository,
    QuestionLogRepository,
    Repositories,
    StateRepository,
    UpdateLogRepository,
    UserRepository,
)
from bot.storage.types import UTCDateTime, utcnow

__all__ = [
    "CHANNELS",
    "FEEDBACK_VALUES",
    "FIGURE_KINDS",
    "LOCALES",
    "PERSONAL_FIELDS",
    "SECTORS",
    "Base",
    "ClassHistory",
    "ClassHistoryRepository",
    "ConsentRequiredError",
    "ConversationState",
    "Database",
    "Figure",
    "FigureRepository",
    "MilestoneEvent",
    "MilestoneProgress",
    "MilestoneRepository",
    "ProcessedUpdate",
    "QuestionLog",
    "QuestionLogRepository",
    "Repositories",
    "StateRepository",
    "UTCDateTime",
    "UpdateLogRepository",
    "User",
    "UserRepository",
    "is_retryable",
    "make_engine",
    "run_with_retry",
    "utcnow",
]
