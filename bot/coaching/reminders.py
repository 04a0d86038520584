"""Reminders: made by a coach for an audience of a cohort, kept in the database, and turned into
outbox rows by the scheduler when each occurrence falls due — exactly once per occurrence and
recipient (the occurrence row and the outbox rows' dedupe keys are unique)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.coaching.audience import Audience, select
from bot.coaching.outgoing import message_row
from bot.coaching.personalize import TemplateProblem, check_text, render_for
from bot.coaching.quiet_hours import QuietHours
from bot.coaching.recurrence import Schedule, parse_local
from bot.storage import Cohort, Reminder, Repositories

__all__ = [
    "DueRun",
    "cancel",
    "create_reminder",
    "delivery_figures",
    "pause",
    "resume",
    "run_due_reminders",
    "schedule_of",
]

# Each occurrence has its own delivery report: outbox rows carry (SUBJECT, occurrence id).
SUBJECT = "reminder_occurrence"
# A reminder down for months records each missed occurrence, but not unboundedly many per run.
MAX_OCCURRENCES_PER_RUN = 500


def schedule_of(reminder: Reminder) -> Schedule:
    return Schedule(parse_local(reminder.start_local), reminder.timezone, reminder.rrule)


def create_reminder(
    repos: Repositories,
    cohort: Cohort,
    coach_id: int | None,
    text: str,
    schedule: Schedule,
    audience: Audience,
    now: datetime,
) -> Reminder:
    """Store a reminder after checking its text (TemplateProblem) and that it has a future
    occurrence (ValueError "no_future_occurrence")."""
    check_text(text)
    first = schedule.after(now - timedelta(microseconds=1))
    if first is None:
        raise ValueError("no_future_occurrence")
    return repos.reminders.add(
        cohort.id,
        coach_id,
        text,
        schedule.start_local.isoformat(timespec="minutes"),
        schedule.timezone,
        schedule.rrule,
        first,
        audience=audience.kind,
        audience_milestone=audience.milestone,
        audience_user_id=audience.user_id,
    )


def audience_of(reminder: Reminder) -> Audience:
    return Audience(reminder.audience, reminder.audience_milestone, reminder.audience_user_id)


def pause(repos: Repositories, reminder: Reminder) -> None:
    if reminder.status == "active":
        repos.reminders.set_status(reminder, "paused")


def resume(repos: Repositories, reminder: Reminder, now: datetime) -> None:
    """Active again from now on: occurrences that passed while paused are skipped, not missed."""
    if reminder.status != "paused":
        return
    following = schedule_of(reminder).after(now)
    reminder.next_at = following
    repos.reminders.set_status(reminder, "active" if following is not None else "done")


def cancel(repos: Repositories, reminder: Reminder) -> None:
    if reminder.status in ("active", "paused"):
        repos.reminders.set_status(reminder, "cancelled")
        reminder.next_at = None


def delivery_figures(repos: Repositories, reminder: Reminder) -> dict[str, int]:
    """Outbox states of the reminder's latest queued occurrence (all zeros before the first)."""
    latest = next((o for o in repos.reminders.occurrences(reminder.id) if o.state == "queued"), None)
    return repos.outbox.counts(subject_type=SUBJECT, subject_id=-1 if latest is None else latest.id)


@dataclass
class DueRun:
    """What one scheduler pass did with reminders."""

    occurrences: int = 0
    missed: int = 0
    messages: int = 0


def run_due_reminders(
    repos: Repositories, now: datetime, *, grace: timedelta, quiet: QuietHours, limit: int = 100
) -> DueRun:
    """Queue every due occurrence (within `grace`) or record it missed; advance `next_at`."""
    run = DueRun()
    for reminder in repos.reminders.due(now, limit):
        cohort = repos.cohorts.by_id(reminder.cohort_id)
        schedule = schedule_of(reminder)
        occurs = reminder.next_at
        steps = 0
        while occurs is not None and occurs <= now and steps < MAX_OCCURRENCES_PER_RUN:
            steps += 1
            if cohort is None or cohort.archived_at is not None:
                break
            if now - occurs <= grace:
                occurrence_id = repos.reminders.add_occurrence(reminder.id, occurs, "queued", 0)
                if occurrence_id is not None:  # None: queued before (a second scheduler, a retry)
                    count = _queue_occurrence(repos, reminder, cohort, occurs, occurrence_id, now, quiet)
                    repos.reminders.set_recipients(occurrence_id, count)
                    run.occurrences += 1
                    run.messages += count
            elif repos.reminders.add_occurrence(reminder.id, occurs, "missed", 0) is not None:
                run.missed += 1
            reminder.last_at = occurs
            occurs = schedule.after(occurs)
        reminder.next_at = occurs
        if occurs is None or cohort is None or cohort.archived_at is not None:
            repos.reminders.set_status(reminder, "done")
    return run


def _queue_occurrence(
    repos: Repositories,
    reminder: Reminder,
    cohort: Cohort,
    occurs: datetime,
    occurrence_id: int,
    now: datetime,
    quiet: QuietHours,
) -> int:
    selection = select(repos, cohort, audience_of(reminder), now)
    coach = repos.coaches.coach(reminder.coach_id) if reminder.coach_id else None
    stamp = occurs.strftime("%Y%m%dT%H%M")
    done = repos.milestones.done_for_users([u.id for u in selection.users])
    rows = []
    for user in selection.users:
        try:
            body = render_for(repos, reminder.text, user, cohort, done=done[user.id]).html
        except TemplateProblem:
            continue  # cannot happen for a text that passed check_text; never a broken message
        rows.append(
            message_row(
                user,
                "reminder",
                f"reminder:{reminder.id}:{stamp}:{user.id}",
                "reminder_message",
                {"body": body, "coach": None if coach is None else coach.name, "cohort": cohort.name},
                subject=(SUBJECT, occurrence_id),
                not_before=quiet.release(max(occurs, now), cohort.timezone),
            )
        )
    return repos.outbox.enqueue_many(rows)
