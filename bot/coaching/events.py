"""Training invitations: RSVP (Hadir / Tidak bisa / Mungkin) until closing, a quota with a waiting
list in order, promotion when someone cancels, an .ics file for those coming, reminders before,
attendance after, and a one-tap rating the next morning. Messages to others go to the outbox in
the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from icalendar import Calendar
from icalendar import Event as IcsEvent

from bot.coaching.audience import Audience, select
from bot.coaching.outgoing import ButtonSpec, queue_message
from bot.coaching.quiet_hours import QuietHours
from bot.core import callbacks
from bot.storage import Cohort, Event, Repositories, User

__all__ = [
    "EventView",
    "RsvpResult",
    "answer_rsvp",
    "cancel_event",
    "comment",
    "create_event",
    "event_view",
    "ics_file",
    "invitation_context",
    "mark_all_yes_attended",
    "mark_attendance",
    "notice_times",
    "rate",
    "run_due_notices",
]

SUBJECT = "event"
MAX_COMMENT = 1000
RsvpOutcome = Literal["placed", "waitlisted", "answered", "unchanged", "closed", "not_invited"]


@dataclass(frozen=True)
class RsvpResult:
    """What an RSVP did; `promoted` is the member moved up from the waiting list, if any."""

    outcome: RsvpOutcome
    promoted: User | None = None


def rsvp_buttons(event_id: int) -> list[list[ButtonSpec]]:
    return [[(f"rsvp_{a}", (), callbacks.encode("rv", event_id, a)) for a in ("yes", "no", "maybe")]]


def create_event(
    repos: Repositories,
    cohort: Cohort,
    coach_id: int | None,
    *,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    rsvp_closes_at: datetime,
    audience: Audience,
    now: datetime,
    quiet: QuietHours,
    place: str | None = None,
    online_link: str | None = None,
    description: str | None = None,
    quota: int | None = None,
    reminder_hours: tuple[int, ...] = (24, 2),
    rating_time: str = "08:00",
) -> tuple[Event, int]:
    """Store the event, invite the audience and queue the invitations; (event, invited)."""
    if not title.strip():
        raise ValueError("empty_title")
    if not now < starts_at < ends_at:
        raise ValueError("bad_times")
    if not now < rsvp_closes_at <= starts_at:
        raise ValueError("bad_closing")
    if quota is not None and quota < 1:
        raise ValueError("bad_quota")
    event = repos.events.add(
        cohort_id=cohort.id,
        coach_id=coach_id,
        title=title.strip()[:160],
        starts_at=starts_at,
        ends_at=ends_at,
        timezone=cohort.timezone,
        place=(place or "").strip()[:255] or None,
        online_link=(online_link or "").strip()[:500] or None,
        description=(description or "").strip() or None,
        quota=quota,
        rsvp_closes_at=rsvp_closes_at,
        audience=audience.kind,
        audience_milestone=audience.milestone,
        audience_user_id=audience.user_id,
    )
    event.next_notice_at = _next_notice(event, now, reminder_hours, rating_time)
    coach = repos.coaches.coach(coach_id) if coach_id else None
    invited = 0
    for user in select(repos, cohort, audience, now).users:
        if repos.events.invite(event.id, user.id, at=now):
            invited += 1
            queue_message(
                repos,
                user,
                "event_invitation",
                f"event:{event.id}:invite:{user.id}",
                "event_invitation",
                invitation_context(event, None if coach is None else coach.name, cohort.name),
                buttons=rsvp_buttons(event.id),
                subject=(SUBJECT, event.id),
                not_before=quiet.release(now, cohort.timezone),
            )
    return event, invited


def invitation_context(event: Event, coach: str | None, cohort: str) -> dict[str, object]:
    """What the invitation shows; also the coach's preview of an event not stored yet."""
    return {**_event_context(event), "coach": coach, "cohort": cohort}


def _event_context(event: Event) -> dict[str, object]:
    zone = ZoneInfo(event.timezone)
    return {
        "title": event.title,
        "starts": event.starts_at.astimezone(zone),
        "ends": event.ends_at.astimezone(zone),
        "closes": event.rsvp_closes_at.astimezone(zone),
        "place": event.place,
        "online_link": event.online_link,
        "description": event.description,
        "quota": event.quota,
        "timezone": event.timezone,
    }


def answer_rsvp(repos: Repositories, event_id: int, user: User, answer: str, now: datetime) -> RsvpResult:
    """Record (or change) an answer; a "yes" beyond the quota waits in line, and a place freed
    by someone changing their mind goes to the first in line, who is told (outbox)."""
    event = repos.events.lock_event(event_id)
    if event is None or event.status != "open":
        return RsvpResult("closed")
    rsvp = repos.events.rsvp(event.id, user.id, lock=True)
    if rsvp is None:
        return RsvpResult("not_invited")
    if now >= event.rsvp_closes_at:
        return RsvpResult("closed")
    had_place = rsvp.answer == "yes" and rsvp.waitlisted_at is None
    if rsvp.answer == answer:
        return RsvpResult("unchanged")
    if answer == "yes":
        full = event.quota is not None and repos.events.confirmed_count(event.id) >= event.quota
        repos.events.set_answer(rsvp, "yes", waitlisted=full, at=now)
        return RsvpResult("waitlisted" if full else "placed")
    repos.events.set_answer(rsvp, answer, waitlisted=False, at=now)
    promoted = _promote(repos, event, now) if had_place else None
    return RsvpResult("answered", promoted)


def _promote(repos: Repositories, event: Event, now: datetime) -> User | None:
    """Give the freed place to the first on the waiting list and queue the news with the .ics."""
    waiting = repos.events.first_waiting(event.id)
    if waiting is None:
        return None
    waiting.waitlisted_at = None
    user = repos.users.by_id(waiting.user_id)
    if user is None:
        return None
    queue_message(
        repos,
        user,
        "event_promoted",
        f"event:{event.id}:promoted:{user.id}:{int(now.timestamp())}",
        "event_promoted",
        _event_context(event),
        buttons=rsvp_buttons(event.id),
        document=(f"pelatihan-{event.id}.ics", ics_file(event)),
        subject=(SUBJECT, event.id),
        urgent=True,
    )
    return user


def ics_file(event: Event) -> bytes:
    """An iCalendar file with the event's own time zone, for the phone's calendar."""
    zone = ZoneInfo(event.timezone)
    calendar = Calendar()
    calendar.add("prodid", "-//Pendamping UMKM//id")
    calendar.add("version", "2.0")
    item = IcsEvent()
    item.add("uid", f"event-{event.id}@pendamping-umkm")
    item.add("dtstamp", event.created_at)
    item.add("dtstart", event.starts_at.astimezone(zone))
    item.add("dtend", event.ends_at.astimezone(zone))
    item.add("summary", event.title)
    if event.place or event.online_link:
        item.add("location", event.place or event.online_link)
    if event.online_link:
        item.add("url", event.online_link)
    if event.description:
        item.add("description", event.description)
    calendar.add_component(item)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def mark_attendance(repos: Repositories, event: Event, user_id: int, attended: bool, now: datetime) -> bool:
    """Mark one invited person present or absent; False if they were not invited."""
    rsvp = repos.events.rsvp(event.id, user_id)
    if rsvp is None:
        return False
    rsvp.attended = attended
    rsvp.attendance_at = now
    return True


def mark_all_yes_attended(repos: Repositories, event: Event, now: datetime) -> int:
    """Everyone holding a place ("Hadir", not waiting) is marked present; how many."""
    marked = 0
    for rsvp, _ in repos.events.rsvps(event.id):
        if rsvp.answer == "yes" and rsvp.waitlisted_at is None and not rsvp.attended:
            rsvp.attended = True
            rsvp.attendance_at = now
            marked += 1
    return marked


def cancel_event(repos: Repositories, event: Event) -> int:
    """Cancel an open event and tell everyone invited (outbox, once each, blocked members left
    out); how many were told. No more notices go out; later RSVPs are answered "closed"."""
    if event.status != "open":
        return 0
    event.status = "cancelled"
    event.next_notice_at = None
    told = 0
    for _, user in repos.events.rsvps(event.id):
        if user.blocked_at is not None:
            continue
        row = queue_message(
            repos,
            user,
            "event_cancelled",
            f"event:{event.id}:cancelled:{user.id}",
            "event_cancelled",
            _event_context(event),
            subject=(SUBJECT, event.id),
            urgent=True,
        )
        told += row is not None
    return told


def comment(repos: Repositories, event_id: int, user_id: int, text: str) -> bool:
    """A short comment beside a rating (only after rating); False otherwise."""
    rsvp = repos.events.rsvp(event_id, user_id)
    text = " ".join(text.split())[:MAX_COMMENT]
    if rsvp is None or rsvp.rating is None or not text:
        return False
    rsvp.comment = text
    return True


def rate(repos: Repositories, event_id: int, user_id: int, rating: int, now: datetime) -> bool:
    """A 1-5 rating from someone who attended; False otherwise."""
    if not 1 <= rating <= 5:
        return False
    rsvp = repos.events.rsvp(event_id, user_id)
    if rsvp is None or not rsvp.attended:
        return False
    rsvp.rating = rating
    rsvp.rated_at = now
    return True


@dataclass
class EventView:
    """An event as its coach sees it: counts and names."""

    event: Event
    counts: dict[str, int]
    coming: list[tuple[int, str]] = field(default_factory=list)  # (user id, name)
    waiting: list[tuple[int, str]] = field(default_factory=list)
    maybe: list[tuple[int, str]] = field(default_factory=list)
    declined: list[tuple[int, str]] = field(default_factory=list)
    unanswered: list[tuple[int, str]] = field(default_factory=list)
    attended: set[int] = field(default_factory=set)
    ratings: list[int] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    # What became of the event's messages (invitations, reminders, ratings): outbox states.
    delivery: dict[str, int] = field(default_factory=dict)

    @property
    def average_rating(self) -> float | None:
        return sum(self.ratings) / len(self.ratings) if self.ratings else None


def event_view(repos: Repositories, event: Event) -> EventView:
    """Counts and names per answer; the waiting list in line order."""
    view = EventView(event, repos.events.counts(event.id))
    view.delivery = repos.outbox.counts(subject_type=SUBJECT, subject_id=event.id)
    waiting: list[tuple[datetime, int, str]] = []
    for rsvp, user in repos.events.rsvps(event.id):
        entry = (user.id, user.name or f"#{user.id}")
        if rsvp.answer == "yes" and rsvp.waitlisted_at is not None:
            waiting.append((rsvp.waitlisted_at, *entry))
        elif rsvp.answer == "yes":
            view.coming.append(entry)
        elif rsvp.answer == "maybe":
            view.maybe.append(entry)
        elif rsvp.answer == "no":
            view.declined.append(entry)
        else:
            view.unanswered.append(entry)
        if rsvp.attended:
            view.attended.add(user.id)
        if rsvp.rating is not None:
            view.ratings.append(rsvp.rating)
        if rsvp.comment:
            view.comments.append(rsvp.comment)
    view.waiting = [(user_id, name) for _, user_id, name in sorted(waiting)]
    return view


# -- notices before and after -----------------------------------------------------------------

Notice = tuple[datetime, str]  # (when, "before:<hours>" | "rating")


def notice_times(event: Event, reminder_hours: tuple[int, ...], rating_time: str) -> list[Notice]:
    """When to remind those coming, and when to ask attendees for a rating, in order."""
    notices: list[Notice] = [(event.starts_at - timedelta(hours=h), f"before:{h}") for h in reminder_hours]
    zone = ZoneInfo(event.timezone)
    next_day = (event.ends_at.astimezone(zone) + timedelta(days=1)).date()
    morning = datetime.combine(next_day, time.fromisoformat(rating_time), tzinfo=zone)
    notices.append((morning, "rating"))
    return sorted(notices)


def _next_notice(event: Event, after: datetime, reminder_hours: tuple[int, ...], rating_time: str) -> datetime | None:
    return next((at for at, _ in notice_times(event, reminder_hours, rating_time) if at > after), None)


def run_due_notices(
    repos: Repositories,
    now: datetime,
    *,
    grace: timedelta,
    reminder_hours: tuple[int, ...],
    rating_time: str,
    limit: int = 100,
) -> int:
    """Queue the notices that fell due (each once, by dedupe key; skipped when later than
    `grace`); advance each event's next_notice_at. Returns the messages queued."""
    queued = 0
    for event in repos.events.due_notices(now, limit):
        for at, kind in notice_times(event, reminder_hours, rating_time):
            if at > now or now - at > grace:
                continue
            queued += _queue_notice(repos, event, kind, at)
        event.next_notice_at = _next_notice(event, now, reminder_hours, rating_time)
    return queued


def _queue_notice(repos: Repositories, event: Event, kind: str, at: datetime) -> int:
    queued = 0
    context = _event_context(event)
    for rsvp, user in repos.events.rsvps(event.id):
        if user.blocked_at is not None:
            continue
        key = f"event:{event.id}:{kind}:{user.id}"
        if kind == "rating":
            if not rsvp.attended or rsvp.rating is not None:
                continue
            buttons = [[(f"star_{n}", (), callbacks.encode("rr", event.id, n)) for n in range(1, 6)]]
            row = queue_message(
                repos, user, "event_rating", key, "event_rating", context, buttons=buttons, subject=(SUBJECT, event.id)
            )
        else:
            if rsvp.answer != "yes" or rsvp.waitlisted_at is not None:
                continue
            row = queue_message(
                repos,
                user,
                "event_reminder",
                key,
                "event_reminder",
                {**context, "hours": int(kind.split(":")[1])},
                subject=(SUBJECT, event.id),
                urgent=True,
            )
        queued += row is not None
    return queued
