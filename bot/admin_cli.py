"""`umkm-bot admin …` and `umkm-bot kb drafts …`: the options. Scripts depend on these commands
and their JSON fields: keep them stable. What each command does is in bot.admin_commands,
imported only when an admin command runs (so `ask` and the bot start without it).
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from typing import Any

from bot.choices import COHORT_KINDS, INSTITUTION_KINDS, TIMEZONES

__all__ = ["AdminError", "register", "register_drafts"]

CLI_AUDIENCES = ("cohort", "no_figures", "missing_milestone")


class AdminError(ValueError):
    """A command-line mistake: the message says what to do (exit 2)."""


def _command(name: str) -> Callable[..., int]:
    """The handler `name` of bot.admin_commands, imported when it runs."""

    def run(*args: Any) -> int:
        handler: Callable[..., int] = getattr(importlib.import_module("bot.admin_commands"), name)
        return handler(*args)

    run.__name__ = name
    return run


def _json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _audience_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--audience", choices=CLI_AUDIENCES, default="cohort", help="who gets it (default: everyone)")
    parser.add_argument("--milestone", help="with --audience missing_milestone: the milestone id")


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add `admin …` to the `umkm-bot` parser (`common`: options every sub-command takes)."""
    admin = sub.add_parser(
        "admin", help="institutions, coaches, cohorts, broadcasts, reminders, events, outbox"
    ).add_subparsers(dest="admin_command", required=True)

    institution = admin.add_parser("institution", parents=[common], help="institutions").add_subparsers(
        dest="what", required=True
    )
    p = institution.add_parser("add", parents=[common], help="add an institution")
    p.add_argument("name")
    p.add_argument("--kind", choices=INSTITUTION_KINDS, default="government")
    p.add_argument("--district")
    _json_flag(p)
    p.set_defaults(func=_command("institution_add"))
    p = institution.add_parser("list", parents=[common], help="list institutions")
    _json_flag(p)
    p.set_defaults(func=_command("institution_list"))

    coach = admin.add_parser("coach", parents=[common], help="coaches").add_subparsers(dest="what", required=True)
    p = coach.add_parser("add", parents=[common], help="make a Telegram user a coach")
    p.add_argument("--telegram-id", type=int)
    p.add_argument("--terminal-user", help="a terminal chat user instead (umkm-bot chat --user NAME)")
    p.add_argument("--institution", type=int, required=True)
    p.add_argument("--name")
    _json_flag(p)
    p.set_defaults(func=_command("coach_add"))
    p = coach.add_parser("invite", parents=[common], help="a one-time coach invite link")
    p.add_argument("--institution", type=int, required=True)
    _json_flag(p)
    p.set_defaults(func=_command("coach_invite"))

    cohort = admin.add_parser("cohort", parents=[common], help="cohorts").add_subparsers(dest="what", required=True)
    p = cohort.add_parser("create", parents=[common], help="create a cohort for a coach")
    p.add_argument("--coach-telegram-id", type=int, required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--kind", choices=COHORT_KINDS, default="lainnya")
    p.add_argument("--tz", choices=TIMEZONES, default="Asia/Jakarta")
    p.add_argument("--district")
    _json_flag(p)
    p.set_defaults(func=_command("cohort_create"))
    p = cohort.add_parser("show", parents=[common], help="a cohort and its members")
    p.add_argument("code")
    _json_flag(p)
    p.set_defaults(func=_command("cohort_show"))

    broadcast = admin.add_parser("broadcast", parents=[common], help="broadcasts").add_subparsers(
        dest="what", required=True
    )
    p = broadcast.add_parser("send", parents=[common], help="send a message to an audience of a cohort now")
    p.add_argument("--cohort", required=True, help="the cohort's join code")
    p.add_argument("--text", required=True, help="may use {{ nama }}, {{ usaha }}, {{ kelompok }} …")
    p.add_argument("--sender", help="shown as 'Pesan dari SENDER'")
    _audience_flags(p)
    _json_flag(p)
    p.set_defaults(func=_command("broadcast_send"))
    p = broadcast.add_parser("status", parents=[common], help="a broadcast's delivery report")
    p.add_argument("id", type=int)
    _json_flag(p)
    p.set_defaults(func=_command("broadcast_status"))

    reminder = admin.add_parser("reminder", parents=[common], help="reminders").add_subparsers(
        dest="reminder_command", required=True
    )
    p = reminder.add_parser(
        "add", parents=[common], help="a one-off or recurring reminder (times in the cohort's zone)"
    )
    p.add_argument("--cohort", required=True, help="the cohort's join code")
    p.add_argument("--text", required=True)
    p.add_argument("--at", required=True, help='first time, "YYYY-MM-DD HH:MM" local')
    repeat = p.add_mutually_exclusive_group()
    repeat.add_argument("--daily", action="store_true")
    repeat.add_argument("--weekly", metavar="MO,TH", help="weekday codes MO TU WE TH FR SA SU")
    repeat.add_argument("--monthly", type=int, metavar="DAY", help="day of the month 1-31 (29-31: or the last day)")
    repeat.add_argument("--monthly-last", action="store_true", help="the last day of every month")
    _audience_flags(p)
    _json_flag(p)
    p.set_defaults(func=_command("reminder_add"))
    p = reminder.add_parser("list", parents=[common], help="reminders, next due first")
    p.add_argument("--cohort", help="only this cohort (join code)")
    p.add_argument("--all", action="store_true", help="also cancelled and finished ones")
    _json_flag(p)
    p.set_defaults(func=_command("reminder_list"))
    for name, text in (("pause", "pause a reminder"), ("resume", "resume from now on"), ("cancel", "cancel for good")):
        p = reminder.add_parser(name, help=text)
        p.add_argument("id", type=int)
        _json_flag(p)
        p.set_defaults(func=_command("reminder_change"))

    event = admin.add_parser("event", parents=[common], help="training invitations").add_subparsers(
        dest="what", required=True
    )
    p = event.add_parser("add", parents=[common], help="invite an audience of a cohort (times in the cohort's zone)")
    p.add_argument("--cohort", required=True, help="the cohort's join code")
    p.add_argument("--title", required=True)
    p.add_argument("--start", required=True, help='"YYYY-MM-DD HH:MM" local')
    p.add_argument("--end", required=True, help='"HH:MM" the same day')
    p.add_argument("--place")
    p.add_argument("--link", help="online meeting link")
    p.add_argument("--description")
    p.add_argument("--quota", type=int, help="places; further yeses join a waiting list")
    p.add_argument("--closes", help='RSVP closing, "YYYY-MM-DD HH:MM" local (default: the start)')
    _audience_flags(p)
    _json_flag(p)
    p.set_defaults(func=_command("event_add"))
    p = event.add_parser("show", parents=[common], help="an event's answers, waiting list, attendance and ratings")
    p.add_argument("id", type=int)
    _json_flag(p)
    p.set_defaults(func=_command("event_show"))

    p = admin.add_parser("outbox", parents=[common], help="delivery: messages per state")
    p.add_argument("--failed", action="store_true", help="also list failed and uncertain messages")
    _json_flag(p)
    p.set_defaults(func=_command("outbox"))


def register_drafts(kb: Any, common: argparse.ArgumentParser) -> None:
    """Add `kb drafts [export DIR]` to the `kb` sub-parser."""
    drafts = kb.add_parser("drafts", parents=[common], help="coaches' answers saved as knowledge drafts")
    _json_flag(drafts)
    drafts.set_defaults(func=_command("drafts_list"))
    export = drafts.add_subparsers(dest="drafts_command").add_parser(
        "export", parents=[common], help="write drafts as entry files"
    )
    export.add_argument("dir")
    export.add_argument("--all", action="store_true", help="also drafts exported before")
    _json_flag(export)
    export.set_defaults(func=_command("drafts_export"))
