"""Institutions, coaches and one-time coach invites."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.storage.coaching_models import INSTITUTION_KINDS, Coach, CoachInvite, Institution
from bot.storage.repos._common import check_choice, moment, rowcount

__all__ = ["CoachRepository"]


class CoachRepository:
    """Institutions, coaches and invites of one session; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- institutions -------------------------------------------------------------------------

    def add_institution(self, name: str, kind: str = "government", district: str | None = None) -> Institution:
        """A new institution (a Dinas, an NGO, a company programme, a cooperative)."""
        check_choice("kind", kind, INSTITUTION_KINDS)
        if not name.strip():
            raise ValueError("an institution needs a name")
        row = Institution(name=name.strip(), kind=kind, district=(district or "").strip() or None)
        self.session.add(row)
        self.session.flush()
        return row

    def institution(self, institution_id: int) -> Institution | None:
        return self.session.get(Institution, institution_id)

    def institutions(self) -> list[Institution]:
        """Every institution, by name."""
        return list(self.session.scalars(select(Institution).order_by(Institution.name, Institution.id)))

    # -- coaches ------------------------------------------------------------------------------

    def add_coach(self, user_id: int, institution_id: int, name: str) -> Coach:
        """Make a user a coach of an institution; raises ValueError if they already coach."""
        if self.institution(institution_id) is None:
            raise ValueError(f"no institution with id {institution_id}")
        if self.for_user(user_id) is not None:
            raise ValueError("this user is already a coach")
        row = Coach(user_id=user_id, institution_id=institution_id, name=name.strip()[:128] or "Pendamping")
        self.session.add(row)
        self.session.flush()
        return row

    def coach(self, coach_id: int) -> Coach | None:
        return self.session.get(Coach, coach_id)

    def for_user(self, user_id: int) -> Coach | None:
        """The coach record of a user, if they are one."""
        return self.session.scalars(select(Coach).where(Coach.user_id == user_id)).one_or_none()

    def coaches(self, institution_id: int | None = None) -> list[Coach]:
        """Coaches, of one institution or all."""
        stmt = select(Coach).order_by(Coach.name, Coach.id)
        if institution_id is not None:
            stmt = stmt.where(Coach.institution_id == institution_id)
        return list(self.session.scalars(stmt))

    # -- invites ------------------------------------------------------------------------------

    def add_invite(self, institution_id: int, code_hash: str, expires_at: datetime) -> CoachInvite:
        """Store an invite by the hash of its code."""
        if self.institution(institution_id) is None:
            raise ValueError(f"no institution with id {institution_id}")
        row = CoachInvite(institution_id=institution_id, code_hash=code_hash, expires_at=moment(expires_at))
        self.session.add(row)
        self.session.flush()
        return row

    def invite(self, code_hash: str) -> CoachInvite | None:
        return self.session.scalars(select(CoachInvite).where(CoachInvite.code_hash == code_hash)).one_or_none()

    def use_invite(self, invite_id: int, user_id: int, at: datetime | None = None) -> bool:
        """Mark an invite used by `user_id`; False if it was used already (also by a
        concurrent request: the conditional UPDATE lets exactly one win)."""
        stmt = (
            update(CoachInvite)
            .where(CoachInvite.id == invite_id, CoachInvite.used_at.is_(None))
            .values(used_at=moment(at), used_by_user_id=user_id)
        )
        return rowcount(self.session.execute(stmt)) == 1
