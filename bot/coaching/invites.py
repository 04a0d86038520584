"""One-time coach invites: made by an admin, redeemed once by the person who opens the link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bot.coaching.links import hash_code, new_invite_code
from bot.storage import Coach, Repositories, User

__all__ = ["Invite", "InviteProblem", "check_invite", "create_invite", "redeem_invite"]


@dataclass(frozen=True)
class Invite:
    """A fresh invite: the code is shown once (only its hash is stored)."""

    code: str
    institution_id: int
    expires_at: datetime


InviteProblem = Literal["unknown", "used", "expired", "already_coach"]


def create_invite(repos: Repositories, institution_id: int, now: datetime, days: int) -> Invite:
    """Store a new invite for the institution, valid for `days`."""
    code = new_invite_code()
    expires = now + timedelta(days=days)
    repos.coaches.add_invite(institution_id, hash_code(code), expires)
    return Invite(code, institution_id, expires)


def check_invite(repos: Repositories, user: User, code: str, now: datetime) -> InviteProblem | None:
    """Why the invite cannot be redeemed by `user`, or None when it can."""
    invite = repos.coaches.invite(hash_code(code))
    if invite is None:
        return "unknown"
    if invite.used_at is not None:
        return "used"
    if invite.expires_at <= now:
        return "expired"
    if user.id is not None and repos.coaches.for_user(user.id) is not None:
        return "already_coach"
    return None


def redeem_invite(repos: Repositories, user: User, code: str, name: str, now: datetime) -> Coach | InviteProblem:
    """Make `user` a coach of the invite's institution; the coach, or why not. The invite is
    used up by a conditional update, so two people opening one link at once cannot both win."""
    problem = check_invite(repos, user, code, now)
    if problem is not None:
        return problem
    invite = repos.coaches.invite(hash_code(code))
    assert invite is not None
    if not repos.coaches.use_invite(invite.id, user.id, at=now):
        return "used"
    return repos.coaches.add_coach(user.id, invite.institution_id, name)
