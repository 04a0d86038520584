"""Weekly check-ins with one-tap answers, a nudge when the next milestone has not moved for weeks,
and a flag to the coach when a member has gone quiet."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from bot.coaching.outgoing import ButtonSpec, queue_message
from bot.coaching.quiet_hours import QuietHours
from bot.core import callbacks
from bot.progress.milestones import Milestone, milestones_for_sector, next_suggested
from bot.storage import Cohort, Repositories, User

__all__ = ["next_checkin", "run_due_checkins", "run_silent_flags", "set_checkin"]


def next_checkin(cohort: Cohort, after: datetime) -> datetime | None:
    """The first check-in moment strictly after `after`, on the cohort's local calendar."""
    if cohort.checkin_weekday is None or cohort.checkin_time is None:
        return None
    zone = ZoneInfo(cohort.timezone)
    local = after.astimezone(zone)
    at = time.fromisoformat(cohort.checkin_time)
    candidate = datetime.combine(local.date(), at, tzinfo=zone) + relativedelta(weekday=cohort.checkin_weekday)
    if candidate <= local:
        candidate = datetime.combine((local + timedelta(days=1)).date(), at, tzinfo=zone) + relativedelta(
            weekday=cohort.checkin_weekday
        )
    return candidate.astimezone(after.tzinfo)


def set_checkin(cohort: Cohort, weekday: int | None, at: str | None, now: datetime) -> None:
    """Turn weekly check-ins on (weekday 0 = Monday, "HH:MM") or off (None)."""
    if weekday is None or at is None:
        cohort.checkin_weekday = cohort.checkin_time = cohort.next_checkin_at = None
        return
    if not 0 <= weekday <= 6:
        raise ValueError("weekday 0-6")
    time.fromisoformat(at)
    cohort.checkin_weekday, cohort.checkin_time = weekday, at
    cohort.next_checkin_at = next_checkin(cohort, now)


def _next_milestone(repos: Repositories, user: User) -> Milestone | None:
    return next_suggested(milestones_for_sector(user.sector), repos.milestones.done_ids(user.id))


def _title(milestone: Milestone, locale: str) -> str:
    return milestone.title_en if locale == "en" else milestone.title_id


def run_due_checkins(
    repos: Repositories, now: datetime, *, grace: timedelta, quiet: QuietHours, nudge_after: timedelta
) -> int:
    """Queue this week's check-in for every member who has not switched them off, and the
    how-to nudges; advance each cohort's next check-in. Returns messages queued."""
    queued = 0
    for cohort in repos.cohorts.due_checkins(now):
        due = cohort.next_checkin_at
        assert due is not None
        if now - due <= grace:
            for membership, user in repos.cohorts.members(cohort.id):
                if user.checkins_off or user.blocked_at is not None:
                    continue
                milestone = _next_milestone(repos, user)
                queued += _checkin(repos, cohort, user, milestone, due, now, quiet)
                since = max([membership.joined_at, *(e.at for e in repos.milestones.events(user.id)[-1:])])
                if milestone is not None and now - since >= nudge_after:
                    queued += _nudge(repos, cohort, user, milestone, now, quiet)
        cohort.next_checkin_at = next_checkin(cohort, now)
    return queued


def _checkin(
    repos: Repositories,
    cohort: Cohort,
    user: User,
    milestone: Milestone | None,
    due: datetime,
    now: datetime,
    quiet: QuietHours,
) -> int:
    buttons: list[list[ButtonSpec]] = [[("checkin_record", (), callbacks.encode("ci", "c"))]]
    if milestone is not None:
        buttons.append([("checkin_done", (_title(milestone, user.locale),), callbacks.encode("ci", "m", milestone.id))])
    buttons.append([("ask_coach", (), callbacks.encode("coach", 0))])
    buttons.append([("checkin_off", (), callbacks.encode("ci", "off"))])
    row = queue_message(
        repos,
        user,
        "checkin",
        f"checkin:{cohort.id}:{due.strftime('%Y%m%d')}:{user.id}",
        "checkin_message",
        {
            "name": user.name,
            "cohort": cohort.name,
            "step": None if milestone is None else _title(milestone, user.locale),
        },
        buttons=buttons,
        subject=("checkin", cohort.id),
        not_before=quiet.release(now, cohort.timezone),
    )
    return int(row is not None)


def _nudge(
    repos: Repositories, cohort: Cohort, user: User, milestone: Milestone, now: datetime, quiet: QuietHours
) -> int:
    entry_id = milestone.knowledge_for(user.sector)
    row = queue_message(
        repos,
        user,
        "nudge",
        f"nudge:{user.id}:{milestone.id}",  # once per member and milestone, ever
        "nudge_message",
        {"step": _title(milestone, user.locale)},
        buttons=[[("nudge_how", (), callbacks.encode("e", entry_id))]],
        subject=("checkin", cohort.id),
        not_before=quiet.release(now, cohort.timezone),
    )
    return int(row is not None)


def run_silent_flags(repos: Repositories, now: datetime, *, silent_days: int, quiet: QuietHours) -> int:
    """Tell each coach, once per silence, which members have been quiet for `silent_days`."""
    queued = 0
    for membership, cohort, user in repos.cohorts.silent_members(now - timedelta(days=silent_days)):
        last = user.last_active_at or membership.joined_at
        key = f"silent:{cohort.id}:{user.id}:{last.strftime('%Y%m%d')}"
        if repos.outbox.queued(key):
            continue
        coach = repos.coaches.coach(cohort.coach_id)
        coach_user = repos.users.by_id(coach.user_id) if coach else None
        if coach_user is None:
            continue
        row = queue_message(
            repos,
            coach_user,
            "silent_member",
            key,
            "silent_member",
            {"member": user.name or f"#{user.id}", "cohort": cohort.name, "days": (now - last).days},
            buttons=[[("personal_message", (), callbacks.encode("sp", cohort.id, user.id))]],
            subject=("silent", cohort.id),
            about_user_id=user.id,
            not_before=quiet.release(now, cohort.timezone),
        )
        queued += row is not None
    return queued
