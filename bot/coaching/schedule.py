"""One scheduler pass: turn everything that fell due into outbox rows — reminder occurrences,
event notices, weekly check-ins and nudges, silent-member flags, coach digests. Each part runs in
its own transaction, so a failure in one does not hold back the others and nothing is
half-written. Run by one process at a time (bot.delivery.scheduler holds the lease)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.coaching.checkins import run_due_checkins, run_silent_flags
from bot.coaching.digest import run_digests
from bot.coaching.events import run_due_notices
from bot.coaching.quiet_hours import QuietHours
from bot.coaching.reminders import run_due_reminders
from bot.config import Settings
from bot.storage import Database, Repositories, run_with_retry

__all__ = ["PassResult", "run_pass"]

log = logging.getLogger(__name__)


@dataclass
class PassResult:
    """Counts of one pass, for logs and tests."""

    reminder_occurrences: int = 0
    missed: int = 0
    messages: int = 0
    failed_parts: list[str] = field(default_factory=list)


def run_pass(database: Database, settings: Settings, now: datetime, *, silent_flags: bool = True) -> PassResult:
    """Queue what is due at `now`."""
    engagement = settings.engagement
    grace = timedelta(minutes=engagement.grace_minutes)
    quiet = QuietHours(engagement.quiet_start, engagement.quiet_end)
    hours = tuple(engagement.event_reminder_hours)
    result = PassResult()

    def reminders(repos: Repositories) -> None:
        run = run_due_reminders(repos, now, grace=grace, quiet=quiet)
        result.reminder_occurrences += run.occurrences
        result.missed += run.missed
        result.messages += run.messages

    def notices(repos: Repositories) -> None:
        result.messages += run_due_notices(
            repos, now, grace=grace, reminder_hours=hours, rating_time=engagement.rating_time
        )

    def checkins(repos: Repositories) -> None:
        nudge_after = timedelta(weeks=engagement.nudge_weeks)
        result.messages += run_due_checkins(repos, now, grace=grace, quiet=quiet, nudge_after=nudge_after)

    def silent(repos: Repositories) -> None:
        result.messages += run_silent_flags(repos, now, silent_days=settings.coaching.silent_days, quiet=quiet)

    def digests(repos: Repositories) -> None:
        result.messages += run_digests(
            repos,
            now,
            weekday=engagement.digest_weekday,
            at=engagement.digest_time,
            grace=max(grace, timedelta(hours=12)),
            silent_days=settings.coaching.silent_days,
        )

    parts = [("reminders", reminders), ("notices", notices), ("checkins", checkins), ("digests", digests)]
    if silent_flags:
        parts.insert(3, ("silent", silent))
    for name, part in parts:
        try:
            run_with_retry(lambda part=part: _in_transaction(database, part))
        except Exception:  # noqa: BLE001 - one failing part must not stop the others; it retries next pass
            log.exception("scheduler part %s failed", name)
            result.failed_parts.append(name)
    return result


def _in_transaction(database: Database, part) -> None:  # type: ignore[no-untyped-def]
    with database.transaction() as session:
        part(Repositories(session))
