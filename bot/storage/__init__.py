"""Storage: SQLAlchemy models, repositories, the Database and Alembic migrations.

Services run one unit of work per transaction::

    with db.transaction() as session:
        repos = Repositories(session)
        user, _ = repos.users.get_or_create("telegram", "42")
"""

from __future__ import annotations

from bot.storage.coaching_models import (
    COHORT_KINDS,
    INSTITUTION_KINDS,
    TIMEZONES,
    Coach,
    CoachInvite,
    Cohort,
    HandoffMessage,
    HandoffThread,
    Institution,
    KnowledgeDraft,
    Membership,
)
from bot.storage.db import Database, is_retryable, make_engine, run_with_retry
from bot.storage.delivery_models import OUTBOX_STATES, Lease, OutboxMessage
from bot.storage.engagement_models import (
    AUDIENCES,
    REMINDER_STATES,
    RSVP_ANSWERS,
    Broadcast,
    Event,
    Reminder,
    ReminderOccurrence,
    Rsvp,
)
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
    CoachRepository,
    CohortRepository,
    ConsentRequiredError,
    FigureRepository,
    HandoffRepository,
    LeaseRepository,
    MilestoneRepository,
    OutboxRepository,
    QuestionLogRepository,
    Repositories,
    StateRepository,
    UpdateLogRepository,
    UserRepository,
)
from bot.storage.types import UTCDateTime, utcnow
from bot.storage.web_models import WebLogin, WebSession

__all__ = [
    "AUDIENCES",
    "CHANNELS",
    "COHORT_KINDS",
    "FEEDBACK_VALUES",
    "FIGURE_KINDS",
    "INSTITUTION_KINDS",
    "LOCALES",
    "OUTBOX_STATES",
    "PERSONAL_FIELDS",
    "REMINDER_STATES",
    "RSVP_ANSWERS",
    "SECTORS",
    "TIMEZONES",
    "Base",
    "Broadcast",
    "ClassHistory",
    "ClassHistoryRepository",
    "Coach",
    "CoachInvite",
    "CoachRepository",
    "Cohort",
    "CohortRepository",
    "ConsentRequiredError",
    "ConversationState",
    "Database",
    "Event",
    "Figure",
    "FigureRepository",
    "HandoffMessage",
    "HandoffRepository",
    "HandoffThread",
    "Institution",
    "KnowledgeDraft",
    "Lease",
    "LeaseRepository",
    "Membership",
    "MilestoneEvent",
    "MilestoneProgress",
    "MilestoneRepository",
    "OutboxMessage",
    "OutboxRepository",
    "ProcessedUpdate",
    "QuestionLog",
    "QuestionLogRepository",
    "Reminder",
    "ReminderOccurrence",
    "Repositories",
    "Rsvp",
    "StateRepository",
    "UTCDateTime",
    "UpdateLogRepository",
    "User",
    "UserRepository",
    "WebLogin",
    "WebSession",
    "is_retryable",
    "make_engine",
    "run_with_retry",
    "utcnow",
]
