"""One handled user action: the transaction's repositories, the user, and rendering helpers."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.messages import Button, Reply
from bot.rendering import label, render
from bot.storage import Repositories, User


@dataclass
class Turn:
    """What one handled message needs: the session's repositories and the user."""

    repos: Repositories
    user: User

    @property
    def locale(self) -> str:
        return self.user.locale

    def say(self, template: str, *, buttons: tuple[tuple[Button, ...], ...] = (), **context: object) -> Reply:
        return Reply(render(self.locale, template, **context), buttons)

    def label(self, name: str, *args: object) -> str:
        return label(self.locale, name, *args)
