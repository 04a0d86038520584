"""A cohort's training events: RSVP counts, the list of answers with the waiting list,
attendance and ratings. Names are shown only for people who are still active members."""

from __future__ import annotations

from bot.dashboard.viewer import Page, Viewer
from bot.storage import Event

__all__ = ["event_page", "events_page"]


def _event(viewer: Viewer, event_id: int, action: str) -> Event:
    event = viewer.repos.events.by_id(event_id)
    if event is None:
        raise viewer.access.refuse(action)
    viewer.access.cohort(event.cohort_id, action)
    return event


def events_page(viewer: Viewer, cohort_id: int) -> Page:
    cohort = viewer.access.cohort(cohort_id, "dashboard-events")
    events = viewer.repos.events.for_cohorts([cohort.id])
    return Page(
        "events",
        {
            "cohort": cohort,
            "events": [(e, viewer.repos.events.counts(e.id)) for e in reversed(events)],
        },
    )


def event_page(viewer: Viewer, event_id: int, notice: str = "") -> Page:
    event = _event(viewer, event_id, "dashboard-event")
    cohort = viewer.access.cohort(event.cohort_id, "dashboard-event")
    members = {user.id for _, user in viewer.repos.cohorts.members(cohort.id)}
    rsvps = viewer.repos.events.rsvps(event.id)
    shown = [(r, u) for r, u in rsvps if u.id in members]
    ratings = [r.rating for r, _ in rsvps if r.rating is not None]
    return Page(
        "event",
        {
            "cohort": cohort,
            "event": event,
            "counts": viewer.repos.events.counts(event.id),
            "places": [(r, u) for r, u in shown if r.answer == "yes" and r.waitlisted_at is None],
            "waiting": sorted(
                ((r, u) for r, u in shown if r.answer == "yes" and r.waitlisted_at is not None),
                key=lambda pair: (pair[0].waitlisted_at, pair[0].id),
            ),
            "others": [(r, u) for r, u in shown if r.answer != "yes"],
            "hidden": len(rsvps) - len(shown),
            "rating_average": round(sum(ratings) / len(ratings), 1) if ratings else None,
            "ratings": len(ratings),
            "comments": [(r, u) for r, u in shown if r.comment],
            "can_mark": False,
            "notice": notice,
        },
    )
