"""A cohort's reminders: what is sent when, its state, its last occurrence and how that
delivery went; pause, resume and cancel through `bot.coaching.reminders` (the rules live there)."""

from __future__ import annotations

from bot.coaching import reminders
from bot.dashboard.urls import PREFIX
from bot.dashboard.viewer import Page, Redirect, Viewer

__all__ = ["ACTIONS", "change", "reminders_page"]

ACTIONS = ("pause", "resume", "cancel")
_DONE = {"pause": "paused", "resume": "resumed", "cancel": "cancelled"}


def reminders_page(viewer: Viewer, cohort_id: int, notice: str = "") -> Page:
    cohort = viewer.access.cohort(cohort_id, "dashboard-reminders")
    items = []
    for reminder in viewer.repos.reminders.for_cohorts([cohort.id], include_ended=True):
        last = viewer.repos.reminders.occurrences(reminder.id, limit=1)
        figures = reminders.delivery_figures(viewer.repos, reminder)
        items.append({"reminder": reminder, "last": last[0] if last else None, "figures": figures})
    return Page("reminders", {"cohort": cohort, "items": items, "can_change": True, "notice": notice})


def change(viewer: Viewer, reminder_id: int, action: str) -> Redirect:
    """Pause, resume or cancel a reminder of a cohort the viewer runs."""
    reminder = viewer.repos.reminders.by_id(reminder_id)
    if reminder is None or action not in ACTIONS:
        raise viewer.access.refuse("dashboard-reminder")
    cohort = viewer.access.cohort(reminder.cohort_id, "dashboard-reminder")
    if action == "pause":
        reminders.pause(viewer.repos, reminder)
    elif action == "resume":
        reminders.resume(viewer.repos, reminder, viewer.now)
    else:
        reminders.cancel(viewer.repos, reminder)
    return Redirect(f"{PREFIX}/cohorts/{cohort.id}/reminders?notice={_DONE[action]}#r{reminder.id}")
