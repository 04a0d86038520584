"""Cohorts and memberships: who is in which coach's group."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.storage.coaching_models import COHORT_KINDS, TIMEZONES, Coach, Cohort, Membership
from bot.storage.models import User
from bot.storage.repos._common import check_choice, moment

__all__ = ["CohortRepository"]


class CohortRepository:
    """Cohorts and memberships of one session; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def create(
        self,
        coach_id: int,
        name: str,
        kind: str,
        timezone: str,
        join_code: str,
        district: str | None = None,
    ) -> Cohort:
        """A new cohort run by `coach_id`."""
        check_choice("kind", kind, COHORT_KINDS)
        check_choice("timezone", timezone, TIMEZONES)
        if not name.strip():
            raise ValueError("a cohort needs a name")
        row = Cohort(
            coach_id=coach_id,
            name=name.strip()[:128],
            kind=kind,
            timezone=timezone,
            join_code=join_code,
            district=(district or "").strip()[:128] or None,
        )
        self.session.add(row)
        self.session.flush()
        return row

    def by_id(self, cohort_id: int) -> Cohort | None:
        return self.session.get(Cohort, cohort_id)

    def by_code(self, join_code: str) -> Cohort | None:
        return self.session.scalars(select(Cohort).where(Cohort.join_code == join_code)).one_or_none()

    def for_coach(self, coach_id: int | None) -> list[Cohort]:
        """The coach's cohorts (every cohort for None: an admin), oldest first, archived left out."""
        stmt = select(Cohort).where(Cohort.archived_at.is_(None)).order_by(Cohort.created_at, Cohort.id)
        if coach_id is not None:
            stmt = stmt.where(Cohort.coach_id == coach_id)
        return list(self.session.scalars(stmt))

    # -- memberships --------------------------------------------------------------------------

    def join(self, cohort_id: int, user_id: int, class_at_join: str | None, at: datetime | None = None) -> Membership:
        """Add the user to the cohort (again, after leaving); an active membership is kept."""
        row = self.session.scalars(
            select(Membership).where(Membership.cohort_id == cohort_id, Membership.user_id == user_id)
        ).one_or_none()
        if row is None:
            row = Membership(cohort_id=cohort_id, user_id=user_id, joined_at=moment(at), class_at_join=class_at_join)
            self.session.add(row)
        elif row.left_at is not None:
            row.left_at = None
            row.joined_at = moment(at)
            row.class_at_join = class_at_join
        self.session.flush()
        return row

    def leave(self, cohort_id: int, user_id: int, at: datetime | None = None) -> bool:
        """End an active membership; False if there was none."""
        row = self.membership(cohort_id, user_id)
        if row is None:
            return False
        row.left_at = moment(at)
        return True

    def membership(self, cohort_id: int, user_id: int) -> Membership | None:
        """The user's ACTIVE membership of the cohort, if any."""
        stmt = select(Membership).where(
            Membership.cohort_id == cohort_id, Membership.user_id == user_id, Membership.left_at.is_(None)
        )
        return self.session.scalars(stmt).one_or_none()

    def of_member(self, user_id: int) -> list[tuple[Membership, Cohort, Coach]]:
        """The user's active memberships with their cohorts and coaches, oldest first."""
        stmt = (
            select(Membership, Cohort, Coach)
            .join(Cohort, Cohort.id == Membership.cohort_id)
            .join(Coach, Coach.id == Cohort.coach_id)
            .where(Membership.user_id == user_id, Membership.left_at.is_(None), Cohort.archived_at.is_(None))
            .order_by(Membership.joined_at, Membership.id)
        )
        return [(m, c, k) for m, c, k in self.session.execute(stmt)]

    def members(self, cohort_id: int) -> list[tuple[Membership, User]]:
        """Active members of a cohort with their user rows, in joining order."""
        stmt = (
            select(Membership, User)
            .join(User, User.id == Membership.user_id)
            .where(Membership.cohort_id == cohort_id, Membership.left_at.is_(None))
            .order_by(Membership.joined_at, Membership.id)
        )
        return [(m, u) for m, u in self.session.execute(stmt)]

    def coach_sees_member(self, coach_id: int, user_id: int) -> bool:
        """True when the user is an active member of one of the coach's cohorts."""
        stmt = (
            select(Membership.id)
            .join(Cohort, Cohort.id == Membership.cohort_id)
            .where(Cohort.coach_id == coach_id, Membership.user_id == user_id, Membership.left_at.is_(None))
            .limit(1)
        )
        return self.session.scalars(stmt).first() is not None

    def due_checkins(self, now: datetime, limit: int = 100) -> list[Cohort]:
        """Cohorts whose weekly check-in is due (index on next_checkin_at)."""
        stmt = (
            select(Cohort)
            .where(Cohort.next_checkin_at <= moment(now), Cohort.archived_at.is_(None))
            .order_by(Cohort.next_checkin_at, Cohort.id)
            .limit(limit)
        )
        if self.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        return list(self.session.scalars(stmt))

    def silent_members(self, since: datetime) -> list[tuple[Membership, Cohort, User]]:
        """Active members of active cohorts with no message since `since` (nor joined since)."""
        last = func.coalesce(User.last_active_at, Membership.joined_at)
        stmt = (
            select(Membership, Cohort, User)
            .join(Cohort, Cohort.id == Membership.cohort_id)
            .join(User, User.id == Membership.user_id)
            .where(
                Membership.left_at.is_(None),
                Cohort.archived_at.is_(None),
                Membership.joined_at < moment(since),
                last < moment(since),
            )
            .order_by(Cohort.id, Membership.id)
        )
        return [(m, c, u) for m, c, u in self.session.execute(stmt)]
