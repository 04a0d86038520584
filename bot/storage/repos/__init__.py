"""Repositories: one per aggregate, each bound to a Session and never committing."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from bot.storage.repos.classes import ClassHistoryRepository
from bot.storage.repos.coaching import CoachRepository
from bot.storage.repos.cohorts import CohortRepository
from bot.storage.repos.events import BroadcastRepository, EventRepository
from bot.storage.repos.figures import FigureRepository
from bot.storage.repos.handoffs import HandoffRepository
from bot.storage.repos.leases import LeaseRepository
from bot.storage.repos.milestones import MilestoneRepository
from bot.storage.repos.outbox import OutboxRepository
from bot.storage.repos.questions import QuestionLogRepository
from bot.storage.repos.reminders import ReminderRepository
from bot.storage.repos.state import StateRepository
from bot.storage.repos.updates import UpdateLogRepository
from bot.storage.repos.users import PERSONAL_FIELDS, ConsentRequiredError, UserRepository
from bot.storage.repos.web import WebRepository

__all__ = [
    "BroadcastRepository",
    "EventRepository",
    "ReminderRepository",
    "PERSONAL_FIELDS",
    "ClassHistoryRepository",
    "CoachRepository",
    "CohortRepository",
    "ConsentRequiredError",
    "FigureRepository",
    "HandoffRepository",
    "LeaseRepository",
    "MilestoneRepository",
    "OutboxRepository",
    "QuestionLogRepository",
    "Repositories",
    "StateRepository",
    "UpdateLogRepository",
    "UserRepository",
    "WebRepository",
]


@dataclass
class Repositories:
    """All repositories over one session: `repos = Repositories(session)`."""

    session: Session
    users: UserRepository = field(init=False)
    states: StateRepository = field(init=False)
    questions: QuestionLogRepository = field(init=False)
    updates: UpdateLogRepository = field(init=False)
    milestones: MilestoneRepository = field(init=False)
    figures: FigureRepository = field(init=False)
    classes: ClassHistoryRepository = field(init=False)
    coaches: CoachRepository = field(init=False)
    cohorts: CohortRepository = field(init=False)
    handoffs: HandoffRepository = field(init=False)
    outbox: OutboxRepository = field(init=False)
    leases: LeaseRepository = field(init=False)
    reminders: ReminderRepository = field(init=False)
    events: EventRepository = field(init=False)
    broadcasts: BroadcastRepository = field(init=False)
    web: WebRepository = field(init=False)

    def __post_init__(self) -> None:
        self.users = UserRepository(self.session)
        self.states = StateRepository(self.session)
        self.questions = QuestionLogRepository(self.session)
        self.updates = UpdateLogRepository(self.session)
        self.milestones = MilestoneRepository(self.session)
        self.figures = FigureRepository(self.session)
        self.classes = ClassHistoryRepository(self.session)
        self.coaches = CoachRepository(self.session)
        self.cohorts = CohortRepository(self.session)
        self.handoffs = HandoffRepository(self.session)
        self.outbox = OutboxRepository(self.session)
        self.leases = LeaseRepository(self.session)
        self.reminders = ReminderRepository(self.session)
        self.events = EventRepository(self.session)
        self.broadcasts = BroadcastRepository(self.session)
        self.web = WebRepository(self.session)
