"""Who receives a reminder, invitation or broadcast: a cohort's active members, narrowed to those
missing a milestone, those who logged no figures this month, or one person. Members who blocked
the bot are left out (and counted, so the coach sees how many)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.coaching.cohort_view import this_month
from bot.progress.milestones import milestones_for_sector
from bot.storage import AUDIENCES, Cohort, Repositories, User

__all__ = ["Audience", "Selection", "select"]

FIGURE_KINDS = ("omzet", "modal", "workers", "units")


@dataclass(frozen=True)
class Audience:
    """An audience as stored on reminders, events and broadcasts."""

    kind: str = "cohort"
    milestone: str | None = None
    user_id: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in AUDIENCES:
            raise ValueError(f"unknown audience {self.kind!r}")
        if self.kind == "missing_milestone" and not self.milestone:
            raise ValueError("a milestone audience needs the milestone")
        if self.kind == "person" and self.user_id is None:
            raise ValueError("a one-person audience needs the person")


@dataclass(frozen=True)
class Selection:
    """The recipients, and how many members were skipped because they blocked the bot."""

    users: list[User]
    skipped_blocked: int


def _checklist_ids(sector: str | None) -> set[str]:
    """The milestones that apply to a sector (a food-only step is not missing for a batik maker)."""
    return {m.id for m in milestones_for_sector(sector)}


def select(repos: Repositories, cohort: Cohort, audience: Audience, now: datetime) -> Selection:
    """The cohort's active members in this audience, joining order."""
    members = [user for _, user in repos.cohorts.members(cohort.id)]
    if audience.kind == "person":
        members = [u for u in members if u.id == audience.user_id]
    elif audience.kind == "missing_milestone":
        done = repos.milestones.done_for_users([u.id for u in members])
        members = [
            u for u in members
            if audience.milestone not in done[u.id] and audience.milestone in _checklist_ids(u.sector)
        ]  # fmt: skip
    elif audience.kind == "no_figures":
        month = this_month(cohort, now)
        ids = [u.id for u in members]
        logged = {
            user_id
            for kind in FIGURE_KINDS
            for user_id, values in repos.figures.for_users(ids, kind, month).items()
            if month in values
        }
        members = [u for u in members if u.id not in logged]
    reachable = [u for u in members if u.blocked_at is None]
    return Selection(reachable, len(members) - len(reachable))
