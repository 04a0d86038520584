"""Weekly check-ins and personal messages.

Members: the check-in's one-tap buttons (`ci|c` opens /catat for this month's sales through
ProgressFlow, `ci|m|<milestone>` marks that step done with the same repository call /progres uses,
`ci|off` stops check-ins) and `/pengingat_saya` to switch them off and on again.
Coaches: a cohort's check-in day and time (`cw`, from the cohort view; the rule is
`bot.coaching.checkins.set_checkin`), and a personal message to a member who has gone quiet
(`sp`, the button on the scheduler's silent-member flag, also on the member view), queued through
the outbox and shown as coming from that coach.
"""

from __future__ import annotations

import uuid
from typing import Any

from bot.coaching.checkins import set_checkin
from bot.coaching.outgoing import queue_message
from bot.coaching.quiet_hours import QuietHours
from bot.config import Settings
from bot.core import callbacks
from bot.core.datetime_input import InputProblem, parse_time
from bot.core.messages import Button, Reply
from bot.core.progress_flow import ProgressFlow
from bot.core.turn import Turn
from bot.core.wizard import cancel_button, edited, local, milestone_titles
from bot.progress.milestones import load_milestones, milestones_for_sector, next_suggested
from bot.storage import Cohort

__all__ = ["CHECKIN_STATE", "PERSONAL_STATE", "CheckinFlow"]

CHECKIN_STATE = "coach.checkin"  # waiting for the check-in time
PERSONAL_STATE = "coach.personal"  # waiting for the personal message
QUICK_TIMES = ("08:00", "09:00", "16:00", "19:00")
MAX_PERSONAL = 2000


class CheckinFlow:
    """Check-in buttons and settings, /pengingat_saya, personal messages."""

    def __init__(self, settings: Settings, progress: ProgressFlow) -> None:
        self.progress = progress
        self.quiet = QuietHours(settings.engagement.quiet_start, settings.engagement.quiet_end)

    # -- members ------------------------------------------------------------------------------

    def checkin_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        """`ci|c` record this month's sales, `ci|m|<milestone>` done, `ci|off`."""
        if args[0] == "c":
            return self.progress.catat(turn, "omzet")
        if args[0] == "m":
            return self._milestone_done(turn, args[1])
        if args[0] == "off":
            return self._switch(turn, off=True)
        return [turn.say("expired_button")]

    def _milestone_done(self, turn: Turn, milestone_id: str) -> list[Reply]:
        if milestone_id not in {m.id for m in load_milestones()}:
            return [turn.say("expired_button")]
        changed = turn.repos.milestones.set_done(turn.user.id, milestone_id, True, at=turn.now)
        titles = milestone_titles(turn.locale)
        following = next_suggested(
            milestones_for_sector(turn.user.sector), turn.repos.milestones.done_ids(turn.user.id)
        )
        return [
            turn.say(
                "checkin_reply",
                step="marked",
                title=titles[milestone_id],
                already=not changed,
                following=None if following is None else titles[following.id],
            )
        ]

    def my_reminders_command(self, turn: Turn, args: str) -> list[Reply]:
        """`/pengingat_saya`: weekly check-ins on or off, with the switch."""
        return [self._status(turn, changed=False)]

    def switch_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        """`co|on|off`."""
        if args[0] not in ("on", "off"):
            return [turn.say("expired_button")]
        return self._switch(turn, off=args[0] == "off")

    def _switch(self, turn: Turn, *, off: bool) -> list[Reply]:
        turn.user.checkins_off = off
        return [self._status(turn, changed=True)]

    def _status(self, turn: Turn, *, changed: bool) -> Reply:
        off = bool(turn.user.checkins_off)
        toggle = Button(turn.label("checkins_switch", off), callbacks.encode("co", "on" if off else "off"))
        cohorts = [c.name for _, c, _ in turn.repos.cohorts.of_member(turn.user.id)]
        return turn.say("checkin_reply", step="status", off=off, changed=changed, cohorts=cohorts, buttons=((toggle,),))

    # -- coaches: the cohort's check-in -------------------------------------------------------

    def settings_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        """`cw|<cohort>` shows; `cw|<cohort>|off`; `cw|<cohort>|<weekday>` asks the time;
        `cw|<cohort>|<weekday>|<HHMM>` saves."""
        cohort = turn.access.cohort(int(args[0]), "checkin-settings")
        if len(args) == 1:
            return [self._settings(turn, cohort)]
        if args[1] == "off":
            set_checkin(cohort, None, None, turn.now)
            self._end_dialogue(turn)
            return [self._saved(turn, cohort)]
        weekday = int(args[1])
        if not 0 <= weekday <= 6:
            return [turn.say("expired_button")]
        if len(args) == 2:
            turn.repos.states.set(turn.user.id, CHECKIN_STATE, {"cohort": cohort.id, "weekday": weekday}, at=turn.now)
            row = tuple(
                Button(t.replace(":", "."), callbacks.encode("cw", cohort.id, weekday, t.replace(":", "")))
                for t in QUICK_TIMES
            )
            return [
                turn.say(
                    "checkin_settings",
                    step="time",
                    cohort=cohort.name,
                    weekday=weekday,
                    timezone=cohort.timezone,
                    buttons=(row, (cancel_button(turn),)),
                )
            ]
        return self._set(turn, cohort, weekday, f"{args[2][:2]}:{args[2][2:]}")

    def time_text(self, turn: Turn, state: str, data: dict[str, Any], text: str) -> list[Reply]:
        """The check-in time, typed."""
        cohort = turn.access.cohort(int(data.get("cohort", 0)), "checkin-settings")
        return self._set(turn, cohort, int(data.get("weekday", 0)), text)

    def _set(self, turn: Turn, cohort: Cohort, weekday: int, text: str) -> list[Reply]:
        try:
            clock = parse_time(text)
        except InputProblem as problem:
            turn.repos.states.set(turn.user.id, CHECKIN_STATE, {"cohort": cohort.id, "weekday": weekday}, at=turn.now)
            return [turn.say("input_problem", code=problem.code)]
        set_checkin(cohort, weekday, clock.strftime("%H:%M"), turn.now)
        self._end_dialogue(turn)
        return [self._saved(turn, cohort)]

    def _end_dialogue(self, turn: Turn) -> None:
        state = turn.repos.states.get(turn.user.id)
        if state is not None and state.state == CHECKIN_STATE:
            turn.repos.states.clear(turn.user.id)

    def _settings(self, turn: Turn, cohort: Cohort) -> Reply:
        days = [Button(turn.label("weekday", d), callbacks.encode("cw", cohort.id, d)) for d in range(7)]
        rows: list[tuple[Button, ...]] = [tuple(days[:4]), tuple(days[4:])]
        if cohort.checkin_weekday is not None:
            rows.append((Button(turn.label("checkins_off_cohort"), callbacks.encode("cw", cohort.id, "off")),))
        rows.append((Button(turn.label("back"), callbacks.encode("kv", cohort.id, "active", 1)),))
        return edited(turn.say("checkin_settings", step="show", **self._current(cohort), buttons=tuple(rows)))

    def _saved(self, turn: Turn, cohort: Cohort) -> Reply:
        row = (Button(turn.label("back"), callbacks.encode("kv", cohort.id, "active", 1)),)
        return turn.say("checkin_settings", step="saved", **self._current(cohort), buttons=(row,))

    def _current(self, cohort: Cohort) -> dict[str, Any]:
        return {
            "cohort": cohort.name,
            "weekday": cohort.checkin_weekday,
            "time": cohort.checkin_time,
            "next": local(cohort.next_checkin_at, cohort.timezone),
            "timezone": cohort.timezone,
        }

    # -- coaches: a personal message ----------------------------------------------------------

    def personal_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        """`sp|<cohort>|<member>`: type a message for that member."""
        cohort, _, member = turn.access.member(int(args[0]), int(args[1]), "personal-message")
        turn.repos.states.set(turn.user.id, PERSONAL_STATE, {"cohort": cohort.id, "user": member.id}, at=turn.now)
        return [
            turn.say(
                "personal_step",
                step="prompt",
                member=member.name or f"#{member.id}",
                cohort=cohort.name,
                buttons=((cancel_button(turn),),),
            )
        ]

    def personal_text(self, turn: Turn, state: str, data: dict[str, Any], text: str) -> list[Reply]:
        """The message, queued to the member through the outbox as coming from this coach."""
        cohort, _, member = turn.access.member(int(data.get("cohort", 0)), int(data.get("user", 0)), "personal-message")
        body = text.strip()[:MAX_PERSONAL]
        if not body:
            return [turn.say("personal_step", step="empty", buttons=((cancel_button(turn),),))]
        turn.repos.states.clear(turn.user.id)
        name = member.name or f"#{member.id}"
        if member.blocked_at is not None:
            return [turn.say("personal_step", step="blocked", member=name)]
        coach = turn.repos.coaches.coach(turn.actor.coach_id) if turn.actor.coach_id else None
        release = self.quiet.release(turn.now, cohort.timezone)
        queue_message(
            turn.repos,
            member,
            "personal",
            f"personal:{cohort.id}:{member.id}:{uuid.uuid4().hex}",  # each message is its own
            "personal_message",
            {"coach": None if coach is None else coach.name, "cohort": cohort.name, "text": body},
            buttons=[[("ask_coach", (), callbacks.encode("coach", 0))]],
            subject=("personal", cohort.id),
            not_before=release,
        )
        held_until = local(release, cohort.timezone) if release > turn.now else None
        return [turn.say("personal_step", step="sent", member=name, held_until=held_until, timezone=cohort.timezone)]
