"""`/undangan`: training invitations. The coach lists upcoming (and just finished) events with live
counts, creates one guided (cohort → title → date → start → length or end → place or link →
description → quota → RSVP closing → audience → preview → send), and opens one to see who answered
what, the waiting list in order, attendance (one tap per person, or everyone who said yes),
ratings and comments, or to cancel it. Members answer with the invitation's buttons, get the
.ics file when they have a place, and rate the event with an optional comment.

The rules — quota, waiting list, promotion, notices, who is told — are `bot.coaching.events`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.coaching import events as rules
from bot.coaching.recurrence import to_utc
from bot.core import callbacks
from bot.core.datetime_input import InputProblem, parse_date, parse_date_time, parse_end, parse_time, split_url
from bot.core.messages import Attachment, Button, Reply
from bot.core.turn import Turn
from bot.core.wizard import (
    PAGE_SIZE,
    Wizard,
    audience_of,
    cancel_button,
    local,
    owned_event,
    page_of,
    paging,
)
from bot.rendering import render
from bot.storage import RSVP_ANSWERS, Cohort, Event, User

__all__ = ["EVENT_STATE", "RATING_STATE", "EventFlow", "EventReplyFlow"]

EVENT_STATE = "coach.event"
RATING_STATE = "member.rating"
LIST_PAGE = 5
# Events stay in the coach's list this long after they end: attendance and ratings come later.
RECENT = timedelta(days=14)
MAX_TITLE = 160
MAX_DESCRIPTION = 1500
MAX_QUOTA = 10_000
QUICK_STARTS = ("08:00", "09:00", "13:00", "19:00")
QUICK_LENGTHS = (60, 120, 180)  # minutes
CLOSING_DAYS = (0, 1, 2)  # RSVP closes at the start, or this many days before
COMMENT_WINDOW = timedelta(minutes=30)  # a comment comes right after the rating


def _local_iso(moment: datetime) -> str:
    return moment.isoformat(timespec="minutes")


class EventFlow(Wizard):
    """The coach's side of invitations."""

    state = EVENT_STATE
    purpose = "event"
    text_steps = ()

    # -- the list -----------------------------------------------------------------------------

    def list_command(self, turn: Turn, args: str) -> list[Reply]:
        return [self._list(turn, 1)]

    def list_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        """`el|<page>`."""
        return [self._list(turn, int(args[0]) if args else 1, edit=True)]

    def _list(self, turn: Turn, page: int, *, edit: bool = False) -> Reply:
        cohorts = {c.id: c for c in turn.access.cohorts()}
        found = [e for e in turn.repos.events.for_cohorts(list(cohorts), since=turn.now - RECENT) if e.status == "open"]
        # Upcoming first, soonest first; then those just finished, latest first.
        found = [e for e in found if e.ends_at >= turn.now] + [e for e in reversed(found) if e.ends_at < turn.now]
        shown, page, pages = page_of(found, page, LIST_PAGE)
        items = [
            {
                "title": e.title,
                "cohort": cohorts[e.cohort_id].name,
                "starts": local(e.starts_at, e.timezone),
                "timezone": e.timezone,
                "past": e.ends_at < turn.now,
                "counts": turn.repos.events.counts(e.id),
                "quota": e.quota,
            }
            for e in shown
        ]
        rows: list[tuple[Button, ...]] = [
            (Button(turn.label("event", e.title, local(e.starts_at, e.timezone)), callbacks.encode("ev", e.id)),)
            for e in shown
        ]
        rows += paging(turn, "el", page, pages)
        rows.append((Button(turn.label("new_event"), callbacks.encode("en")),))
        return Reply(render(turn.locale, "events", items=items, page=page, pages=pages), tuple(rows), edit=edit)

    # -- one event ----------------------------------------------------------------------------

    def view_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        """`ev|<event>|<page>`: counts, names, waiting list, attendance, ratings."""
        event, cohort = owned_event(turn, int(args[0]), "event-view")
        return [self._view(turn, event, cohort, int(args[1]) if len(args) > 1 else 1, edit=len(args) > 1)]

    def _view(
        self, turn: Turn, event: Event, cohort: Cohort, page: int, *, edit: bool = False, notice: str | None = None
    ) -> Reply:
        view = rules.event_view(turn.repos, event)
        started = turn.now >= event.starts_at
        rows: list[tuple[Button, ...]] = []
        if started:
            marks = {r.user_id: r.attended for r, _ in turn.repos.events.rsvps(event.id)}
            people = view.coming + view.maybe + view.waiting + view.declined + view.unanswered
            shown, page, pages = page_of(people, page, PAGE_SIZE)
            rows += [
                (Button(turn.label("attendance", marks.get(uid), name), callbacks.encode("et", event.id, uid, page)),)
                for uid, name in shown
            ]
            rows += paging(turn, "ev", page, pages, event.id)
            rows.append((Button(turn.label("all_attended"), callbacks.encode("ey", event.id, page)),))
        elif event.status == "open":
            rows.append((Button(turn.label("cancel_event"), callbacks.encode("ex", event.id)),))
        rows.append(
            (Button(turn.label("refresh"), callbacks.encode("ev", event.id, page)),
             Button(turn.label("back"), callbacks.encode("el", 1)))
        )  # fmt: skip
        text = render(
            turn.locale,
            "event_view",
            view=view,
            cohort=cohort.name,
            starts=local(event.starts_at, event.timezone),
            ends=local(event.ends_at, event.timezone),
            closes=local(event.rsvp_closes_at, event.timezone),
            timezone=event.timezone,
            started=started,
            notice=notice,
        )
        return Reply(text, tuple(rows), edit=edit)

    def attendance_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        """`et|<event>|<user>|<page>`: one tap toggles present/absent."""
        event, cohort = owned_event(turn, int(args[0]), "event-attendance")
        page = int(args[2]) if len(args) > 2 else 1
        if turn.now < event.starts_at:
            return [turn.say("event_step", step="too_early")]
        rsvp = turn.repos.events.rsvp(event.id, int(args[1]))
        if rsvp is None:
            return [turn.say("expired_button")]
        rules.mark_attendance(turn.repos, event, rsvp.user_id, not rsvp.attended, turn.now)
        return [self._view(turn, event, cohort, page, edit=True)]

    def all_attended_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        """`ey|<event>|<page>`: everyone holding a place is marked present."""
        event, cohort = owned_event(turn, int(args[0]), "event-attendance")
        if turn.now < event.starts_at:
            return [turn.say("event_step", step="too_early")]
        marked = rules.mark_all_yes_attended(turn.repos, event, turn.now)
        page = int(args[1]) if len(args) > 1 else 1
        return [self._view(turn, event, cohort, page, edit=True, notice=f"marked:{marked}")]

    def cancel_event_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        """`ex|<event>` asks; `ex|<event>|y` cancels and tells those invited."""
        event, cohort = owned_event(turn, int(args[0]), "event-cancel")
        if event.status != "open" or turn.now >= event.starts_at:
            return [turn.say("event_step", step="cannot_cancel")]
        if len(args) < 2 or args[1] != "y":
            row = (
                Button(turn.label("cancel_event_yes"), callbacks.encode("ex", event.id, "y")),
                Button(turn.label("back"), callbacks.encode("ev", event.id)),
            )
            return [turn.say("event_step", step="cancel_confirm", title=event.title, buttons=(row,))]
        told = rules.cancel_event(turn.repos, event)
        row = (Button(turn.label("event_list"), callbacks.encode("el", 1)),)
        return [turn.say("event_step", step="cancelled", title=event.title, told=told, buttons=(row,))]

    # -- a new invitation ---------------------------------------------------------------------

    def new_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        """`en`."""
        return self.begin(turn)

    def after_cohort(self, turn: Turn, data: dict[str, Any]) -> list[Reply]:
        return [self._ask(turn, {**data}, "title")]

    def after_audience(self, turn: Turn, data: dict[str, Any]) -> list[Reply]:
        return self.show_preview(turn, {**data, "step": "preview"})

    def _cohort(self, turn: Turn, data: dict[str, Any]) -> Cohort:
        return self.cohorts_of(turn, data)[0]

    def _today(self, turn: Turn, cohort: Cohort) -> date:
        return turn.now.astimezone(ZoneInfo(cohort.timezone)).date()

    def _ask(self, turn: Turn, data: dict[str, Any], step: str, problem: str | None = None) -> Reply:
        """Save the step and ask its question, with buttons that save typing."""
        self.save(turn, {**data, "step": step})
        cohort = self._cohort(turn, data)
        quick: list[Button] = []
        start = datetime.fromisoformat(f"{data['date']}T{data['start']}") if "start" in data else None
        if step == "date":
            quick = [Button(turn.label("relative_day", n), callbacks.encode("ew", "dt", n)) for n in (0, 1, 2)]
        elif step == "start":
            quick = [Button(t.replace(":", "."), callbacks.encode("ew", "t", t.replace(":", ""))) for t in QUICK_STARTS]
        elif step == "end":
            quick = [Button(turn.label("length", m), callbacks.encode("ew", "len", m)) for m in QUICK_LENGTHS]
        elif step in ("place", "description"):
            quick = [Button(turn.label("skip"), callbacks.encode("ew", "skip"))]
        elif step == "quota":
            quick = [Button(turn.label("no_quota"), callbacks.encode("ew", "nq"))]
        elif step == "closes" and start is not None:
            starts_at = to_utc(start, cohort.timezone)
            quick = [
                Button(turn.label("closes", days), callbacks.encode("ew", "cl", days))
                for days in CLOSING_DAYS
                if starts_at - timedelta(days=days) > turn.now
            ]
        rows = tuple((b,) for b in quick) if step in ("closes",) else ((tuple(quick),) if quick else ())
        return turn.say(
            "event_step",
            step=step,
            problem=problem,
            title=data.get("title"),
            timezone=cohort.timezone,
            start=start,
            buttons=(*rows, (cancel_button(turn),)),
        )

    def typed(self, turn: Turn, data: dict[str, Any], text: str) -> list[Reply]:
        step = data.get("step")
        value = " ".join(text.split())
        cohort = self._cohort(turn, data)
        today = self._today(turn, cohort)
        if step == "title":
            if not value:
                return [self._ask(turn, data, "title")]
            return [self._ask(turn, {**data, "title": value[:MAX_TITLE]}, "date")]
        if step == "date":
            try:  # a time typed with the date is the start time ("besok 09.00")
                moment = parse_date_time(value, today)
            except InputProblem as problem:
                if problem.code != "time":
                    return [self._ask(turn, data, "date", problem.code)]
                try:
                    day = parse_date(value, today)
                except InputProblem as second:
                    return [self._ask(turn, data, "date", second.code)]
                return [self._ask(turn, {**data, "date": day.isoformat()}, "start")]
            return self._take_start(turn, {**data, "date": moment.date().isoformat()}, moment.time())
        if step == "start":
            try:
                return self._take_start(turn, data, parse_time(value))
            except InputProblem as problem:
                return [self._ask(turn, data, "start", problem.code)]
        if step == "end":
            start = datetime.fromisoformat(f"{data['date']}T{data['start']}")
            try:
                end = parse_end(value, start)
            except InputProblem as problem:
                return [self._ask(turn, data, "end", problem.code)]
            return [self._ask(turn, {**data, "end": _local_iso(end)}, "place")]
        if step == "place":
            place, link = split_url(text)
            return [self._ask(turn, {**data, "place": place, "link": link}, "description")]
        if step == "description":
            return [self._ask(turn, {**data, "description": text.strip()[:MAX_DESCRIPTION] or None}, "quota")]
        if step == "quota":
            if not value.isdigit() or not 1 <= int(value) <= MAX_QUOTA:
                return [self._ask(turn, data, "quota", "quota")]
            return [self._ask(turn, {**data, "quota": int(value)}, "closes")]
        if step == "closes":
            start_time = time.fromisoformat(data["start"])
            try:
                closes = parse_date_time(value, today, start_time)
            except InputProblem as problem:
                return [self._ask(turn, data, "closes", problem.code)]
            return self._take_closing(turn, data, closes)
        return super().typed(turn, data, text)

    def _take_start(self, turn: Turn, data: dict[str, Any], start: time) -> list[Reply]:
        cohort = self._cohort(turn, data)
        moment = datetime.combine(date.fromisoformat(data["date"]), start)
        if to_utc(moment, cohort.timezone) <= turn.now:
            return [self._ask(turn, data, "date", "past")]
        return [self._ask(turn, {**data, "start": start.strftime("%H:%M")}, "end")]

    def _take_closing(self, turn: Turn, data: dict[str, Any], closes: datetime) -> list[Reply]:
        cohort = self._cohort(turn, data)
        start = datetime.fromisoformat(f"{data['date']}T{data['start']}")
        if to_utc(closes, cohort.timezone) <= turn.now:
            return [self._ask(turn, data, "closes", "past")]
        if closes > start:
            return [self._ask(turn, data, "closes", "after_start")]
        return [self.ask_audience(turn, {**data, "closes": _local_iso(closes)})]

    def button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        """`ew|…`: quick answers (day, start, length, skip, no quota, closing) and send."""
        what = args[0]
        steps = {"dt": ("date",), "t": ("start",), "len": ("end",), "skip": ("place", "description"),
                 "nq": ("quota",), "cl": ("closes",), "send": ("preview",)}  # fmt: skip
        data = self.current(turn, *steps.get(what, ("-",)))
        if data is None:
            return [turn.say("expired_button")]
        cohort = self._cohort(turn, data)
        if (
            what in ("dt", "len", "cl")
            and int(args[1]) not in {"dt": (0, 1, 2), "len": QUICK_LENGTHS, "cl": CLOSING_DAYS}[what]
        ):
            return [turn.say("expired_button")]  # only the values the buttons offer
        if what == "dt":
            day = self._today(turn, cohort) + timedelta(days=int(args[1]))
            return [self._ask(turn, {**data, "date": day.isoformat()}, "start")]
        if what == "t":
            return self._take_start(turn, data, time(int(args[1][:2]), int(args[1][2:])))
        if what == "len":
            start = datetime.fromisoformat(f"{data['date']}T{data['start']}")
            end = start + timedelta(minutes=int(args[1]))
            return [self._ask(turn, {**data, "end": _local_iso(end)}, "place")]
        if what == "skip":
            following = "description" if data["step"] == "place" else "quota"
            return [self._ask(turn, data, following)]
        if what == "nq":
            return [self._ask(turn, {**data, "quota": None}, "closes")]
        if what == "cl":
            start = datetime.fromisoformat(f"{data['date']}T{data['start']}")
            return self._take_closing(turn, data, start - timedelta(days=int(args[1])))
        if what == "send":
            return self._send(turn, data)
        return [turn.say("expired_button")]

    def reprompt(self, turn: Turn, data: dict[str, Any]) -> list[Reply]:
        if data.get("step") == "preview":
            return self.show_preview(turn, data)
        return super().reprompt(turn, data)

    def _draft(self, data: dict[str, Any], cohort: Cohort) -> Event:
        """The event as typed, not stored: for the preview."""
        start = datetime.fromisoformat(f"{data['date']}T{data['start']}")
        return Event(
            cohort_id=cohort.id,
            title=data["title"],
            starts_at=to_utc(start, cohort.timezone),
            ends_at=to_utc(datetime.fromisoformat(data["end"]), cohort.timezone),
            rsvp_closes_at=to_utc(datetime.fromisoformat(data["closes"]), cohort.timezone),
            timezone=cohort.timezone,
            place=data.get("place"),
            online_link=data.get("link"),
            description=data.get("description"),
            quota=data.get("quota"),
        )

    def show_preview(self, turn: Turn, data: dict[str, Any]) -> list[Reply]:
        cohort = self._cohort(turn, data)
        draft = self._draft(data, cohort)
        coach = self.coach_name(turn)

        def message(user: User, target: Cohort) -> str:
            return render(user.locale, "event_invitation", **rules.invitation_context(draft, coach, target.name))

        confirm = Button(turn.label("send_invitations"), callbacks.encode("ew", "send"))
        return self.preview_reply(turn, data, message, confirm, empty_ok=False)

    def _send(self, turn: Turn, data: dict[str, Any]) -> list[Reply]:
        cohort = self._cohort(turn, data)
        draft = self._draft(data, cohort)
        engagement = self.settings.engagement
        try:
            event, invited = rules.create_event(
                turn.repos,
                cohort,
                turn.actor.coach_id,
                title=draft.title,
                starts_at=draft.starts_at,
                ends_at=draft.ends_at,
                rsvp_closes_at=draft.rsvp_closes_at,
                audience=audience_of(data),
                now=turn.now,
                quiet=self.quiet,
                place=draft.place,
                online_link=draft.online_link,
                description=draft.description,
                quota=draft.quota,
                reminder_hours=tuple(engagement.event_reminder_hours),
                rating_time=engagement.rating_time,
            )
        except ValueError:  # the start or the closing passed while the coach was deciding
            return [self._ask(turn, data, "date", "past")]
        turn.repos.states.clear(turn.user.id)
        row = (Button(turn.label("open_event"), callbacks.encode("ev", event.id)),)
        return [turn.say("event_step", step="sent", title=event.title, invited=invited, buttons=(row,))]


class EventReplyFlow:
    """The member's side: RSVP buttons, the rating and its optional comment.

    The comment is optional, so many members will not write one: text arriving later than
    COMMENT_WINDOW after the rating is a question for the bot (`ask`), not a comment.
    """

    def __init__(self, ask: Callable[[Turn, str], list[Reply]]) -> None:
        self._ask = ask

    def rsvp_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        """`rv|<event>|yes|no|maybe` under an invitation (or a promotion)."""
        answer = args[1]
        if answer not in RSVP_ANSWERS:
            return [turn.say("expired_button")]
        event = turn.repos.events.by_id(int(args[0]))
        if event is None:
            return [turn.say("expired_button")]
        result = rules.answer_rsvp(turn.repos, event.id, turn.user, answer, turn.now)
        if result.outcome == "not_invited":
            return [turn.say("expired_button")]
        rsvp = turn.repos.events.rsvp(event.id, turn.user.id)
        position = None
        if result.outcome in ("waitlisted", "unchanged") and rsvp is not None and rsvp.waitlisted_at is not None:
            waiting = rules.event_view(turn.repos, event).waiting
            position = next((n for n, (uid, _) in enumerate(waiting, start=1) if uid == turn.user.id), None)
        text = turn.say(
            "rsvp_result",
            outcome=result.outcome,
            answer=None if rsvp is None else rsvp.answer,
            waiting=position,
            title=event.title,
            cancelled=event.status == "cancelled",
            starts=local(event.starts_at, event.timezone),
            ends=local(event.ends_at, event.timezone),
            closes=local(event.rsvp_closes_at, event.timezone),
            timezone=event.timezone,
            place=event.place,
            online_link=event.online_link,
        ).text
        if result.outcome == "placed":
            ics = Attachment(f"pelatihan-{event.id}.ics", rules.ics_file(event), "document")
            return [Reply(text, attachment=ics)]
        return [Reply(text)]

    def rate_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        """`rr|<event>|<1-5>`: the rating, then an optional comment."""
        event_id, stars = int(args[0]), int(args[1])
        event = turn.repos.events.by_id(event_id)
        if event is None or not rules.rate(turn.repos, event_id, turn.user.id, stars, turn.now):
            return [turn.say("rating_reply", step="refused")]
        until = (turn.now + COMMENT_WINDOW).isoformat()
        turn.repos.states.set(turn.user.id, RATING_STATE, {"event": event_id, "until": until}, at=turn.now)
        skip = Button(turn.label("skip"), callbacks.encode("rc"))
        return [turn.say("rating_reply", step="thanks", stars=stars, title=event.title, buttons=((skip,),))]

    def comment_text(self, turn: Turn, state: str, data: dict[str, Any], text: str) -> list[Reply]:
        """The comment typed after a rating (or, once the moment has passed, a question)."""
        turn.repos.states.clear(turn.user.id)
        until = data.get("until")
        if not isinstance(until, str) or turn.now > datetime.fromisoformat(until):
            return self._ask(turn, text)
        saved = rules.comment(turn.repos, int(data.get("event", 0)), turn.user.id, text)
        return [turn.say("rating_reply", step="comment_saved" if saved else "refused")]

    def skip_comment(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        """`rc`: no comment."""
        state = turn.repos.states.get(turn.user.id)
        if state is not None and state.state == RATING_STATE:
            turn.repos.states.clear(turn.user.id)
        return [turn.say("rating_reply", step="skipped")]
