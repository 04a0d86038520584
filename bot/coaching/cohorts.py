"""Creating cohorts and joining or leaving them."""

from __future__ import annotations

from datetime import datetime

from bot.coaching.links import new_cohort_code
from bot.storage import Cohort, Membership, Repositories, User

__all__ = ["create_cohort", "join_cohort"]


def create_cohort(
    repos: Repositories,
    coach_id: int,
    name: str,
    kind: str,
    timezone: str,
    district: str | None = None,
) -> Cohort:
    """A new cohort with a fresh join code (a collision, one in 62^10, draws again)."""
    for _ in range(5):
        code = new_cohort_code()
        if repos.cohorts.by_code(code) is None:
            return repos.cohorts.create(coach_id, name, kind, timezone, code, district)
    raise RuntimeError("could not draw an unused join code")


def join_cohort(repos: Repositories, user: User, cohort: Cohort, now: datetime) -> Membership:
    """Add a consented user to the cohort, remembering their class at joining ("naik kelas")."""
    if user.consent_at is None:
        raise PermissionError("joining a cohort shares data: consent first")
    latest = repos.classes.latest(user.id)
    return repos.cohorts.join(cohort.id, user.id, None if latest is None else latest.umkm_class, at=now)
