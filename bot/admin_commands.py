"""`umkm-bot admin …` and `umkm-bot kb drafts …`: institutions, coaches, invites, cohorts, the
outbox, broadcasts, reminders, events and knowledge drafts from the command line. Scripts depend
on these commands and their JSON fields: keep them stable.

Each command prints a human table, or one JSON object with `--json`. Times given on the command
line are wall-clock times in the cohort's time zone (WIB, WITA or WIT).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from bot.admin_cli import AdminError
from bot.coaching import events as event_rules
from bot.coaching import reminders as reminder_rules
from bot.coaching.audience import Audience
from bot.coaching.broadcasts import broadcast_report, send_broadcast
from bot.coaching.cohort_view import member_rows
from bot.coaching.cohorts import create_cohort
from bot.coaching.drafts import export_drafts
from bot.coaching.invites import create_invite
from bot.coaching.links import COACH_INVITE, COHORT_JOIN, start_link
from bot.coaching.personalize import VARIABLES, TemplateProblem
from bot.coaching.quiet_hours import QuietHours
from bot.coaching.recurrence import (
    WEEKDAYS,
    Schedule,
    daily,
    monthly_on_day,
    monthly_on_last_day,
    to_utc,
    weekly_on,
)
from bot.config import Settings
from bot.delivery.reports import outbox_problems, outbox_report
from bot.progress.milestones import load_milestones
from bot.storage import (
    Cohort,
    Database,
    Reminder,
    Repositories,
    User,
    utcnow,
)
from bot.storage.migrate import upgrade


def _open(settings: Settings) -> Database:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    return Database(settings.database_url)


def _in_transaction(settings: Settings, work: Callable[[Repositories], dict[str, Any]]) -> dict[str, Any]:
    database = _open(settings)
    try:
        with database.transaction() as session:
            return work(Repositories(session))
    finally:
        database.dispose()


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _print(args: argparse.Namespace, data: dict[str, Any], table: Sequence[tuple[str, Any]] | None = None) -> int:
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
        return 0
    for key, value in table if table is not None else data.items():
        print(f"{key:<16} {value if value is not None else '–'}")
    return 0


# -- institutions -----------------------------------------------------------------------------


def institution_add(settings: Settings, args: argparse.Namespace) -> int:
    def work(repos: Repositories) -> dict[str, Any]:
        row = repos.coaches.add_institution(args.name, args.kind, args.district)
        return {"id": row.id, "name": row.name}

    return _print(args, _in_transaction(settings, work))


def institution_list(settings: Settings, args: argparse.Namespace) -> int:
    def work(repos: Repositories) -> dict[str, Any]:
        return {
            "institutions": [
                {"id": i.id, "name": i.name, "kind": i.kind, "district": i.district,
                 "coaches": len(repos.coaches.coaches(i.id))}
                for i in repos.coaches.institutions()
            ]
        }  # fmt: skip

    data = _in_transaction(settings, work)
    if args.json:
        return _print(args, data)
    print(f"{'id':>4}  {'kind':<12} {'coaches':>7}  name")
    for i in data["institutions"]:
        print(f"{i['id']:>4}  {i['kind']:<12} {i['coaches']:>7}  {i['name']}")
    return 0


# -- coaches ----------------------------------------------------------------------------------


def coach_add(settings: Settings, args: argparse.Namespace) -> int:
    if (args.telegram_id is None) == (args.terminal_user is None):
        raise AdminError("give exactly one of --telegram-id N or --terminal-user NAME")
    channel, external = ("telegram", str(args.telegram_id)) if args.telegram_id else ("terminal", args.terminal_user)

    def work(repos: Repositories) -> dict[str, Any]:
        # The person still sees the privacy notice and consents when they first talk to the bot.
        user, _ = repos.users.get_or_create(channel, external, settings.bot.default_locale)
        coach = repos.coaches.add_coach(user.id, args.institution, args.name or "Pendamping")
        data: dict[str, Any] = {"id": coach.id, "telegram_id": args.telegram_id, "institution_id": coach.institution_id}
        if args.terminal_user:
            data["terminal_user"] = args.terminal_user
        return data

    return _print(args, _in_transaction(settings, work))


def coach_invite(settings: Settings, args: argparse.Namespace) -> int:
    def work(repos: Repositories) -> dict[str, Any]:
        if repos.coaches.institution(args.institution) is None:
            raise AdminError(f"no institution with id {args.institution} (see: umkm-bot admin institution list)")
        invite = create_invite(repos, args.institution, utcnow(), settings.coaching.invite_days)
        payload = COACH_INVITE + invite.code
        return {
            "link": start_link(settings.bot_username, payload),
            "payload": payload,
            "expires_at": _iso(invite.expires_at),
        }

    return _print(args, _in_transaction(settings, work))


# -- cohorts ----------------------------------------------------------------------------------


def cohort_create(settings: Settings, args: argparse.Namespace) -> int:
    def work(repos: Repositories) -> dict[str, Any]:
        user = repos.users.get("telegram", str(args.coach_telegram_id))
        coach = None if user is None else repos.coaches.for_user(user.id)
        if coach is None:
            raise AdminError(f"telegram id {args.coach_telegram_id} is not a coach (umkm-bot admin coach add …)")
        cohort = create_cohort(repos, coach.id, args.name, args.kind, args.tz, args.district)
        payload = COHORT_JOIN + cohort.join_code
        return {
            "id": cohort.id,
            "code": cohort.join_code,
            "join_payload": payload,
            "join_link": start_link(settings.bot_username, payload),
        }

    return _print(args, _in_transaction(settings, work))


def cohort_show(settings: Settings, args: argparse.Namespace) -> int:
    def work(repos: Repositories) -> dict[str, Any]:
        cohort = repos.cohorts.by_code(args.code)
        if cohort is None:
            raise AdminError(f"no cohort with code {args.code}")
        coach = repos.coaches.coach(cohort.coach_id)
        rows = member_rows(repos, cohort, utcnow(), silent_days=settings.coaching.silent_days)
        users = {u.id: u for _, u in repos.cohorts.members(cohort.id)}
        return {
            "code": cohort.join_code,
            "name": cohort.name,
            "coach": None if coach is None else coach.name,
            "members": [
                {
                    "telegram_id": _telegram_id(users[r.user_id].channel, users[r.user_id].external_id),
                    "name": r.name,
                    "joined_at": _iso(r.joined_at),
                    "umkm_class": r.class_now,
                    "milestones_done": r.milestones_done,
                    "last_active_at": _iso(r.last_active_at),
                }
                for r in rows
            ],
        }

    data = _in_transaction(settings, work)
    if args.json:
        return _print(args, data)
    print(f"{data['name']} ({data['code']}), coach {data['coach']}: {len(data['members'])} members")
    print(f"{'telegram id':>12}  {'class':<7} {'done':>4}  {'last active':<20} name")
    for m in data["members"]:
        print(
            f"{m['telegram_id'] or '–':>12}  {m['umkm_class'] or '–':<7} {m['milestones_done']:>4}  "
            f"{(m['last_active_at'] or '–')[:19]:<20} {m['name'] or '–'}"
        )
    return 0


def _telegram_id(channel: str, external_id: str) -> int | None:
    return int(external_id) if channel == "telegram" and external_id.isascii() and external_id.isdigit() else None


# -- outbox -----------------------------------------------------------------------------------


def outbox(settings: Settings, args: argparse.Namespace) -> int:
    def work(repos: Repositories) -> dict[str, Any]:
        data: dict[str, Any] = {"counts": outbox_report(repos)}
        if args.failed:
            data["rows"] = outbox_problems(repos)  # what went wrong, without message text or names
        return data

    data = _in_transaction(settings, work)
    if args.json:
        return _print(args, data)
    for state, count in data["counts"].items():
        print(f"{state:<10} {count:>8}")
    for row in data.get("rows", []):
        print(f"#{row['id']} {row['kind']} {row['state']} attempts={row['attempts']} {row['last_error'] or ''}")
    return 0


# -- broadcasts, reminders, events ------------------------------------------------------------

LOCAL_FORMAT = "%Y-%m-%d %H:%M"


def _cohort(repos: Repositories, code: str) -> Cohort:
    cohort = repos.cohorts.by_code(code)
    if cohort is None or cohort.archived_at is not None:
        raise AdminError(f"no active cohort with code {code} (see: umkm-bot admin cohort show CODE)")
    return cohort


def _audience(args: argparse.Namespace) -> Audience:
    if args.audience == "missing_milestone":
        known = {m.id for m in load_milestones()}
        if args.milestone not in known:
            raise AdminError(f"--audience missing_milestone needs --milestone, one of: {', '.join(sorted(known))}")
        return Audience("missing_milestone", milestone=args.milestone)
    if args.milestone:
        raise AdminError("--milestone goes with --audience missing_milestone")
    return Audience(args.audience)


def _local(text: str, option: str) -> datetime:
    try:
        return datetime.strptime(text.strip(), LOCAL_FORMAT)
    except ValueError:
        raise AdminError(f'{option} must look like "2026-12-31 08:00" (local time of the cohort)') from None


def _quiet(settings: Settings) -> QuietHours:
    return QuietHours(settings.engagement.quiet_start, settings.engagement.quiet_end)


def _text_problem(problem: TemplateProblem) -> str:
    names = ", ".join("{{ " + name + " }}" for name in VARIABLES)
    return f"the text cannot be used ({problem}); placeholders: {names}"


def _person(user: User, name: str | None = None) -> dict[str, Any]:
    return {"telegram_id": _telegram_id(user.channel, user.external_id), "name": name or user.name}


def broadcast_send(settings: Settings, args: argparse.Namespace) -> int:
    def work(repos: Repositories) -> dict[str, Any]:
        cohort = _cohort(repos, args.cohort)
        audience, now = _audience(args), utcnow()
        try:
            broadcast = send_broadcast(
                repos, [cohort], args.text, audience, now, _quiet(settings), coach_id=None, sender=args.sender
            )
        except TemplateProblem as exc:
            raise AdminError(_text_problem(exc)) from None
        return {"id": broadcast.id, "recipients": broadcast.recipients}

    return _print(args, _in_transaction(settings, work))


def broadcast_status(settings: Settings, args: argparse.Namespace) -> int:
    def work(repos: Repositories) -> dict[str, Any]:
        broadcast = repos.broadcasts.by_id(args.id)
        if broadcast is None:
            raise AdminError(f"no broadcast with id {args.id}")
        return broadcast_report(repos, broadcast)

    return _print(args, _in_transaction(settings, work))


def _reminder_json(repos: Repositories, reminder: Reminder) -> dict[str, Any]:
    cohort = repos.cohorts.by_id(reminder.cohort_id)
    occurrences = repos.reminders.occurrences(reminder.id, limit=100)
    return {
        "id": reminder.id,
        "cohort": None if cohort is None else cohort.join_code,
        "text": reminder.text,
        "audience": reminder.audience,
        "milestone": reminder.audience_milestone,
        "start_local": reminder.start_local,
        "timezone": reminder.timezone,
        "rrule": reminder.rrule,
        "status": reminder.status,
        "next_at": _iso(reminder.next_at),
        "last_at": _iso(reminder.last_at),
        "missed": sum(1 for o in occurrences if o.state == "missed"),
        "last_delivery": reminder_rules.delivery_figures(repos, reminder),
    }


def reminder_add(settings: Settings, args: argparse.Namespace) -> int:
    start = _local(args.at, "--at")
    rule: str | None = None
    if args.daily:
        rule = daily()
    elif args.weekly:
        codes = [code.strip().upper() for code in args.weekly.split(",") if code.strip()]
        if not codes or any(code not in WEEKDAYS for code in codes):
            raise AdminError(f"--weekly takes weekday codes separated by commas: {','.join(WEEKDAYS)}")
        rule = weekly_on([WEEKDAYS.index(code) for code in codes])
    elif args.monthly is not None:
        if not 1 <= args.monthly <= 31:
            raise AdminError("--monthly takes a day of the month, 1-31 (29-31: shorter months use their last day)")
        rule = monthly_on_day(args.monthly)
    elif args.monthly_last:
        rule = monthly_on_last_day()

    def work(repos: Repositories) -> dict[str, Any]:
        cohort = _cohort(repos, args.cohort)
        try:
            reminder = reminder_rules.create_reminder(
                repos, cohort, None, args.text, Schedule(start, cohort.timezone, rule), _audience(args), utcnow()
            )
        except TemplateProblem as exc:
            raise AdminError(_text_problem(exc)) from None
        except ValueError:
            raise AdminError("--at is in the past: a one-off reminder needs a time still to come") from None
        return {"id": reminder.id, "next_at": _iso(reminder.next_at)}

    return _print(args, _in_transaction(settings, work))


def reminder_list(settings: Settings, args: argparse.Namespace) -> int:
    def work(repos: Repositories) -> dict[str, Any]:
        cohorts = [_cohort(repos, args.cohort)] if args.cohort else repos.cohorts.for_coach(None)
        found = repos.reminders.for_cohorts([c.id for c in cohorts], include_ended=args.all)
        return {"reminders": [_reminder_json(repos, r) for r in found]}

    data = _in_transaction(settings, work)
    if args.json:
        return _print(args, data)
    print(f"{'id':>4}  {'status':<9} {'next (UTC)':<20} {'cohort':<12} {'rrule':<28} text")
    for r in data["reminders"]:
        print(
            f"{r['id']:>4}  {r['status']:<9} {(r['next_at'] or '–')[:19]:<20} {r['cohort'] or '–':<12} "
            f"{r['rrule'] or 'once':<28} {r['text'][:40]}"
        )
    return 0


def reminder_change(settings: Settings, args: argparse.Namespace) -> int:
    def work(repos: Repositories) -> dict[str, Any]:
        reminder = repos.reminders.by_id(args.id)
        if reminder is None:
            raise AdminError(f"no reminder with id {args.id}")
        if args.reminder_command == "pause":
            reminder_rules.pause(repos, reminder)
        elif args.reminder_command == "resume":
            reminder_rules.resume(repos, reminder, utcnow())
        else:
            reminder_rules.cancel(repos, reminder)
        return {"id": reminder.id, "status": reminder.status, "next_at": _iso(reminder.next_at)}

    return _print(args, _in_transaction(settings, work))


EVENT_PROBLEMS = {
    "empty_title": "--title is empty",
    "bad_times": "--start must be in the future and --end after it",
    "bad_closing": "--closes must be in the future and no later than --start",
    "bad_quota": "--quota must be at least 1",
}


def event_add(settings: Settings, args: argparse.Namespace) -> int:
    start = _local(args.start, "--start")
    try:
        end = datetime.combine(start.date(), datetime.strptime(args.end.strip(), "%H:%M").time())
    except ValueError:
        raise AdminError('--end must look like "12:00" (the same day as --start)') from None
    closes = _local(args.closes, "--closes") if args.closes else start
    engagement = settings.engagement

    def work(repos: Repositories) -> dict[str, Any]:
        cohort = _cohort(repos, args.cohort)
        try:
            event, invited = event_rules.create_event(
                repos,
                cohort,
                None,
                title=args.title,
                starts_at=to_utc(start, cohort.timezone),
                ends_at=to_utc(end, cohort.timezone),
                rsvp_closes_at=to_utc(closes, cohort.timezone),
                audience=_audience(args),
                now=utcnow(),
                quiet=_quiet(settings),
                place=args.place,
                online_link=args.link,
                description=args.description,
                quota=args.quota,
                reminder_hours=tuple(engagement.event_reminder_hours),
                rating_time=engagement.rating_time,
            )
        except ValueError as exc:
            raise AdminError(EVENT_PROBLEMS.get(str(exc), str(exc))) from None
        return {"id": event.id, "invited": invited}

    return _print(args, _in_transaction(settings, work))


def event_show(settings: Settings, args: argparse.Namespace) -> int:
    def work(repos: Repositories) -> dict[str, Any]:
        event = repos.events.by_id(args.id)
        if event is None:
            raise AdminError(f"no event with id {args.id}")
        view = event_rules.event_view(repos, event)
        users = {u.id: u for _, u in repos.events.rsvps(event.id)}
        cohort = repos.cohorts.by_id(event.cohort_id)

        def people(entries: list[tuple[int, str]]) -> list[dict[str, Any]]:
            return [_person(users[user_id], name) for user_id, name in entries]

        return {
            "id": event.id,
            "title": event.title,
            "cohort": None if cohort is None else cohort.join_code,
            "status": event.status,
            "starts_at": _iso(event.starts_at),
            "ends_at": _iso(event.ends_at),
            "rsvp_closes_at": _iso(event.rsvp_closes_at),
            "timezone": event.timezone,
            "place": event.place,
            "online_link": event.online_link,
            "quota": event.quota,
            "counts": view.counts,
            "coming": people(view.coming),
            "waiting": people(view.waiting),
            "maybe": people(view.maybe),
            "declined": people(view.declined),
            "unanswered": people(view.unanswered),
            "attended": [_person(users[user_id]) for user_id in sorted(view.attended)],
            "average_rating": view.average_rating,
            "ratings": len(view.ratings),
            "comments": view.comments,
        }

    data = _in_transaction(settings, work)
    if args.json:
        return _print(args, data)
    print(f"#{data['id']} {data['title']} ({data['cohort']}, {data['status']}) starts {data['starts_at']}")
    counts = data["counts"]
    print(" · ".join(f"{key} {counts[key]}" for key in ("yes", "waiting", "maybe", "no", "none", "attended")))
    for key in ("coming", "waiting", "maybe", "declined", "unanswered", "attended"):
        names = ", ".join(p["name"] or str(p["telegram_id"]) for p in data[key]) or "–"
        print(f"{key:<11} {names}")
    if data["ratings"]:
        print(f"rating      {data['average_rating']:.1f} from {data['ratings']}")
    return 0


# -- knowledge drafts -------------------------------------------------------------------------


def drafts_list(settings: Settings, args: argparse.Namespace) -> int:
    def work(repos: Repositories) -> dict[str, Any]:
        return {
            "drafts": [
                {"id": d.id, "question": d.question, "answer": d.answer, "entry_id": d.entry_id,
                 "created_at": _iso(d.created_at), "exported_at": _iso(d.exported_at)}
                for d in repos.handoffs.drafts()
            ]
        }  # fmt: skip

    data = _in_transaction(settings, work)
    if args.json:
        return _print(args, data)
    for d in data["drafts"]:
        state = "exported" if d["exported_at"] else "new"
        print(f"#{d['id']} [{state}] {d['question'][:70]}")
    print(f"{len(data['drafts'])} draft(s)")
    return 0


def drafts_export(settings: Settings, args: argparse.Namespace) -> int:
    def work(repos: Repositories) -> dict[str, Any]:
        written = export_drafts(
            repos, Path(args.dir), utcnow(), include_exported=args.all, knowledge_dir=settings.knowledge.dir
        )
        return {"written": [str(p) for p in written]}

    data = _in_transaction(settings, work)
    if args.json:
        return _print(args, data)
    for path in data["written"]:
        print(path)
    print(f"{len(data['written'])} file(s) written; add sources, review, then move them into knowledge/<topic>/")
    return 0


# -- wiring -----------------------------------------------------------------------------------
