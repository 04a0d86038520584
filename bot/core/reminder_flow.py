"""`/pengingat`: a coach's reminders at a glance (pause, resume, delete) and a new reminder, guided:
cohort → audience → text (previewed for one real member) → one-off or every day / week / month
→ time (→ date for a one-off) → confirm. The rules — what is stored, when it falls due, who gets
it — are `bot.coaching.reminders` and `bot.coaching.recurrence`; this module only talks.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.coaching import reminders as rules
from bot.coaching.personalize import TemplateProblem, render_for
from bot.coaching.recurrence import (
    WEEKDAYS,
    Schedule,
    daily,
    monthly_on_day,
    monthly_on_last_day,
    to_utc,
    weekly_on,
)
from bot.core import callbacks
from bot.core.datetime_input import InputProblem, parse_date_time, parse_time
from bot.core.messages import Button, Reply
from bot.core.turn import Turn
from bot.core.wizard import (
    Wizard,
    audience_of,
    audience_words,
    cancel_button,
    edited,
    explain_problem,
    local,
    owned_reminder,
    page_of,
    paging,
)
from bot.rendering import render
from bot.storage import Cohort, Reminder, User

__all__ = ["REMINDER_STATE", "ReminderFlow", "recurrence_of"]

REMINDER_STATE = "coach.reminder"
LIST_PAGE = 5
FREQUENCIES = ("once", "daily", "weekly", "monthly", "last")
QUICK_TIMES = ("07:00", "08:00", "09:00", "16:00", "19:00")
QUICK_DAYS = (1, 5, 10, 15, 20, 25)
FINISHED_SHOWN = timedelta(days=14)


def recurrence_of(rrule: str | None) -> dict[str, Any]:
    """A stored RRULE (as built by bot.coaching.recurrence) for the templates' words:
    {"kind": once|daily|weekly|monthly|last|other, "days": [0-6], "day": 1-31}."""
    if rrule is None:
        return {"kind": "once", "days": [], "day": None}
    parts = dict(part.split("=", 1) for part in rrule.split(";") if "=" in part)
    frequency = parts.get("FREQ")
    if frequency == "DAILY" and len(parts) == 1:
        return {"kind": "daily", "days": [], "day": None}
    if frequency == "WEEKLY" and "BYDAY" in parts:
        return {"kind": "weekly", "days": [WEEKDAYS.index(d) for d in parts["BYDAY"].split(",")], "day": None}
    if frequency == "MONTHLY" and parts.get("BYMONTHDAY") == "-1":
        return {"kind": "last", "days": [], "day": None}
    if frequency == "MONTHLY" and "BYMONTHDAY" in parts:
        return {"kind": "monthly", "days": [], "day": int(parts["BYMONTHDAY"].split(",")[0])}
    return {"kind": "other", "days": [], "day": None}


def _clock(value: str) -> time:
    return time.fromisoformat(value)


class ReminderFlow(Wizard):
    """The coach's reminders: list, pause/resume/delete, and the guided new reminder."""

    state = REMINDER_STATE
    purpose = "reminder"

    # -- the list -----------------------------------------------------------------------------

    def list_command(self, turn: Turn, args: str) -> list[Reply]:
        return [self._list(turn, 1)]

    def list_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        """`rl|<page>`."""
        return [self._list(turn, int(args[0]) if args else 1, edit=True)]

    def _list(self, turn: Turn, page: int, *, notice: str | None = None, edit: bool = False) -> Reply:
        cohorts = {c.id: c for c in turn.access.cohorts()}
        # Running ones first; finished ones stay a while so their delivery figures can be read.
        found = [
            r
            for r in turn.repos.reminders.for_cohorts(list(cohorts), include_ended=True)
            if r.status in ("active", "paused")
            or (r.status == "done" and r.last_at is not None and r.last_at >= turn.now - FINISHED_SHOWN)
        ]
        shown, page, pages = page_of(found, page, LIST_PAGE)
        first = (page - 1) * LIST_PAGE + 1
        items = [self._item(turn, r, cohorts[r.cohort_id], n) for n, r in enumerate(shown, start=first)]
        rows: list[tuple[Button, ...]] = []
        for n, reminder in enumerate(shown, start=first):
            if reminder.status == "done":
                continue
            toggle = "p" if reminder.status == "active" else "r"
            rows.append(
                (Button(turn.label("reminder_toggle", toggle, n), callbacks.encode("rs", reminder.id, toggle, page)),
                 Button(turn.label("reminder_delete", n), callbacks.encode("rs", reminder.id, "x", page)))
            )  # fmt: skip
        rows += paging(turn, "rl", page, pages)
        rows.append((Button(turn.label("new_reminder"), callbacks.encode("rn")),))
        text = render(turn.locale, "reminders", items=items, page=page, pages=pages, notice=notice)
        return Reply(text, tuple(rows), edit=edit)

    def _item(self, turn: Turn, reminder: Reminder, cohort: Cohort, n: int) -> dict[str, Any]:
        occurrences = turn.repos.reminders.occurrences(reminder.id, limit=100)
        return {
            "n": n,
            "cohort": cohort.name,
            "audience": audience_words(turn, reminder.audience, reminder.audience_milestone, reminder.audience_user_id),
            "text": reminder.text,
            "next": local(reminder.next_at, reminder.timezone),
            "timezone": reminder.timezone,
            "recurrence": recurrence_of(reminder.rrule),
            "status": reminder.status,
            "figures": rules.delivery_figures(turn.repos, reminder),
            "sent_once": any(o.state == "queued" for o in occurrences),
            "missed": sum(1 for o in occurrences if o.state == "missed"),
        }

    def status_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        """`rs|<reminder>|p|r|x|X|<page>`: pause, resume, ask to delete, delete."""
        reminder, _ = owned_reminder(turn, int(args[0]), "reminder-status")
        operation, page = args[1], int(args[2]) if len(args) > 2 else 1
        if operation == "p":
            rules.pause(turn.repos, reminder)
        elif operation == "r":
            rules.resume(turn.repos, reminder, turn.now)
        elif operation == "x":
            row = (
                Button(turn.label("reminder_delete_yes"), callbacks.encode("rs", reminder.id, "X", page)),
                Button(turn.label("back"), callbacks.encode("rl", page)),
            )
            return [edited(turn.say("reminder_step", step="delete", text=reminder.text, buttons=(row,)))]
        elif operation == "X":
            rules.cancel(turn.repos, reminder)
        else:
            return [turn.say("expired_button")]
        return [self._list(turn, page, notice=f"{operation}:{reminder.status}", edit=True)]

    # -- a new reminder -----------------------------------------------------------------------

    def new_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        """`rn`."""
        return self.begin(turn)

    def show_preview(self, turn: Turn, data: dict[str, Any]) -> list[Reply]:
        coach = self.coach_name(turn)

        def message(user: User, cohort: Cohort) -> str:
            body = render_for(turn.repos, str(data["text"]), user, cohort).html
            return render(user.locale, "reminder_message", body=body, coach=coach, cohort=cohort.name)

        confirm = Button(turn.label("continue"), callbacks.encode("rw", "next"))
        return self.preview_reply(turn, data, message, confirm, empty_ok=True)

    def button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        """`rw|…`: the reminder's own steps (when, weekdays, day of month, time, date, save)."""
        what = args[0]
        steps = {"next": "preview", "f": "when", "d": "weekdays", "dok": "weekdays", "md": "monthday",
                 "t": "time", "dt": "date", "save": "confirm"}  # fmt: skip
        data = self.current(turn, steps.get(what, "-"))
        if data is None:
            return [turn.say("expired_button")]
        self.cohorts_of(turn, data)  # still theirs
        if what == "next":
            return [self._ask_when(turn, data)]
        if what == "f" and args[1] in FREQUENCIES:
            return self._frequency(turn, data, args[1])
        if what == "d":
            day = int(args[1])
            if not 0 <= day <= 6:
                return [turn.say("expired_button")]
            days = set(data.get("days") or [])
            days ^= {day}
            return [self._ask_weekdays(turn, {**data, "days": sorted(days)}, edit=True)]
        if what == "dok":
            if not data.get("days"):
                return [self._ask_weekdays(turn, data, problem=True)]
            return [self._ask_time(turn, data)]
        if what == "md":
            return self._month_day(turn, data, args[1])
        if what == "t":
            return self._take_time(turn, data, f"{args[1][:2]}:{args[1][2:]}")
        if what == "dt" and int(args[1]) in (0, 1, 2):
            today = self._today(turn, data)
            return self._take_date(turn, data, today + timedelta(days=int(args[1])), None)
        if what == "save":
            return self._save(turn, data)
        return [turn.say("expired_button")]

    def typed(self, turn: Turn, data: dict[str, Any], text: str) -> list[Reply]:
        step = data.get("step")
        if step == "monthday":
            return self._month_day(turn, data, text.strip())
        if step == "time":
            return self._take_time(turn, data, text)
        if step == "date":
            try:
                moment = parse_date_time(text, self._today(turn, data), _clock(data["time"]))
            except InputProblem as problem:
                return [self._problem(turn, problem.code), self._ask_date(turn, data)]
            return self._take_date(turn, data, moment.date(), moment.time())
        return super().typed(turn, data, text)

    def reprompt(self, turn: Turn, data: dict[str, Any]) -> list[Reply]:
        step = data.get("step")
        if step == "when":
            return [self._ask_when(turn, data)]
        if step == "weekdays":
            return [self._ask_weekdays(turn, data)]
        if step == "confirm":
            return self._confirm(turn, data)
        return super().reprompt(turn, data)

    # -- the steps ----------------------------------------------------------------------------

    def _cohort(self, turn: Turn, data: dict[str, Any]) -> Cohort:
        return self.cohorts_of(turn, data)[0]

    def _today(self, turn: Turn, data: dict[str, Any]) -> date:
        return turn.now.astimezone(ZoneInfo(self._cohort(turn, data).timezone)).date()

    def _problem(self, turn: Turn, code: str) -> Reply:
        return turn.say("input_problem", code=code)

    def _ask_when(self, turn: Turn, data: dict[str, Any]) -> Reply:
        self.save(turn, {**data, "step": "when"})
        rows = tuple((Button(turn.label("frequency", f), callbacks.encode("rw", "f", f)),) for f in FREQUENCIES) + (
            (cancel_button(turn),),
        )
        return turn.say("reminder_step", step="when", buttons=rows)

    def _frequency(self, turn: Turn, data: dict[str, Any], frequency: str) -> list[Reply]:
        data = {**data, "freq": frequency}
        if frequency == "weekly":
            return [self._ask_weekdays(turn, {**data, "days": data.get("days") or []})]
        if frequency == "monthly":
            self.save(turn, {**data, "step": "monthday"})
            row = tuple(Button(str(d), callbacks.encode("rw", "md", d)) for d in QUICK_DAYS)
            return [turn.say("reminder_step", step="monthday", buttons=(row, (cancel_button(turn),)))]
        return [self._ask_time(turn, data)]

    def _ask_weekdays(self, turn: Turn, data: dict[str, Any], *, edit: bool = False, problem: bool = False) -> Reply:
        self.save(turn, {**data, "step": "weekdays"})
        chosen = set(data.get("days") or [])
        days = [Button(turn.label("weekday_toggle", d, d in chosen), callbacks.encode("rw", "d", d)) for d in range(7)]
        rows = (
            tuple(days[:4]),
            tuple(days[4:]),
            (Button(turn.label("done"), callbacks.encode("rw", "dok")), cancel_button(turn)),
        )
        return edited(
            turn.say("reminder_step", step="weekdays", days=sorted(chosen), problem=problem, buttons=rows), edit
        )

    def _month_day(self, turn: Turn, data: dict[str, Any], text: str) -> list[Reply]:
        day = int(text) if text.isdigit() else 0
        if not 1 <= day <= 31:
            self.save(turn, {**data, "step": "monthday"})
            return [self._problem(turn, "month_day")]
        return [self._ask_time(turn, {**data, "day": day})]

    def _ask_time(self, turn: Turn, data: dict[str, Any]) -> Reply:
        self.save(turn, {**data, "step": "time"})
        row = tuple(Button(t.replace(":", "."), callbacks.encode("rw", "t", t.replace(":", ""))) for t in QUICK_TIMES)
        cohort = self._cohort(turn, data)
        return turn.say(
            "reminder_step",
            step="time",
            timezone=cohort.timezone,
            day=data.get("day"),
            buttons=(row, (cancel_button(turn),)),
        )

    def _take_time(self, turn: Turn, data: dict[str, Any], text: str) -> list[Reply]:
        try:
            clock = parse_time(text)
        except InputProblem as problem:
            return [self._problem(turn, problem.code), self._ask_time(turn, data)]
        data = {**data, "time": clock.strftime("%H:%M")}
        if data.get("freq") == "once":
            return [self._ask_date(turn, data)]
        return self._confirm(turn, data)

    def _ask_date(self, turn: Turn, data: dict[str, Any]) -> Reply:
        self.save(turn, {**data, "step": "date"})
        cohort = self._cohort(turn, data)
        today = self._today(turn, data)
        offsets = [0, 1, 2]
        if to_utc(datetime.combine(today, _clock(data["time"])), cohort.timezone) <= turn.now:
            offsets.remove(0)  # today at that time has passed
        row = tuple(Button(turn.label("relative_day", n), callbacks.encode("rw", "dt", n)) for n in offsets)
        return turn.say(
            "reminder_step",
            step="date",
            time=data["time"],
            timezone=cohort.timezone,
            buttons=(row, (cancel_button(turn),)),
        )

    def _take_date(self, turn: Turn, data: dict[str, Any], day: date, clock: time | None) -> list[Reply]:
        if clock is not None:
            data = {**data, "time": clock.strftime("%H:%M")}
        cohort = self._cohort(turn, data)
        if to_utc(datetime.combine(day, _clock(data["time"])), cohort.timezone) <= turn.now:
            return [self._problem(turn, "past"), self._ask_date(turn, data)]
        return self._confirm(turn, {**data, "date": day.isoformat()})

    def _schedule(self, turn: Turn, data: dict[str, Any], cohort: Cohort) -> Schedule:
        clock = _clock(data["time"])
        frequency = data["freq"]
        if frequency == "once":
            return Schedule(datetime.combine(date.fromisoformat(data["date"]), clock), cohort.timezone)
        rule = {
            "daily": daily,
            "weekly": lambda: weekly_on(list(data["days"])),
            "monthly": lambda: monthly_on_day(int(data["day"])),
            "last": monthly_on_last_day,
        }[frequency]()
        return Schedule(datetime.combine(self._today(turn, data), clock), cohort.timezone, rule)

    def _confirm(self, turn: Turn, data: dict[str, Any]) -> list[Reply]:
        self.save(turn, {**data, "step": "confirm"})
        cohort = self._cohort(turn, data)
        schedule = self._schedule(turn, data, cohort)
        first = schedule.after(turn.now)
        if first is None:  # a one-off whose time passed while the coach was choosing
            return [self._problem(turn, "past"), self._ask_date(turn, data)]
        audience = audience_of(data)
        row = (Button(turn.label("save_reminder"), callbacks.encode("rw", "save")), cancel_button(turn))
        return [
            turn.say(
                "reminder_step",
                step="confirm",
                cohort=cohort.name,
                audience=audience_words(turn, audience.kind, audience.milestone, audience.user_id),
                text=data["text"],
                recurrence=recurrence_of(schedule.rrule),
                first=local(first, cohort.timezone),
                timezone=cohort.timezone,
                buttons=(row,),
            )
        ]

    def _save(self, turn: Turn, data: dict[str, Any]) -> list[Reply]:
        cohort = self._cohort(turn, data)
        try:
            reminder = rules.create_reminder(
                turn.repos,
                cohort,
                turn.actor.coach_id,
                str(data["text"]),
                self._schedule(turn, data, cohort),
                audience_of(data),
                turn.now,
            )
        except TemplateProblem as problem:  # cannot happen after the preview; said plainly anyway
            self.save(turn, {**data, "step": "text"})
            return [turn.say("wizard_text_problem", variables=(), **explain_problem(problem))]
        except ValueError:  # no future occurrence: the time passed while confirming
            return [self._problem(turn, "past"), self._ask_date(turn, data)]
        turn.repos.states.clear(turn.user.id)
        row = (
            Button(turn.label("reminder_list"), callbacks.encode("rl", 1)),
            Button(turn.label("new_reminder"), callbacks.encode("rn")),
        )
        return [
            turn.say(
                "reminder_step",
                step="created",
                first=local(reminder.next_at, cohort.timezone),
                timezone=cohort.timezone,
                buttons=(row,),
            )
        ]
