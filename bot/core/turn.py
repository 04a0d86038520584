"""One handled user action: the transaction's repositories, the user, who they are, and
rendering helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.coaching.access import Actor, CoachAccess
from bot.core.messages import Button, Reply
from bot.rendering import label, render
from bot.storage import Repositories, User


@dataclass
class Turn:
    """What one handled message needs: the session's repositories, the user and their role.

    Before consent `user` is a transient row (id None) that is never stored.
    """

    repos: Repositories
    user: User
    actor: Actor
    now: datetime
    first_name: str | None = None  # from the channel (Telegram); stored only after consent
    access: CoachAccess = field(init=False)

    def __post_init__(self) -> None:
        self.access = CoachAccess(self.repos, self.actor)

    @property
    def locale(self) -> str:
        return self.user.locale

    @property
    def consented(self) -> bool:
        return self.user.id is not None and self.user.consent_at is not None

    def say(self, template: str, *, buttons: tuple[tuple[Button, ...], ...] = (), **context: object) -> Reply:
        return Reply(render(self.locale, template, **context), buttons)

    def label(self, name: str, *args: object) -> str:
        return label(self.locale, name, *args)
