"""Who may do what: roles and ownership, checked on the server for every request and button.

Every coach action — in chat, on the command line's behalf of a person, or on a dashboard page —
asks `CoachAccess` for the cohort, member or thread it wants to touch. A refusal raises
`AccessDenied`, which the caller turns into a polite reply; it is logged with the user id and
the action only (no names, no texts).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from bot.storage import Cohort, HandoffThread, Membership, Repositories, User

__all__ = ["AccessDenied", "Actor", "CoachAccess", "Who", "actor_for"]

log = logging.getLogger(__name__)


class Who(StrEnum):
    """Who may use a command or button."""

    ANYONE = "anyone"  # also before consent
    MEMBER = "member"  # an entrepreneur (or anyone) who has consented
    COACH = "coach"  # a coach or an admin
    ADMIN = "admin"


class AccessDenied(PermissionError):
    """The actor may not do `action`; nothing was changed."""

    def __init__(self, action: str, user_id: int | None) -> None:
        super().__init__(f"{action} refused for user {user_id}")
        self.action = action
        self.user_id = user_id


@dataclass(frozen=True)
class Actor:
    """The person making a request, with what they may do."""

    user_id: int | None
    consented: bool
    is_admin: bool
    coach_id: int | None

    @property
    def is_coach(self) -> bool:
        return self.coach_id is not None

    def may(self, who: Who) -> bool:
        """Whether this actor passes a route's `who`."""
        if who is Who.ANYONE:
            return True
        if who is Who.MEMBER:
            return self.consented
        if who is Who.COACH:
            return self.consented and (self.is_coach or self.is_admin)
        return self.consented and self.is_admin


def actor_for(repos: Repositories, user: User, admins: frozenset[tuple[str, str]]) -> Actor:
    """The actor for a user row (transient and unconsented users are plain visitors)."""
    if user.id is None or user.consent_at is None:
        return Actor(user.id, False, False, None)
    coach = repos.coaches.for_user(user.id)
    return Actor(
        user.id,
        True,
        (user.channel, user.external_id) in admins,
        None if coach is None else coach.id,
    )


class CoachAccess:
    """Ownership checks for coach actions; admins pass every check."""

    def __init__(self, repos: Repositories, actor: Actor) -> None:
        self.repos = repos
        self.actor = actor

    def refuse(self, action: str) -> AccessDenied:
        """Log a refusal (user id and action only) and return the exception to raise."""
        log.warning("access refused: user=%s action=%s", self.actor.user_id, action)
        return AccessDenied(action, self.actor.user_id)

    def require(self, who: Who, action: str) -> None:
        if not self.actor.may(who):
            raise self.refuse(action)

    @property
    def coach_scope(self) -> int | None:
        """The coach id whose data the actor sees; None for an admin (everything)."""
        if self.actor.is_admin:
            return None
        if self.actor.coach_id is None:
            raise self.refuse("coach-scope")
        return self.actor.coach_id

    def cohorts(self) -> list[Cohort]:
        """The cohorts the actor may see (an admin: all)."""
        self.require(Who.COACH, "cohorts")
        return self.repos.cohorts.for_coach(self.coach_scope)

    def cohort(self, cohort_id: int, action: str = "cohort") -> Cohort:
        """A cohort the actor runs (or any, for an admin)."""
        self.require(Who.COACH, action)
        cohort = self.repos.cohorts.by_id(cohort_id)
        if cohort is None or cohort.archived_at is not None:
            raise self.refuse(action)
        if not self.actor.is_admin and cohort.coach_id != self.actor.coach_id:
            raise self.refuse(action)
        return cohort

    def member(self, cohort_id: int, user_id: int, action: str = "member") -> tuple[Cohort, Membership, User]:
        """An ACTIVE member of a cohort the actor may see: after leaving, nobody sees them."""
        cohort = self.cohort(cohort_id, action)
        membership = self.repos.cohorts.membership(cohort.id, user_id)
        user = self.repos.users.by_id(user_id)
        if membership is None or user is None:
            raise self.refuse(action)
        return cohort, membership, user

    def thread(self, thread_id: int, action: str = "thread") -> HandoffThread:
        """A hand-off thread addressed to the actor (as coach) whose member is still theirs."""
        self.require(Who.COACH, action)
        thread = self.repos.handoffs.thread(thread_id)
        if thread is None:
            raise self.refuse(action)
        if self.actor.is_admin:
            return thread
        if thread.coach_id != self.actor.coach_id:
            raise self.refuse(action)
        if not self.repos.cohorts.coach_sees_member(self.actor.coach_id, thread.user_id):
            raise self.refuse(action)
        return thread

    def own_thread(self, thread_id: int, action: str = "own-thread") -> HandoffThread:
        """A hand-off thread the actor started as a member."""
        self.require(Who.MEMBER, action)
        thread = self.repos.handoffs.thread(thread_id)
        if thread is None or thread.user_id != self.actor.user_id:
            raise self.refuse(action)
        return thread
