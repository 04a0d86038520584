"""The coach's engagement flows — reminders, invitations, broadcasts, check-ins — built together,
because the guided dialogues share their cohort and audience buttons (`bot.core.wizard`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot.config import Settings
from bot.core.broadcast_flow import BroadcastFlow
from bot.core.checkin_flow import CheckinFlow
from bot.core.event_flow import EventFlow, EventReplyFlow
from bot.core.messages import Reply
from bot.core.progress_flow import ProgressFlow
from bot.core.reminder_flow import ReminderFlow
from bot.core.turn import Turn
from bot.core.wizard import WizardButtons

__all__ = ["EngagementFlows"]


@dataclass
class EngagementFlows:
    """One of each flow, and the shared wizard buttons over the three guided dialogues."""

    settings: Settings
    progress: ProgressFlow
    ask: Callable[[Turn, str], list[Reply]]  # a question for the bot (the advice flow)
    reminders: ReminderFlow = field(init=False)
    events: EventFlow = field(init=False)
    replies: EventReplyFlow = field(init=False)
    broadcasts: BroadcastFlow = field(init=False)
    checkins: CheckinFlow = field(init=False)
    wizard: WizardButtons = field(init=False)

    def __post_init__(self) -> None:
        self.reminders = ReminderFlow(self.settings)
        self.events = EventFlow(self.settings)
        self.replies = EventReplyFlow(self.ask)
        self.broadcasts = BroadcastFlow(self.settings)
        self.checkins = CheckinFlow(self.settings, self.progress)
        self.wizard = WizardButtons(self.reminders, self.events, self.broadcasts)
