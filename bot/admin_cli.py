"""`umkm-bot admin …` and `umkm-bot kb drafts …`: institutions, coaches, invites, cohorts, the
outbox and knowledge drafts from the command line. Scripts depend on these commands and their
JSON fields: keep them stable.

Each command prints a human table, or one JSON object with `--json`.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from bot.coaching.cohort_view import member_rows
from bot.coaching.cohorts import create_cohort
from bot.coaching.drafts import export_drafts
from bot.coaching.invites import create_invite
from bot.coaching.links import COACH_INVITE, COHORT_JOIN, start_link
from bot.config import Settings
from bot.storage import COHORT_KINDS, INSTITUTION_KINDS, TIMEZONES, Database, Repositories, utcnow
from bot.storage.migrate import upgrade

__all__ = ["AdminError", "register", "register_drafts"]


class AdminError(ValueError):
    """A command-line mistake: the message says what to do (exit 2)."""


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
        data: dict[str, Any] = {"counts": repos.outbox.counts()}
        if args.failed:
            # What went wrong, without message text or names.
            data["rows"] = [
                {
                    "id": r.id,
                    "kind": r.kind,
                    "state": r.state,
                    "channel": r.channel,
                    "attempts": r.attempts,
                    "last_error": r.last_error,
                    "created_at": _iso(r.created_at),
                    "updated_at": _iso(r.updated_at),
                }
                for r in repos.outbox.problems()
            ]
        return data

    data = _in_transaction(settings, work)
    if args.json:
        return _print(args, data)
    for state, count in data["counts"].items():
        print(f"{state:<10} {count:>8}")
    for row in data.get("rows", []):
        print(f"#{row['id']} {row['kind']} {row['state']} attempts={row['attempts']} {row['last_error'] or ''}")
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


def _json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def register(sub: Any) -> None:
    """Add `admin …` to the `umkm-bot` parser."""
    admin = sub.add_parser("admin", help="institutions, coaches, cohorts, outbox").add_subparsers(
        dest="admin_command", required=True
    )

    institution = admin.add_parser("institution", help="institutions").add_subparsers(dest="what", required=True)
    p = institution.add_parser("add", help="add an institution")
    p.add_argument("name")
    p.add_argument("--kind", choices=INSTITUTION_KINDS, default="government")
    p.add_argument("--district")
    _json_flag(p)
    p.set_defaults(func=institution_add)
    p = institution.add_parser("list", help="list institutions")
    _json_flag(p)
    p.set_defaults(func=institution_list)

    coach = admin.add_parser("coach", help="coaches").add_subparsers(dest="what", required=True)
    p = coach.add_parser("add", help="make a Telegram user a coach")
    p.add_argument("--telegram-id", type=int)
    p.add_argument("--terminal-user", help="a terminal chat user instead (umkm-bot chat --user NAME)")
    p.add_argument("--institution", type=int, required=True)
    p.add_argument("--name")
    _json_flag(p)
    p.set_defaults(func=coach_add)
    p = coach.add_parser("invite", help="a one-time coach invite link")
    p.add_argument("--institution", type=int, required=True)
    _json_flag(p)
    p.set_defaults(func=coach_invite)

    cohort = admin.add_parser("cohort", help="cohorts").add_subparsers(dest="what", required=True)
    p = cohort.add_parser("create", help="create a cohort for a coach")
    p.add_argument("--coach-telegram-id", type=int, required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--kind", choices=COHORT_KINDS, default="lainnya")
    p.add_argument("--tz", choices=TIMEZONES, default="Asia/Jakarta")
    p.add_argument("--district")
    _json_flag(p)
    p.set_defaults(func=cohort_create)
    p = cohort.add_parser("show", help="a cohort and its members")
    p.add_argument("code")
    _json_flag(p)
    p.set_defaults(func=cohort_show)

    p = admin.add_parser("outbox", help="delivery: messages per state")
    p.add_argument("--failed", action="store_true", help="also list failed and uncertain messages")
    _json_flag(p)
    p.set_defaults(func=outbox)


def register_drafts(kb: Any) -> None:
    """Add `kb drafts [export DIR]` to the `kb` sub-parser."""
    drafts = kb.add_parser("drafts", help="coaches' answers saved as knowledge drafts")
    _json_flag(drafts)
    drafts.set_defaults(func=drafts_list)
    export = drafts.add_subparsers(dest="drafts_command").add_parser("export", help="write drafts as entry files")
    export.add_argument("dir")
    export.add_argument("--all", action="store_true", help="also drafts exported before")
    _json_flag(export)
    export.set_defaults(func=drafts_export)
