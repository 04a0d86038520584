"""Dashboard sign-in: one-time login links and browser / Mini App sessions (hashes only)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from bot.storage.repos._common import moment, rowcount
from bot.storage.web_models import WebLogin, WebSession

__all__ = ["WebRepository"]


class WebRepository:
    """Login links and sessions of one session; never commits. Callers pass hashes, never the
    codes or tokens themselves."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- one-time login links -----------------------------------------------------------------

    def add_login(self, user_id: int, code_hash: str, expires_at: datetime, at: datetime | None = None) -> WebLogin:
        row = WebLogin(user_id=user_id, code_hash=code_hash, expires_at=moment(expires_at), created_at=moment(at))
        self.session.add(row)
        self.session.flush()
        return row

    def login(self, code_hash: str) -> WebLogin | None:
        return self.session.scalars(select(WebLogin).where(WebLogin.code_hash == code_hash)).one_or_none()

    def use_login(self, code_hash: str, now: datetime) -> int | None:
        """Spend a link: the user id when it was unused and unexpired, else None. One UPDATE with
        the conditions in its WHERE clause, so two concurrent uses cannot both succeed."""
        at = moment(now)
        row = self.login(code_hash)
        if row is None:
            return None
        result = self.session.execute(
            update(WebLogin)
            .where(WebLogin.id == row.id, WebLogin.used_at.is_(None), WebLogin.expires_at > at)
            .values(used_at=at)
            .execution_options(synchronize_session=False)
        )
        if rowcount(result) != 1:
            return None
        self.session.expire(row)
        return row.user_id

    # -- sessions -----------------------------------------------------------------------------

    def add_session(
        self, user_id: int, token_hash: str, csrf_token: str, expires_at: datetime, at: datetime | None = None
    ) -> WebSession:
        now = moment(at)
        row = WebSession(
            user_id=user_id,
            token_hash=token_hash,
            csrf_token=csrf_token,
            expires_at=moment(expires_at),
            created_at=now,
            last_seen_at=now,
        )
        self.session.add(row)
        self.session.flush()
        return row

    def live_session(self, token_hash: str, now: datetime) -> WebSession | None:
        """The session with this token hash if it is neither revoked nor expired."""
        stmt = select(WebSession).where(
            WebSession.token_hash == token_hash,
            WebSession.revoked_at.is_(None),
            WebSession.expires_at > moment(now),
        )
        return self.session.scalars(stmt).one_or_none()

    def touch(self, row: WebSession, now: datetime) -> None:
        row.last_seen_at = moment(now)

    def revoke(self, row: WebSession, now: datetime) -> None:
        row.revoked_at = moment(now)
        self.session.flush()

    def revoke_all(self, user_id: int, now: datetime) -> int:
        """End every session of a user (e.g. after they stopped being a coach)."""
        result = self.session.execute(
            update(WebSession)
            .where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None))
            .values(revoked_at=moment(now))
            .execution_options(synchronize_session=False)
        )
        return rowcount(result)

    def purge(self, now: datetime) -> int:
        """Delete spent or expired links and ended sessions; how many rows went."""
        at = moment(now)
        logins = self.session.execute(
            delete(WebLogin).where(or_(WebLogin.used_at.is_not(None), WebLogin.expires_at <= at))
        )
        sessions = self.session.execute(
            delete(WebSession).where(or_(WebSession.revoked_at.is_not(None), WebSession.expires_at <= at))
        )
        return rowcount(logins) + rowcount(sessions)
