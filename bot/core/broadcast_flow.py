"""`/siaran`: a one-off message to an audience of one cohort — or, for an admin, to everyone in an
institution's cohorts — guided: (scope →) cohort → audience → text → preview for one real member
with the count and how many blocked the bot → send; then a delivery report on a button.
The rules (who receives it, the outbox rows, the report) are `bot.coaching.broadcasts`."""

from __future__ import annotations

from typing import Any

from bot.coaching.broadcasts import broadcast_report, send_broadcast
from bot.coaching.personalize import TemplateProblem, render_for
from bot.core import callbacks
from bot.core.messages import Button, Reply
from bot.core.turn import Turn
from bot.core.wizard import (
    Wizard,
    audience_of,
    cancel_button,
    edited,
    explain_problem,
    institution_cohorts,
    owned_broadcast,
)
from bot.rendering import render
from bot.storage import Cohort, User

__all__ = ["BROADCAST_STATE", "BroadcastFlow"]

BROADCAST_STATE = "coach.broadcast"


class BroadcastFlow(Wizard):
    """Broadcasts: the guided message and its report."""

    state = BROADCAST_STATE
    purpose = "broadcast"

    def command(self, turn: Turn, args: str) -> list[Reply]:
        if not turn.actor.is_admin:
            return self.begin(turn)
        self.save(turn, {"step": "scope"})
        rows = (
            (Button(turn.label("scope", "cohort"), callbacks.encode("bw", "scope", "c")),),
            (Button(turn.label("scope", "institution"), callbacks.encode("bw", "scope", "i")),),
            (cancel_button(turn),),
        )
        return [turn.say("broadcast_step", step="scope", buttons=rows)]

    def institution_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        """`bi|<institution>` (admins): everyone in that institution's cohorts."""
        data = self.current(turn, "institution")
        if data is None:
            return [turn.say("expired_button")]
        institution_cohorts(turn, int(args[0]), "broadcast-institution")
        return [self.ask_audience(turn, {"institution": int(args[0])}, edit=True)]

    def button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        """`bw|scope|c|i` (admins) and `bw|send`."""
        if args[0] == "scope" and self.current(turn, "scope") is not None:
            if args[1] != "i":
                return self.begin(turn)
            institutions = turn.repos.coaches.institutions() if turn.actor.is_admin else []
            if not institutions:
                return [turn.say("invite_no_institution")]
            self.save(turn, {"step": "institution"})
            rows = tuple((Button(i.name, callbacks.encode("bi", i.id)),) for i in institutions[:20])
            return [edited(turn.say("broadcast_step", step="institution", buttons=(*rows, (cancel_button(turn),))))]
        data = self.current(turn, "preview")
        if args[0] != "send" or data is None:
            return [turn.say("expired_button")]
        return self._send(turn, data)

    def cohorts_of(self, turn: Turn, data: dict[str, Any]) -> list[Cohort]:
        if data.get("institution") is not None:
            return institution_cohorts(turn, int(data["institution"]), "broadcast-institution")
        return super().cohorts_of(turn, data)

    def reprompt(self, turn: Turn, data: dict[str, Any]) -> list[Reply]:
        if data.get("step") in ("scope", "institution"):
            return self.command(turn, "")
        return super().reprompt(turn, data)

    def _sender(self, turn: Turn, data: dict[str, Any]) -> str | None:
        if data.get("institution") is not None:
            institution = turn.repos.coaches.institution(int(data["institution"]))
            return None if institution is None else institution.name
        return self.coach_name(turn)

    def show_preview(self, turn: Turn, data: dict[str, Any]) -> list[Reply]:
        sender = self._sender(turn, data)

        def message(user: User, cohort: Cohort) -> str:
            body = render_for(turn.repos, str(data["text"]), user, cohort).html
            return render(user.locale, "broadcast_message", body=body, sender=sender, cohort=cohort.name)

        confirm = Button(turn.label("send_broadcast"), callbacks.encode("bw", "send"))
        return self.preview_reply(turn, data, message, confirm, empty_ok=False)

    def _send(self, turn: Turn, data: dict[str, Any]) -> list[Reply]:
        cohorts = self.cohorts_of(turn, data)
        institution = data.get("institution")
        try:
            broadcast = send_broadcast(
                turn.repos,
                cohorts,
                str(data["text"]),
                audience_of(data),
                turn.now,
                self.quiet,
                coach_id=turn.actor.coach_id,
                sender=self._sender(turn, data),
                institution_id=None if institution is None else int(institution),
            )
        except TemplateProblem as problem:  # checked at the preview already; said plainly anyway
            self.save(turn, {**data, "step": "text"})
            return [turn.say("wizard_text_problem", variables=(), **explain_problem(problem))]
        turn.repos.states.clear(turn.user.id)
        row = (Button(turn.label("report"), callbacks.encode("br", broadcast.id)),)
        return [
            turn.say(
                "broadcast_step",
                step="sent",
                recipients=broadcast.recipients,
                blocked=broadcast.skipped_blocked,
                buttons=(row,),
            )
        ]

    def report_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        """`br|<broadcast>` (`|r`: refresh in place): sent, blocked, failed, uncertain, pending."""
        broadcast = owned_broadcast(turn, int(args[0]), "broadcast-report")
        report = broadcast_report(turn.repos, broadcast)
        row = (Button(turn.label("refresh"), callbacks.encode("br", broadcast.id, "r")),)
        reply = turn.say("broadcast_report", report=report, text=broadcast.text, buttons=(row,))
        return [edited(reply, len(args) > 1)]
