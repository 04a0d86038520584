"""Rows that several test modules need to start from, written through the repositories."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.storage import Database, Repositories


def seed_cohort(database: Database, size: int, *, first_chat: int, code: str, at: datetime) -> int:
    """A coach (Telegram chat `first_chat - 1`) and a WIB cohort `code` of `size` consented members
    with Telegram chats `first_chat`, `first_chat + 1`…, named "Anggota N", who joined a day before
    `at`; the cohort id."""
    with database.transaction() as session:
        repos = Repositories(session)
        institution = repos.coaches.add_institution("Dinas")
        coach_user, _ = repos.users.get_or_create("telegram", str(first_chat - 1))
        repos.users.give_consent(coach_user, at)
        coach = repos.coaches.add_coach(coach_user.id, institution.id, "Rina")
        cohort = repos.cohorts.create(coach.id, "Sentra", "sentra", "Asia/Jakarta", code)
        for n in range(size):
            user, _ = repos.users.get_or_create("telegram", str(first_chat + n))
            repos.users.give_consent(user, at)
            repos.users.update_profile(user, name=f"Anggota {n}")
            repos.cohorts.join(cohort.id, user.id, None, at=at - timedelta(days=1))
        return cohort.id
