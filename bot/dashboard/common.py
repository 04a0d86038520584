"""Small helpers the pages share: month names, milestone titles, who may see a thread."""

from __future__ import annotations

from datetime import date

from bot.dashboard.viewer import Viewer
from bot.progress.milestones import load_milestones
from bot.storage import HandoffThread

__all__ = ["milestone_titles", "month_label", "thread_visible"]


def month_label(viewer: Viewer, month: date) -> str:
    """"Nov 26": the month's short name in the viewer's language and a two-digit year."""
    names = viewer.label("month_abbr").split()
    return f"{names[month.month - 1]} {month.year % 100:02d}"


def milestone_titles(locale: str) -> dict[str, str]:
    """Every milestone's title in `locale`, by id."""
    return {m.id: (m.title_en if locale == "en" else m.title_id) for m in load_milestones()}


def thread_visible(viewer: Viewer, thread: HandoffThread) -> bool:
    """Whether the viewer may see a thread (the same rule as `CoachAccess.thread`, without
    logging a refusal for each thread a list leaves out)."""
    if viewer.actor.is_admin:
        return True
    if thread.coach_id != viewer.actor.coach_id or viewer.actor.coach_id is None:
        return False
    return viewer.repos.cohorts.coach_sees_member(viewer.actor.coach_id, thread.user_id)
