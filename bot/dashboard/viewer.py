"""Who is looking at a page, and what a page's logic hands back to the web front.

A `Viewer` is built for every request from the session's user, with `actor_for` and
`CoachAccess` exactly as the chat builds them for every message; pages reach data only through
`viewer.repos` and `viewer.access`. Page functions return a `Page`, `Redirect` or `Download`;
the aiohttp handlers only turn those into responses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.coaching.access import Actor, CoachAccess
from bot.config import Settings
from bot.rendering import label
from bot.storage import Cohort, Repositories, User, WebSession

__all__ = ["Download", "Page", "Redirect", "Result", "Viewer"]


@dataclass
class Viewer:
    """One request's user, role, repositories (one transaction) and clock."""

    repos: Repositories
    user: User
    actor: Actor
    session: WebSession
    now: datetime
    settings: Settings
    access: CoachAccess = field(init=False)

    def __post_init__(self) -> None:
        self.access = CoachAccess(self.repos, self.actor)

    @property
    def locale(self) -> str:
        return self.user.locale

    @property
    def csrf(self) -> str:
        return self.session.csrf_token

    def label(self, name: str, *args: object) -> str:
        return label(self.locale, name, *args)

    def local(self, moment: datetime | None, cohort: Cohort | None = None) -> datetime | None:
        """A stored UTC moment on the cohort's wall clock (WIB when there is no cohort)."""
        if moment is None:
            return None
        return moment.astimezone(ZoneInfo(cohort.timezone if cohort else "Asia/Jakarta"))


@dataclass(frozen=True)
class Page:
    """Render `dashboard/<template>` in the viewer's language."""

    template: str
    context: dict[str, Any]
    status: int = 200


@dataclass(frozen=True)
class Redirect:
    """After a POST: show the page again (POST-redirect-GET)."""

    location: str


@dataclass(frozen=True)
class Download:
    """A file: CSV or XLSX of what the page shows."""

    filename: str
    content: bytes
    content_type: str


Result = Page | Redirect | Download
