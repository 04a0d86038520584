"""One cohort as a table: one row per active member, sorted and filtered, with the cohort's
monthly sales and milestones over time, and the same rows as CSV or XLSX."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from bot.coaching.cohort_export import cohort_table
from bot.coaching.cohort_view import SORT_KEYS, MemberRow, member_rows, sort_rows, this_month
from bot.dashboard.charts import cumulative_milestones, line_chart, months_back, sales_by_month
from bot.dashboard.common import milestone_titles, month_label
from bot.dashboard.overview import CLASSES
from bot.dashboard.viewer import Download, Page, Viewer
from bot.progress.chart import format_rupiah_short
from bot.progress.milestones import load_milestones
from bot.storage import SECTORS, Cohort
from bot.tabular import csv_bytes, xlsx_bytes

__all__ = ["TableFilter", "cohort_export", "cohort_page", "filter_rows"]

CONTENT_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class TableFilter:
    """What the coach chose to see; unknown values are ignored, never errors."""

    sort: str = "active"
    umkm_class: str = ""
    sector: str = ""
    missing: str = ""
    silent: str = ""  # "", "yes", "no"

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> TableFilter:
        milestones = {m.id for m in load_milestones()}
        sort = query.get("sort", "active")
        return cls(
            sort=sort if sort in SORT_KEYS else "active",
            umkm_class=query.get("class", "") if query.get("class", "") in CLASSES else "",
            sector=query.get("sector", "") if query.get("sector", "") in SECTORS else "",
            missing=query.get("missing", "") if query.get("missing", "") in milestones else "",
            silent=query.get("silent", "") if query.get("silent", "") in ("yes", "no") else "",
        )

    def query(self, **change: str) -> str:
        """This filter as a query string, with some values changed."""
        values = {"sort": self.sort, "class": self.umkm_class, "sector": self.sector,
                  "missing": self.missing, "silent": self.silent} | change  # fmt: skip
        return urlencode({k: v for k, v in values.items() if v})


def filter_rows(rows: Sequence[MemberRow], chosen: TableFilter) -> list[MemberRow]:
    """The rows the filter lets through, in the chosen order."""
    kept = [
        r
        for r in rows
        if (not chosen.umkm_class or (r.class_now or "unknown") == chosen.umkm_class)
        and (not chosen.sector or r.sector == chosen.sector)
        and (not chosen.missing or chosen.missing in r.missing)
        and (not chosen.silent or r.silent == (chosen.silent == "yes"))
    ]
    return sort_rows(kept, chosen.sort)


def _rows(viewer: Viewer, cohort: Cohort) -> list[MemberRow]:
    return member_rows(
        viewer.repos,
        cohort,
        viewer.now,
        silent_days=viewer.settings.coaching.silent_days,
        months=viewer.settings.dashboard.chart_months,
    )


def cohort_page(viewer: Viewer, cohort_id: int, chosen: TableFilter) -> Page:
    cohort = viewer.access.cohort(cohort_id, "dashboard-cohort")
    rows = _rows(viewer, cohort)
    shown = filter_rows(rows, chosen)
    month = this_month(cohort, viewer.now)
    months = months_back(month, viewer.settings.dashboard.chart_months)
    labels = [month_label(viewer, m) for m in months]
    medians, totals = sales_by_month((r.sales for r in rows), months)
    sales_chart = line_chart(labels, bars=totals, lines={"median": medians}, fmt=format_rupiah_short)
    events = viewer.repos.milestones.events_for_users(r.user_id for r in rows)
    done = cumulative_milestones(events, months, cohort.timezone)
    milestones_chart = line_chart(labels, lines={"milestones": done}, integer=True)
    titles = milestone_titles(viewer.locale)
    missing_choices = sorted({m for r in rows for m in r.missing}, key=lambda m: titles.get(m, m))
    return Page(
        "cohort",
        {
            "cohort": cohort,
            "rows": shown,
            "total": len(rows),
            "filter": chosen,
            "sort_keys": SORT_KEYS,
            "classes": CLASSES,
            "sectors": sorted({r.sector for r in rows if r.sector}),
            "missing_choices": [(m, titles.get(m, m)) for m in missing_choices],
            "titles": titles,
            "sales_chart": sales_chart,
            "milestones_chart": milestones_chart,
            "month": month,
            "tz": cohort,
        },
    )


def cohort_export(viewer: Viewer, cohort_id: int, chosen: TableFilter, kind: str) -> Download:
    """What the table shows (same filter, same order) as CSV or XLSX, for the monthly report."""
    cohort = viewer.access.cohort(cohort_id, "dashboard-export")
    shown = filter_rows(_rows(viewer, cohort), chosen)
    headers, table = cohort_table(cohort, shown, this_month(cohort, viewer.now), viewer.label, viewer.locale)
    stamp = (viewer.local(viewer.now, cohort) or viewer.now).strftime("%Y%m%d")
    content = csv_bytes(headers, table) if kind == "csv" else xlsx_bytes(headers, table, cohort.name)
    return Download(f"kelompok-{cohort.id}-{stamp}.{kind}", content, CONTENT_TYPES[kind])
