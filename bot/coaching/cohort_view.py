"""What a coach sees of a cohort: one row per member and the cohort's figures, read with a
handful of batch queries (not one query per member), for chat, export and dashboard alike."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.progress.milestones import milestones_for_sector
from bot.progress.months import add_months
from bot.progress.umkm_class import UmkmClass
from bot.storage import Cohort, Repositories

__all__ = [
    "SORT_KEYS",
    "CohortSummary",
    "MemberRow",
    "class_went_up",
    "member_rows",
    "sort_rows",
    "summarize",
]

SortKey = Literal["active", "class", "milestones", "name"]
SORT_KEYS: tuple[SortKey, ...] = ("active", "class", "milestones", "name")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def class_went_up(before: str | None, now: str | None) -> bool:
    """True when both classes are known and `now` is a bigger class than `before`."""
    try:
        return before is not None and now is not None and UmkmClass(now).order > UmkmClass(before).order
    except ValueError:
        return False


@dataclass(frozen=True)
class MemberRow:
    """One member as the coach sees them."""

    user_id: int
    name: str | None
    sector: str | None
    district: str | None
    products: str | None
    joined_at: datetime
    last_active_at: datetime | None
    class_at_join: str | None
    class_now: str | None
    done: frozenset[str]
    missing: tuple[str, ...]  # milestone ids of their sector's checklist not done, in order
    milestones_total: int
    sales: dict[date, int]  # omzet of the last months, oldest first
    logged_this_month: bool
    open_questions: int
    silent: bool
    events_attended: int = 0

    @property
    def went_up(self) -> bool:
        return class_went_up(self.class_at_join, self.class_now)

    @property
    def milestones_done(self) -> int:
        return self.milestones_total - len(self.missing)


@dataclass(frozen=True)
class CohortSummary:
    """A cohort's figures for the coach's overview."""

    cohort: Cohort
    members: int
    active: int
    silent: int
    went_up: int
    logged_this_month: int
    open_questions: int
    classes_now: Counter[str]
    classes_at_join: Counter[str]
    lacking: list[tuple[str, int]]  # milestone id, members lacking it; most lacked first


def this_month(cohort: Cohort, now: datetime) -> date:
    """The first day of the current month in the cohort's time zone."""
    return now.astimezone(ZoneInfo(cohort.timezone)).date().replace(day=1)


def member_rows(
    repos: Repositories, cohort: Cohort, now: datetime, *, silent_days: int = 30, months: int = 6
) -> list[MemberRow]:
    """Every active member of the cohort, in joining order."""
    members = repos.cohorts.members(cohort.id)
    ids = [user.id for _, user in members]
    month = this_month(cohort, now)
    first = add_months(month, -(months - 1))
    done = repos.milestones.done_for_users(ids)
    classes = repos.classes.latest_for_users(ids)
    sales = repos.figures.for_users(ids, "omzet", first)
    logged = {
        user_id
        for kind in ("omzet", "modal", "workers", "units")
        for user_id, values in repos.figures.for_users(ids, kind, month).items()
        if month in values
    }
    open_questions = repos.handoffs.open_counts(cohort.coach_id, ids)
    attended = repos.events.attended_for_users(ids)
    quiet_since = now - timedelta(days=silent_days)
    rows = []
    for membership, user in members:
        checklist = milestones_for_sector(user.sector)
        missing = tuple(m.id for m in checklist if m.id not in done[user.id])
        last = user.last_active_at
        silent = (last or membership.joined_at) < quiet_since
        rows.append(
            MemberRow(
                user_id=user.id,
                name=user.name,
                sector=user.sector,
                district=user.district,
                products=user.products,
                joined_at=membership.joined_at,
                last_active_at=last,
                class_at_join=membership.class_at_join,
                class_now=classes.get(user.id),
                done=frozenset(done[user.id]),
                missing=missing,
                milestones_total=len(checklist),
                sales=sales[user.id],
                logged_this_month=user.id in logged,
                open_questions=open_questions.get(user.id, 0),
                silent=silent,
                events_attended=attended.get(user.id, 0),
            )
        )
    return rows


def summarize(repos: Repositories, cohort: Cohort, now: datetime, *, silent_days: int = 30) -> CohortSummary:
    """The cohort's overview figures."""
    rows = member_rows(repos, cohort, now, silent_days=silent_days)
    lacking = Counter(milestone for row in rows for milestone in row.missing)
    return CohortSummary(
        cohort=cohort,
        members=len(rows),
        active=sum(not r.silent for r in rows),
        silent=sum(r.silent for r in rows),
        went_up=sum(r.went_up for r in rows),
        logged_this_month=sum(r.logged_this_month for r in rows),
        open_questions=sum(r.open_questions for r in rows),
        classes_now=Counter(r.class_now or "unknown" for r in rows),
        classes_at_join=Counter(r.class_at_join or "unknown" for r in rows),
        lacking=sorted(lacking.items(), key=lambda item: (-item[1], item[0])),
    )


def _class_order(umkm_class: str | None) -> int:
    try:
        return UmkmClass(umkm_class).order if umkm_class else -1
    except ValueError:
        return -1


def sort_rows(rows: Sequence[MemberRow], key: str) -> list[MemberRow]:
    """Members sorted for the coach: by last activity (most recent first), class (biggest
    first), milestones done (most first) or name; ties keep joining order."""
    if key == "class":
        return sorted(rows, key=lambda r: -_class_order(r.class_now))
    if key == "milestones":
        return sorted(rows, key=lambda r: -r.milestones_done)
    if key == "name":
        return sorted(rows, key=lambda r: (r.name or "").casefold())
    return sorted(rows, key=lambda r: -(r.last_active_at or _EPOCH).timestamp())
