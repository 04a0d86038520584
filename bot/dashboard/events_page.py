"""A cohort's training events: RSVP counts, who comes, the waiting list in line order,
attendance marking and ratings, through `bot.coaching.events` (the rules live there). Names are
shown only for people who are still active members of the cohort."""

from __future__ import annotations

from bot.coaching import events
from bot.dashboard.urls import PREFIX
from bot.dashboard.viewer import Page, Redirect, Viewer
from bot.storage import Cohort, Event

__all__ = ["event_page", "events_page", "mark", "mark_all"]


def _event(viewer: Viewer, event_id: int, action: str) -> tuple[Event, Cohort]:
    event = viewer.repos.events.by_id(event_id)
    if event is None:
        raise viewer.access.refuse(action)
    return event, viewer.access.cohort(event.cohort_id, action)


def _members(viewer: Viewer, cohort: Cohort) -> set[int]:
    return {user.id for _, user in viewer.repos.cohorts.members(cohort.id)}


def events_page(viewer: Viewer, cohort_id: int) -> Page:
    cohort = viewer.access.cohort(cohort_id, "dashboard-events")
    found = viewer.repos.events.for_cohorts([cohort.id])
    return Page(
        "events",
        {"cohort": cohort, "events": [(e, viewer.repos.events.counts(e.id)) for e in reversed(found)]},
    )


def event_page(viewer: Viewer, event_id: int, notice: str = "") -> Page:
    event, cohort = _event(viewer, event_id, "dashboard-event")
    view = events.event_view(viewer.repos, event)
    members = _members(viewer, cohort)

    def shown(people: list[tuple[int, str]]) -> list[tuple[int, str]]:
        return [(user_id, name) for user_id, name in people if user_id in members]

    lists = {
        "coming": view.coming, "waiting": view.waiting, "maybe": view.maybe,
        "declined": view.declined, "unanswered": view.unanswered,
    }  # fmt: skip
    everyone = sum(len(people) for people in lists.values())
    visible = {key: shown(people) for key, people in lists.items()}
    return Page(
        "event",
        {
            "cohort": cohort,
            "event": event,
            "counts": view.counts,
            "delivery": view.delivery,
            "lists": visible,
            "attended": view.attended,
            "hidden": everyone - sum(len(people) for people in visible.values()),
            "rating_average": None if view.average_rating is None else round(view.average_rating, 1),
            "ratings": len(view.ratings),
            "comments": view.comments,
            "can_mark": True,
            "notice": notice,
        },
    )


def mark(viewer: Viewer, event_id: int, user_id: int, attended: bool) -> Redirect:
    """Mark one current member present or absent."""
    event, cohort = _event(viewer, event_id, "dashboard-attendance")
    if user_id not in _members(viewer, cohort):
        raise viewer.access.refuse("dashboard-attendance")
    events.mark_attendance(viewer.repos, event, user_id, attended, viewer.now)
    return Redirect(f"{PREFIX}/events/{event.id}?notice=marked")


def mark_all(viewer: Viewer, event_id: int) -> Redirect:
    """Everyone holding a place is marked present."""
    event, _ = _event(viewer, event_id, "dashboard-attendance")
    events.mark_all_yes_attended(viewer.repos, event, viewer.now)
    return Redirect(f"{PREFIX}/events/{event.id}?notice=marked")
