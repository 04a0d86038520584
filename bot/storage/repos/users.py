"""Users: lookup, concurrent-safe creation, consent, profile, and erasure."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.storage.models import CHANNELS, LOCALES, SECTORS, Base, User
from bot.storage.repos._common import check_choice, moment, rowcount

__all__ = ["PERSONAL_FIELDS", "ConsentRequiredError", "UserRepository"]

# Profile fields that identify or describe a person: written only after consent.
PERSONAL_FIELDS = frozenset({"name", "sector", "district", "products"})


class ConsentRequiredError(PermissionError):
    """Personal data was about to be stored for a user who has not consented."""


def _user_owned_columns() -> list[Column[Any]]:
    """Every column that points at users with ON DELETE CASCADE, found from the metadata so
    that a table added later is erased too (tests check every table). Columns with SET NULL
    (who used an invite) are cleared by the database itself."""
    users = User.__table__
    owned = [
        fk.parent
        for table in Base.metadata.sorted_tables
        if table is not users
        for fk in table.foreign_keys
        if fk.column.table is users and (fk.ondelete or "").upper() == "CASCADE"
    ]
    # The user's own rows first (an RSVP row goes as rsvps, not as a cascade of an event that
    # was aimed at the user), then rows that merely point at them.
    return sorted(owned, key=lambda column: (column.name != "user_id", column.table.name, column.name))


class UserRepository:
    """Users of one session; never commits (the caller's transaction does)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, channel: str, external_id: str, *, lock: bool = False) -> User | None:
        """The user known on `channel` as `external_id`, if any; with `lock`, their row is locked
        until the transaction ends (PostgreSQL), so one user's updates handled by several
        processes take effect one after the other (SQLite serialises writers anyway)."""
        stmt = select(User).where(User.channel == channel, User.external_id == external_id)
        if lock and self.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        return self.session.scalars(stmt).one_or_none()

    def by_id(self, user_id: int) -> User | None:
        """The user with this primary key, if any."""
        return self.session.get(User, user_id)

    def get_or_create(
        self,
        channel: str,
        external_id: str,
        locale: str = "id",
        *,
        start_payload: str | None = None,
    ) -> tuple[User, bool]:
        """The user, creating it if new; returns (user, created).

        Safe when two updates of a new user are handled at once: the INSERT runs in a
        SAVEPOINT, and if another transaction won the race only the savepoint is rolled
        back and the winner's row is selected, leaving this transaction usable.
        """
        check_choice("channel", channel, CHANNELS)
        check_choice("locale", locale, LOCALES)
        user = self.get(channel, external_id)
        if user is not None:
            return user, False
        user = User(
            channel=channel, external_id=external_id, locale=locale, start_payload=start_payload
        )
        try:
            with self.session.begin_nested():
                self.session.add(user)
        except IntegrityError:
            winner = self.get(channel, external_id)
            if winner is None:  # a different constraint failed: not a race
                raise
            return winner, False
        return user, True

    def give_consent(self, user: User, at: datetime | None = None) -> None:
        """Record consent (once; a repeated consent keeps the first moment)."""
        if user.consent_at is None:
            user.consent_at = moment(at)

    def set_locale(self, user: User, locale: str) -> None:
        """Change the user's language."""
        check_choice("locale", locale, LOCALES)
        user.locale = locale

    def update_profile(self, user: User, **fields: str | None) -> None:
        """Set profile fields (name, sector, district, products); needs consent first."""
        unknown = set(fields) - PERSONAL_FIELDS
        if unknown:
            raise ValueError(f"not profile fields: {', '.join(sorted(unknown))}")
        if user.consent_at is None and any(v is not None for v in fields.values()):
            raise ConsentRequiredError(f"user {user.id} has not consented")
        check_choice("sector", fields.get("sector"), SECTORS)
        for name, value in fields.items():
            setattr(user, name, value)

    def delete_user_data(self, user: User) -> dict[str, int]:
        """Erase the user and everything recorded about them; rows deleted per table.

        Deleted table by table rather than relying on ON DELETE CASCADE alone, so the
        user can be told what was removed.
        """
        counts: dict[str, int] = {}
        for column in _user_owned_columns():
            stmt = delete(column.table).where(column == user.id)
            deleted = rowcount(self.session.execute(stmt))
            counts[column.table.name] = counts.get(column.table.name, 0) + deleted
        stmt = delete(User).where(User.id == user.id)
        counts[User.__tablename__] = rowcount(self.session.execute(stmt))
        return counts
