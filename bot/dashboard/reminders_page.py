"""A cohort's reminders: what is sent when, its state, and its last occurrence."""

from __future__ import annotations

from bot.dashboard.viewer import Page, Viewer

__all__ = ["reminders_page"]


def reminders_page(viewer: Viewer, cohort_id: int, notice: str = "") -> Page:
    cohort = viewer.access.cohort(cohort_id, "dashboard-reminders")
    reminders = viewer.repos.reminders.for_cohorts([cohort.id], include_ended=True)
    items = []
    for reminder in reminders:
        last = viewer.repos.reminders.occurrences(reminder.id, limit=1)
        items.append({"reminder": reminder, "last": last[0] if last else None, "figures": None})
    return Page("reminders", {"cohort": cohort, "items": items, "can_change": False, "notice": notice})
