"""The steps the coach's guided dialogues share — reminders, invitations and broadcasts: which
cohort (skipped when there is one), which audience (the whole cohort, members missing a
milestone, members with no figures this month, one person), the message text with a preview
rendered for one real recipient, and ownership of reminders, events and broadcasts.

A dialogue lives in one conversation state (`Wizard.state`) whose data holds the step and the
answers so far. The shared buttons (`wc`, `wa`, `wm`, `wp`) find the dialogue in progress through
that state, so a button left over from an earlier dialogue is refused as expired. Every cohort,
member and object is fetched through `turn.access` again on each press.
"""

from __future__ import annotations

import difflib
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from math import ceil
from typing import Any
from zoneinfo import ZoneInfo

from jinja2.exceptions import TemplateSyntaxError, UndefinedError
from markupsafe import Markup

from bot.coaching.access import Who
from bot.coaching.audience import Audience
from bot.coaching.audience import select as select_audience
from bot.coaching.broadcasts import preview_audience
from bot.coaching.personalize import MAX_TEXT, VARIABLES, TemplateProblem, check_text
from bot.coaching.quiet_hours import QuietHours
from bot.config import Settings
from bot.core import callbacks
from bot.core.messages import Button, Reply
from bot.core.turn import Turn
from bot.progress.milestones import load_milestones
from bot.storage import Broadcast, Cohort, Event, Reminder, User

__all__ = [
    "PAGE_SIZE",
    "Wizard",
    "WizardButtons",
    "audience_words",
    "cancel_button",
    "edited",
    "explain_problem",
    "local",
    "milestone_titles",
    "owned_broadcast",
    "owned_event",
    "owned_reminder",
    "paging",
]

PAGE_SIZE = 8
_UNDEFINED = re.compile(r"'([^']+)' is undefined")


# -- small helpers ----------------------------------------------------------------------------


def cancel_button(turn: Turn) -> Button:
    """✖ Batal: ends any coach dialogue (the same as /batal)."""
    return Button(turn.label("cancel"), callbacks.encode("cx"))


def paging(turn: Turn, action: str, page: int, pages: int, *prefix: object) -> list[tuple[Button, ...]]:
    row = []
    if page > 1:
        row.append(Button(turn.label("previous"), callbacks.encode(action, *prefix, page - 1)))
    if page < pages:
        row.append(Button(turn.label("next"), callbacks.encode(action, *prefix, page + 1)))
    return [tuple(row)] if row else []


def page_of(items: Sequence[Any], page: int, size: int = PAGE_SIZE) -> tuple[Sequence[Any], int, int]:
    """(the items on `page`, the page clamped to what exists, the number of pages)."""
    pages = max(1, ceil(len(items) / size))
    page = min(max(page, 1), pages)
    return items[(page - 1) * size : page * size], page, pages


def edited(reply: Reply, edit: bool = True) -> Reply:
    """The reply replacing the message whose button was pressed (paging, toggles)."""
    return replace(reply, edit=edit)


def local(moment: datetime | None, timezone: str) -> datetime | None:
    return None if moment is None else moment.astimezone(ZoneInfo(timezone))


def milestone_titles(locale: str) -> dict[str, str]:
    return {m.id: (m.title_en if locale == "en" else m.title_id) for m in load_milestones()}


def audience_words(turn: Turn, kind: str, milestone: str | None, user_id: int | None) -> dict[str, Any]:
    """An audience for the templates' `audience` macro: its kind, milestone title, person."""
    person = turn.repos.users.by_id(user_id) if user_id is not None else None
    return {
        "kind": kind,
        "milestone": milestone_titles(turn.locale).get(milestone or "", milestone),
        "person": None if person is None else (person.name or f"#{person.id}"),
    }


def explain_problem(problem: TemplateProblem) -> dict[str, Any]:
    """A TemplateProblem in plain words for the template `wizard_text_problem`: what is wrong
    and, for a misspelt variable, the closest one."""
    cause = problem.__cause__
    if str(problem) in ("empty", "too_long"):
        return {"code": str(problem), "name": None, "suggestion": None, "limit": MAX_TEXT}
    if isinstance(cause, UndefinedError):
        if "unsafe" in str(cause):
            return {"code": "unsafe", "name": None, "suggestion": None, "limit": MAX_TEXT}
        found = _UNDEFINED.search(str(cause))
        name = found.group(1) if found else None
        close = difflib.get_close_matches(name or "", VARIABLES, n=1, cutoff=0.5)
        return {"code": "unknown", "name": name, "suggestion": close[0] if close else None, "limit": MAX_TEXT}
    if isinstance(cause, TemplateSyntaxError):
        return {"code": "syntax", "name": None, "suggestion": None, "limit": MAX_TEXT}
    return {"code": "other", "name": None, "suggestion": None, "limit": MAX_TEXT}


# -- ownership, always through turn.access ----------------------------------------------------


def owned_reminder(turn: Turn, reminder_id: int, action: str) -> tuple[Reminder, Cohort]:
    reminder = turn.repos.reminders.by_id(reminder_id)
    if reminder is None:
        raise turn.access.refuse(action)
    return reminder, turn.access.cohort(reminder.cohort_id, action)


def owned_event(turn: Turn, event_id: int, action: str) -> tuple[Event, Cohort]:
    event = turn.repos.events.by_id(event_id)
    if event is None:
        raise turn.access.refuse(action)
    return event, turn.access.cohort(event.cohort_id, action)


def owned_broadcast(turn: Turn, broadcast_id: int, action: str) -> Broadcast:
    """A broadcast to one of the actor's cohorts; an institution-wide one is for admins only."""
    broadcast = turn.repos.broadcasts.by_id(broadcast_id)
    if broadcast is None:
        raise turn.access.refuse(action)
    if broadcast.cohort_id is not None:
        turn.access.cohort(broadcast.cohort_id, action)
    else:
        turn.access.require(Who.ADMIN, action)
    return broadcast


def institution_cohorts(turn: Turn, institution_id: int, action: str) -> list[Cohort]:
    """Every active cohort of an institution's coaches (admins only)."""
    turn.access.require(Who.ADMIN, action)
    if turn.repos.coaches.institution(institution_id) is None:
        raise turn.access.refuse(action)
    return [c for coach in turn.repos.coaches.coaches(institution_id) for c in turn.repos.cohorts.for_coach(coach.id)]


# -- the dialogue -----------------------------------------------------------------------------


class Wizard(ABC):
    """One guided dialogue kept in conversation state `state`. Subclasses say what follows the
    audience and render the preview; the shared steps are here."""

    state = ""
    purpose = ""  # reminder | event | broadcast: picks the wording of the shared templates
    # Steps at which typed text is the message text (a new text replaces the previewed one).
    text_steps: tuple[str, ...] = ("text", "preview")

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        engagement = settings.engagement
        self.quiet = QuietHours(engagement.quiet_start, engagement.quiet_end)

    # -- state --------------------------------------------------------------------------------

    def save(self, turn: Turn, data: dict[str, Any]) -> None:
        turn.repos.states.set(turn.user.id, self.state, data, at=turn.now)

    def current(self, turn: Turn, *steps: str) -> dict[str, Any] | None:
        """The dialogue's data when the user is in it at one of `steps` (any step if none)."""
        state = turn.repos.states.get(turn.user.id)
        if state is None or state.state != self.state:
            return None
        if steps and state.data.get("step") not in steps:
            return None
        return dict(state.data)

    def cohorts_of(self, turn: Turn, data: dict[str, Any]) -> list[Cohort]:
        """The cohorts the message goes to, checked again (one, except admin broadcasts)."""
        return [turn.access.cohort(int(data["cohort"]), f"{self.purpose}-cohort")]

    def coach_name(self, turn: Turn) -> str | None:
        coach = turn.repos.coaches.coach(turn.actor.coach_id) if turn.actor.coach_id else None
        return None if coach is None else coach.name

    # -- cohort -------------------------------------------------------------------------------

    def begin(self, turn: Turn) -> list[Reply]:
        cohorts = turn.access.cohorts()
        if not cohorts:
            turn.repos.states.clear(turn.user.id)
            return [turn.say("wizard", step="no_cohort", purpose=self.purpose)]
        if len(cohorts) == 1:
            return self.after_cohort(turn, {"cohort": cohorts[0].id})
        return [self.ask_cohort(turn, {}, 1)]

    def ask_cohort(self, turn: Turn, data: dict[str, Any], page: int, *, edit: bool = False) -> Reply:
        self.save(turn, {**data, "step": "cohort"})
        shown, page, pages = page_of(turn.access.cohorts(), page)
        rows: list[tuple[Button, ...]] = [(Button(c.name, callbacks.encode("wc", c.id)),) for c in shown]
        rows += paging(turn, "wc", page, pages, "p")
        rows.append((cancel_button(turn),))
        return edited(turn.say("wizard", step="cohort", purpose=self.purpose, buttons=tuple(rows)), edit)

    def after_cohort(self, turn: Turn, data: dict[str, Any]) -> list[Reply]:
        return [self.ask_audience(turn, data)]

    # -- audience -----------------------------------------------------------------------------

    def ask_audience(self, turn: Turn, data: dict[str, Any], *, edit: bool = False) -> Reply:
        self.save(turn, {**data, "step": "audience"})
        cohorts = self.cohorts_of(turn, data)
        whole = len(preview_audience(turn.repos, cohorts, Audience(), turn.now))
        no_figures = len(preview_audience(turn.repos, cohorts, Audience("no_figures"), turn.now))
        rows: list[tuple[Button, ...]] = [
            (Button(turn.label("audience", "cohort", whole), callbacks.encode("wa", "c")),),
            (Button(turn.label("audience", "missing_milestone", None), callbacks.encode("wa", "m", 1)),),
            (Button(turn.label("audience", "no_figures", no_figures), callbacks.encode("wa", "f")),),
        ]
        if "cohort" in data:  # one person makes sense within one cohort
            rows.append((Button(turn.label("audience", "person", None), callbacks.encode("wa", "p", 1)),))
        rows.append((cancel_button(turn),))
        names = [c.name for c in cohorts]
        return edited(
            turn.say("wizard", step="audience", purpose=self.purpose, cohorts=names, buttons=tuple(rows)), edit
        )

    def ask_milestone(self, turn: Turn, data: dict[str, Any], page: int) -> Reply:
        """Milestones that apply to someone in the cohort(s), the most often missing first."""
        self.save(turn, {**data, "step": "milestone"})
        members: dict[int, User] = {}
        for cohort in self.cohorts_of(turn, data):
            members.update({u.id: u for u in select_audience(turn.repos, cohort, Audience(), turn.now).users})
        done = turn.repos.milestones.done_for_users(members)
        missing = []
        for milestone in load_milestones():
            if any(milestone.applies_to(u.sector) for u in members.values()):
                # Counted as the audience rule selects: every member who has not done it.
                missing.append((milestone, sum(1 for u in members.values() if milestone.id not in done[u.id])))
        missing.sort(key=lambda item: (-item[1], item[0].order))
        shown, page, pages = page_of(missing, page)
        titles = milestone_titles(turn.locale)
        rows: list[tuple[Button, ...]] = [
            (Button(turn.label("milestone_missing", titles[m.id], n), callbacks.encode("wm", m.id)),) for m, n in shown
        ]
        rows += paging(turn, "wa", page, pages, "m")
        rows.append((Button(turn.label("back"), callbacks.encode("wa", "a")), cancel_button(turn)))
        return edited(turn.say("wizard", step="milestone", purpose=self.purpose, buttons=tuple(rows)), True)

    def ask_person(self, turn: Turn, data: dict[str, Any], page: int) -> Reply:
        self.save(turn, {**data, "step": "person"})
        [cohort] = self.cohorts_of(turn, data)
        members = select_audience(turn.repos, cohort, Audience(), turn.now).users
        shown, page, pages = page_of(members, page)
        rows: list[tuple[Button, ...]] = [(Button(u.name or f"#{u.id}", callbacks.encode("wp", u.id)),) for u in shown]
        rows += paging(turn, "wa", page, pages, "p")
        rows.append((Button(turn.label("back"), callbacks.encode("wa", "a")), cancel_button(turn)))
        return edited(turn.say("wizard", step="person", purpose=self.purpose, buttons=tuple(rows)), True)

    def choose_audience(self, turn: Turn, data: dict[str, Any], audience: Audience) -> list[Reply]:
        data = {**data, "audience": {"kind": audience.kind, "milestone": audience.milestone, "user": audience.user_id}}
        return self.after_audience(turn, data)

    def after_audience(self, turn: Turn, data: dict[str, Any]) -> list[Reply]:
        return [self.ask_text(turn, data)]

    # -- text and preview ---------------------------------------------------------------------

    def ask_text(self, turn: Turn, data: dict[str, Any]) -> Reply:
        self.save(turn, {**data, "step": "text"})
        return turn.say(
            "wizard", step="text", purpose=self.purpose, variables=VARIABLES, buttons=((cancel_button(turn),),)
        )

    def take_text(self, turn: Turn, data: dict[str, Any], text: str) -> list[Reply]:
        """Check the typed text; a problem is explained and the coach types again."""
        text = text.strip()
        try:
            check_text(text)
        except TemplateProblem as problem:
            self.save(turn, {**data, "step": "text"})
            return [
                turn.say(
                    "wizard_text_problem",
                    variables=VARIABLES,
                    **explain_problem(problem),
                    buttons=((cancel_button(turn),),),
                )
            ]
        return self.show_preview(turn, {**data, "text": text, "step": "preview"})

    def preview_reply(
        self,
        turn: Turn,
        data: dict[str, Any],
        render_message: Any,
        confirm: Button,
        *,
        empty_ok: bool,
    ) -> list[Reply]:
        """The message as one real recipient will read it, and how many will get it.

        `render_message(user, cohort)` returns the message's HTML (in the recipient's language).
        """
        self.save(turn, data)
        cohorts = self.cohorts_of(turn, data)
        audience = audience_of(data)
        recipients = preview_audience(turn.repos, cohorts, audience, turn.now)
        blocked = sum(select_audience(turn.repos, c, audience, turn.now).skipped_blocked for c in cohorts)
        sample = recipients[0] if recipients else None
        message = None if sample is None else Markup(render_message(*sample))
        rows: list[tuple[Button, ...]] = []
        if recipients or empty_ok:
            rows.append((confirm,))
        rows.append((cancel_button(turn),))
        return [
            turn.say(
                "wizard_preview",
                purpose=self.purpose,
                member=None if sample is None else (sample[0].name or f"#{sample[0].id}"),
                message=message,
                count=len(recipients),
                blocked=blocked,
                empty_ok=empty_ok,
                text_step=data.get("step") in self.text_steps,
                buttons=tuple(rows),
            )
        ]

    @abstractmethod
    def show_preview(self, turn: Turn, data: dict[str, Any]) -> list[Reply]:
        """Render the message for one recipient (`preview_reply`) with this dialogue's confirm."""

    # -- typed text ---------------------------------------------------------------------------

    def text(self, turn: Turn, state: str, data: dict[str, Any], text: str) -> list[Reply]:
        """The state route: typed text at the current step."""
        if data.get("step") in self.text_steps:
            return self.take_text(turn, data, text)
        return self.typed(turn, data, text)

    def typed(self, turn: Turn, data: dict[str, Any], text: str) -> list[Reply]:
        """Typed text at a step that wants a button: say so and show the step again."""
        return [turn.say("wizard", step="use_buttons", purpose=self.purpose), *self.reprompt(turn, data)]

    def reprompt(self, turn: Turn, data: dict[str, Any]) -> list[Reply]:
        step = data.get("step")
        if step == "cohort":
            return [self.ask_cohort(turn, data, 1)]
        if step in ("audience", "milestone", "person"):
            return [self.ask_audience(turn, data)]
        return [self.ask_text(turn, data)]


def audience_of(data: dict[str, Any]) -> Audience:
    chosen = data.get("audience") or {}
    return Audience(chosen.get("kind", "cohort"), chosen.get("milestone"), chosen.get("user"))


class WizardButtons:
    """The shared buttons: `wc` cohort, `wa` audience kind (or a page of milestones/members,
    or back to the kinds), `wm` milestone, `wp` one member. Each finds the dialogue in progress
    through the user's state."""

    def __init__(self, *wizards: Wizard) -> None:
        self.by_state = {w.state: w for w in wizards}

    def _active(self, turn: Turn, *steps: str) -> tuple[Wizard, dict[str, Any]] | None:
        state = turn.repos.states.get(turn.user.id)
        wizard = None if state is None else self.by_state.get(state.state)
        if wizard is None or state is None or state.data.get("step") not in steps:
            return None
        return wizard, dict(state.data)

    def cohort(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        """`wc|<cohort>` choose; `wc|p|<page>` another page."""
        active = self._active(turn, "cohort")
        if active is None:
            return [turn.say("expired_button")]
        wizard, data = active
        if args[0] == "p":
            return [wizard.ask_cohort(turn, data, int(args[1]), edit=True)]
        cohort = turn.access.cohort(int(args[0]), f"{wizard.purpose}-cohort")
        return wizard.after_cohort(turn, {**data, "cohort": cohort.id})

    def audience(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        """`wa|c` whole cohort, `wa|f` no figures this month, `wa|m|<page>` milestones,
        `wa|p|<page>` members, `wa|a` back to the choice."""
        active = self._active(turn, "audience", "milestone", "person")
        if active is None:
            return [turn.say("expired_button")]
        wizard, data = active
        kind = args[0]
        if kind == "c":
            return wizard.choose_audience(turn, data, Audience())
        if kind == "f":
            return wizard.choose_audience(turn, data, Audience("no_figures"))
        if kind == "m":
            return [wizard.ask_milestone(turn, data, int(args[1]))]
        if kind == "p" and "institution" not in data:
            return [wizard.ask_person(turn, data, int(args[1]))]
        if kind == "a":
            return [wizard.ask_audience(turn, data, edit=True)]
        return [turn.say("expired_button")]

    def milestone(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        """`wm|<milestone id>`: members who have not done it."""
        active = self._active(turn, "milestone")
        if active is None or args[0] not in {m.id for m in load_milestones()}:
            return [turn.say("expired_button")]
        wizard, data = active
        return wizard.choose_audience(turn, data, Audience("missing_milestone", milestone=args[0]))

    def person(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        """`wp|<user id>`: one active member of the dialogue's cohort."""
        active = self._active(turn, "person")
        if active is None or "cohort" not in active[1]:
            return [turn.say("expired_button")]
        wizard, data = active
        _, _, user = turn.access.member(int(data["cohort"]), int(args[0]), f"{wizard.purpose}-person")
        return wizard.choose_audience(turn, data, Audience("person", user_id=user.id))
