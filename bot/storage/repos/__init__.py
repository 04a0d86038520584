"""Repositories: one per aggregate, each bound to a Session and never committing."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from bot.storage.repos.classes import ClassHistoryRepository
from bot.storage.repos.figures import FigureRepository
from bot.storage.repos.milestones import MilestoneRepository
from bot.storage.repos.questions import QuestionLogRepository
from bot.storage.repos.state import StateRepository
from bot.storage.repos.updates import UpdateLogRepository
from bot.storage.repos.users import PERSONAL_FIELDS, ConsentRequiredError, UserRepository

__all__ = [
    "PERSONAL_FIELDS",
    "ClassHistoryRepository",
    "ConsentRequiredError",
    "FigureRepository",
    "MilestoneRepository",
    "QuestionLogRepository",
    "Repositories",
    "StateRepository",
    "UpdateLogRepository",
    "UserRepository",
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

    def __post_init__(self) -> None:
        self.users = UserRepository(self.session)
        self.states = StateRepository(self.session)
        self.questions = QuestionLogRepository(self.session)
        self.updates = UpdateLogRepository(self.session)
        self.milestones = MilestoneRepository(self.session)
        self.figures = FigureRepository(self.session)
        self.classes = ClassHistoryRepository(self.session)
