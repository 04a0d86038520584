"""The first page: every cohort the viewer may see, with its figures at a glance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.coaching.cohort_view import CohortSummary, member_rows, summarize, this_month
from bot.dashboard.common import thread_visible
from bot.dashboard.viewer import Page, Viewer
from bot.progress.umkm_class import UmkmClass
from bot.storage import Cohort

__all__ = ["CohortCard", "overview"]

CLASSES = (*(c.value for c in UmkmClass), "unknown")


@dataclass(frozen=True)
class CohortCard:
    summary: CohortSummary
    active_this_month: int
    milestones_done: int
    milestones_total: int
    classes: list[tuple[str, int, int]]  # class, members at joining, members now


def _local_day(viewer: Viewer, moment: datetime, cohort: Cohort) -> date:
    return (viewer.local(moment, cohort) or moment).date()


def overview(viewer: Viewer) -> Page:
    silent_days = viewer.settings.coaching.silent_days
    cards = []
    for cohort in viewer.access.cohorts():
        rows = member_rows(viewer.repos, cohort, viewer.now, silent_days=silent_days)
        summary = summarize(viewer.repos, cohort, viewer.now, silent_days=silent_days)
        month = this_month(cohort, viewer.now)
        active = sum(1 for r in rows if r.last_active_at and _local_day(viewer, r.last_active_at, cohort) >= month)
        classes = [
            (c, summary.classes_at_join.get(c, 0), summary.classes_now.get(c, 0))
            for c in CLASSES
            if summary.classes_at_join.get(c, 0) or summary.classes_now.get(c, 0)
        ]
        cards.append(
            CohortCard(
                summary,
                active,
                sum(r.milestones_done for r in rows),
                sum(r.milestones_total for r in rows),
                classes,
            )
        )
    threads = viewer.repos.handoffs.for_coach(viewer.access.coach_scope, "open")
    open_questions = sum(1 for t in threads if thread_visible(viewer, t))
    return Page("overview", {"cards": cards, "open_questions": open_questions, "silent_days": silent_days})
