"""A cohort as a table, one row per member: the file a coach attaches to the monthly report."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.coaching.cohort_view import MemberRow
from bot.progress.milestones import load_milestones
from bot.progress.months import add_months
from bot.storage import Cohort
from bot.tabular import Cell

__all__ = ["COLUMNS", "cohort_table"]

# Column keys; their headers are labels in the coach's language (templates/<locale>/buttons).
COLUMNS = (
    "name", "sector", "district", "products", "joined", "last_active", "class_at_join", "class_now",
    "went_up", "milestones_done", "milestones_missing", "logged_this_month", "open_questions", "events_attended",
)  # fmt: skip


def cohort_table(
    cohort: Cohort,
    rows: Sequence[MemberRow],
    month: date,
    label: Callable[..., str],
    locale: str,
    *,
    months: int = 6,
) -> tuple[list[str], list[list[Cell]]]:
    """Headers and one row per member; `label(name, *args)` gives translated words, `month` is
    the cohort's current month (sales columns cover the `months` before and including it)."""
    zone = ZoneInfo(cohort.timezone)
    titles = {m.id: (m.title_en if locale == "en" else m.title_id) for m in load_milestones()}
    sales_months = [add_months(month, -n) for n in range(months - 1, -1, -1)]
    headers = [label("export_column", key) for key in COLUMNS]
    headers += [label("export_sales_column", m.isoformat()[:7]) for m in sales_months]

    def local(moment: datetime | None) -> datetime | None:
        return None if moment is None else moment.astimezone(zone).replace(microsecond=0)

    def class_name(value: str | None) -> str:
        return label("umkm_class", value) if value else ""

    table: list[list[Cell]] = []
    for row in rows:
        table.append(
            [
                row.name or "",
                label("sector", row.sector) if row.sector else "",
                row.district or "",
                row.products or "",
                local(row.joined_at),
                local(row.last_active_at),
                class_name(row.class_at_join),
                class_name(row.class_now),
                label("yes_no", row.went_up),
                f"{row.milestones_done}/{row.milestones_total}",
                "; ".join(titles.get(m, m) for m in row.missing),
                label("yes_no", row.logged_this_month),
                row.open_questions,
                row.events_attended,
                *[row.sales.get(m) for m in sales_months],
            ]
        )
    return headers, table
