"""A weekly digest for each coach: what needs them, in one message."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select

from bot.coaching.broadcasts import broadcast_report
from bot.coaching.cohort_view import class_went_up, member_rows
from bot.coaching.handoff import member_label
from bot.coaching.outgoing import queue_message
from bot.storage import ClassHistory, Coach, QuestionLog, Reminder, ReminderOccurrence, Repositories

__all__ = ["digest_moment", "run_digests"]

# The parts of a digest that are news; with none of them there is no digest that week.
_NEWS = ("open_questions", "unanswered", "silent", "went_up", "events", "broadcasts", "missed_reminders")


def digest_moment(now: datetime, timezone: str, weekday: int, at: str) -> datetime:
    """The latest scheduled digest moment at or before `now` (weekday 0 = Monday, local time)."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    this_week = datetime.combine(local.date(), time.fromisoformat(at), tzinfo=zone) + relativedelta(weekday=weekday)
    if this_week > local:
        this_week -= timedelta(weeks=1)
    return this_week.astimezone(now.tzinfo)


def run_digests(
    repos: Repositories, now: datetime, *, weekday: int, at: str, grace: timedelta, silent_days: int
) -> int:
    """Queue this week's digest for each coach with cohorts, once; returns how many."""
    queued = 0
    for coach in repos.coaches.coaches():
        cohorts = repos.cohorts.for_coach(coach.id)
        if not cohorts:
            continue
        moment = digest_moment(now, cohorts[0].timezone, weekday, at)
        key = f"digest:{coach.id}:{moment.strftime('%Y%m%d')}"
        if now - moment > grace or repos.outbox.queued(key):
            continue
        coach_user = repos.users.by_id(coach.user_id)
        if coach_user is None:
            continue
        context = _digest(repos, coach, now, silent_days)
        if not any(context[part] for part in _NEWS):
            continue  # nothing needs the coach this week: no message to read
        queued += queue_message(repos, coach_user, "digest", key, "coach_digest", context) is not None
    return queued


def _digest(repos: Repositories, coach: Coach, now: datetime, silent_days: int) -> dict[str, object]:
    week_ago = now - timedelta(days=7)
    cohorts = repos.cohorts.for_coach(coach.id)
    rows = [(c, r) for c in cohorts for r in member_rows(repos, c, now, silent_days=silent_days)]
    member_ids = [r.user_id for _, r in rows]
    names = {r.user_id: r.name or f"#{r.user_id}" for _, r in rows}
    open_threads = [t for t in repos.handoffs.for_coach(coach.id, "open") if t.user_id in names]
    # Questions the bot could not answer or that got a thumbs-down: shown without names.
    questions = list(
        repos.session.scalars(
            select(QuestionLog.text)
            .where(
                QuestionLog.user_id.in_(member_ids or [-1]),
                QuestionLog.created_at >= week_ago,
                (QuestionLog.answered.is_(False)) | (QuestionLog.feedback == "down"),
            )
            .order_by(QuestionLog.created_at)
            .limit(10)
        )
    )
    went_up = sorted(
        {
            names[user_id]
            for (user_id,) in repos.session.execute(
                select(ClassHistory.user_id).where(
                    ClassHistory.user_id.in_(member_ids or [-1]), ClassHistory.recorded_at >= week_ago
                )
            )
            if any(r.user_id == user_id and class_went_up(r.class_at_join, r.class_now) for _, r in rows)
        }
    )
    events = repos.events.for_cohorts([c.id for c in cohorts], since=now)
    missed = repos.session.scalar(
        select(func.count())
        .select_from(ReminderOccurrence)
        .join(Reminder, Reminder.id == ReminderOccurrence.reminder_id)
        .where(
            Reminder.cohort_id.in_([c.id for c in cohorts]),
            ReminderOccurrence.state == "missed",
            ReminderOccurrence.created_at >= week_ago,
        )
    )
    return {
        "coach": coach.name,
        "open_questions": [
            (member_label(repos.users.by_id(t.user_id)), repos.handoffs.first_question(t.id), t.created_at)  # type: ignore[arg-type]
            for t in open_threads[:10]
        ],
        "open_total": len(open_threads),
        "unanswered": questions,
        "silent": sorted({names[r.user_id] for _, r in rows if r.silent}),
        "went_up": went_up,
        "events": [
            (e.title, e.starts_at.astimezone(ZoneInfo(e.timezone)), repos.events.counts(e.id)) for e in events[:5]
        ],
        "broadcasts": [broadcast_report(repos, b) for b in repos.broadcasts.for_cohorts([c.id for c in cohorts], 3)],
        "missed_reminders": int(missed or 0),
    }
