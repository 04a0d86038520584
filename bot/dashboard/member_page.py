"""One member, while they are an active member of a cohort the viewer may see: profile,
milestone checklist, sales chart, class history, events, hand-off threads."""

from __future__ import annotations

from bot.coaching.cohort_view import this_month
from bot.dashboard.charts import line_chart, months_back
from bot.dashboard.common import milestone_titles, month_label
from bot.dashboard.viewer import Page, Viewer
from bot.progress.chart import format_rupiah_short
from bot.progress.milestones import milestones_for_sector

__all__ = ["member_page"]


def member_page(viewer: Viewer, cohort_id: int, user_id: int) -> Page:
    cohort, membership, user = viewer.access.member(cohort_id, user_id, "dashboard-member")
    repos = viewer.repos
    titles = milestone_titles(viewer.locale)
    done = repos.milestones.done_ids(user.id)
    checklist = [(titles.get(m.id, m.id), m.id in done, m.optional) for m in milestones_for_sector(user.sector)]
    months = months_back(this_month(cohort, viewer.now), viewer.settings.dashboard.chart_months)
    figures = {kind: repos.figures.current(user.id, kind) for kind in ("omzet", "modal", "workers", "units")}
    sales_chart = line_chart(
        [month_label(viewer, m) for m in months],
        bars=[figures["omzet"].get(m) for m in months],
        fmt=format_rupiah_short,
    )
    table_months = [m for m in reversed(months) if any(m in values for values in figures.values())]
    # Events of the cohorts the viewer may see only: another coach's trainings are not theirs.
    visible = {c.id for c in viewer.access.cohorts()}
    events = [(rsvp, event) for rsvp, event in repos.events.for_user(user.id) if event.cohort_id in visible]
    threads = [
        (thread, repos.handoffs.messages(thread.id))
        for thread in repos.handoffs.for_member(user.id, None if viewer.actor.is_admin else cohort.coach_id)
    ]
    return Page(
        "member",
        {
            "cohort": cohort,
            "membership": membership,
            "member": user,
            "checklist": checklist,
            "done_count": sum(1 for _, d, _ in checklist if d),
            "sales_chart": sales_chart,
            "figures": figures,
            "table_months": [(m, month_label(viewer, m)) for m in table_months],
            "classes": repos.classes.history(user.id),
            "events": events,
            "threads": threads,
        },
    )
