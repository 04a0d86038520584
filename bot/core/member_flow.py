"""The entrepreneur's side of coaching: joining and leaving cohorts, asking their coach, and
follow-up questions on a thread. What joining shares is said before anything is shared."""

from __future__ import annotations

from collections.abc import Callable

from bot.coaching import handoff
from bot.coaching.cohorts import join_cohort
from bot.core import callbacks
from bot.core.messages import Button, Reply
from bot.core.turn import Turn
from bot.storage import Coach, Cohort, OutboxMessage
from index import SearchIndex

__all__ = ["ASK_STATE", "FOLLOW_UP_STATE", "MemberFlow"]

ASK_STATE = "member.ask"  # waiting for the question text, or for the choice of coach
FOLLOW_UP_STATE = "member.follow_up"

OnboardingStarter = Callable[[Turn], list[Reply]]


class MemberFlow:
    """Cohort membership and questions to a coach."""

    def __init__(self, index: SearchIndex, start_onboarding: OnboardingStarter) -> None:
        self.index = index
        self._start_onboarding = start_onboarding

    # -- joining ------------------------------------------------------------------------------

    def join_prompt(self, turn: Turn, code: str) -> list[Reply]:
        """What joining shares and with whom, before anything is shared."""
        cohort = turn.repos.cohorts.by_code(code)
        if cohort is None or cohort.archived_at is not None:
            return [turn.say("join_unknown")]
        coach, institution = self._coach_of(turn, cohort)
        if turn.repos.cohorts.membership(cohort.id, turn.user.id) is not None:
            return [turn.say("join_already", cohort=cohort.name, coach=coach.name)]
        row = (
            Button(turn.label("join"), callbacks.encode("kj", code)),
            Button(turn.label("not_now"), callbacks.encode("kn")),
        )
        return [
            turn.say(
                "join_prompt",
                cohort=cohort.name,
                coach=coach.name,
                institution=None if institution is None else institution.name,
                buttons=(row,),
            )
        ]

    def join(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        cohort = turn.repos.cohorts.by_code(args[0])
        if cohort is None or cohort.archived_at is not None:
            return [turn.say("join_unknown")]
        coach, _ = self._coach_of(turn, cohort)
        if turn.repos.cohorts.membership(cohort.id, turn.user.id) is not None:
            return [turn.say("join_already", cohort=cohort.name, coach=coach.name)]
        join_cohort(turn.repos, turn.user, cohort, turn.now)
        replies = [turn.say("join_done", cohort=cohort.name, coach=coach.name)]
        if turn.user.name is None:  # let the coach know who joined
            replies += self._start_onboarding(turn)
        return replies

    def not_now(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        return [turn.say("join_declined")]

    def my_cohorts(self, turn: Turn, args: str) -> list[Reply]:
        memberships = turn.repos.cohorts.of_member(turn.user.id)
        if not memberships:
            return [turn.say("my_cohorts_empty")]
        items = []
        rows = []
        for _, cohort, coach in memberships:
            institution = turn.repos.coaches.institution(coach.institution_id)
            items.append({"cohort": cohort.name, "coach": coach.name, "institution": institution and institution.name})
            rows.append((Button(turn.label("leave", cohort.name), callbacks.encode("kl", cohort.id)),))
        return [turn.say("my_cohorts", items=items, buttons=tuple(rows))]

    def leave(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        cohort = turn.repos.cohorts.by_id(int(args[0]))
        if cohort is None or not turn.repos.cohorts.leave(cohort.id, turn.user.id, at=turn.now):
            return [turn.say("expired_button")]
        return [turn.say("left_cohort", cohort=cohort.name)]

    def _coach_of(self, turn: Turn, cohort: Cohort):  # type: ignore[no-untyped-def]
        coach = turn.repos.coaches.coach(cohort.coach_id)
        assert coach is not None  # cohorts.coach_id is a non-null foreign key
        return coach, turn.repos.coaches.institution(coach.institution_id)

    # -- asking the coach ---------------------------------------------------------------------

    def ask_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        """ "Ask my coach" under an answer or an "I don't know": about that question."""
        question_id = int(args[0]) if args and args[0].isascii() and args[0].isdigit() else 0
        entry_id = args[1] if len(args) > 1 and args[1] in self.index.by_id else None
        question = turn.repos.questions.by_id(question_id) if question_id else None
        if question is not None and question.user_id != turn.user.id:
            question = None  # someone else's question id: treat as a fresh question
        if question is not None and question.answered and question.top_ids:
            entry_id = question.top_ids[0]
        text = question.text if question is not None else ""
        return self._ask(turn, text, question.id if question else None, entry_id)

    def ask_command(self, turn: Turn, args: str) -> list[Reply]:
        return self._ask(turn, args.strip(), None, None)

    def _ask(self, turn: Turn, text: str, question_id: int | None, entry_id: str | None) -> list[Reply]:
        coaches = self._coaches(turn)
        if not coaches:
            return [turn.say("coach_none")]
        data = {"text": text[: handoff.MAX_TEXT], "question_id": question_id, "entry_id": entry_id}
        turn.repos.states.set(turn.user.id, ASK_STATE, data, at=turn.now)
        if not text:
            return [turn.say("ask_coach_type", buttons=((self._cancel_button(turn),),))]
        return [self._confirm(turn, text, coaches)]

    def ask_text(self, turn: Turn, state: str, data: dict[str, object], text: str) -> list[Reply]:
        """The question typed after "ask my coach"."""
        coaches = self._coaches(turn)
        if not coaches:
            turn.repos.states.clear(turn.user.id)
            return [turn.say("coach_none")]
        data = {**data, "text": text[: handoff.MAX_TEXT]}
        turn.repos.states.set(turn.user.id, ASK_STATE, data, at=turn.now)
        return [self._confirm(turn, text, coaches)]

    def _confirm(self, turn: Turn, text: str, coaches: list[tuple[Cohort, Coach]]) -> Reply:
        rows = [
            (Button(turn.label("send_to", coach.name, cohort.name if len(coaches) > 1 else None),
                    callbacks.encode("ks", cohort.id)),)
            for cohort, coach in coaches
        ]  # fmt: skip
        rows.append((self._cancel_button(turn),))
        names = [coach.name for _, coach in coaches]
        return turn.say("ask_coach_confirm", text=text, coaches=names, buttons=tuple(rows))

    def send(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        state = turn.repos.states.get(turn.user.id)
        if state is None or state.state != ASK_STATE or not state.data.get("text"):
            return [turn.say("expired_button")]
        cohort = turn.repos.cohorts.by_id(int(args[0]))
        if cohort is None or turn.repos.cohorts.membership(cohort.id, turn.user.id) is None:
            return [turn.say("expired_button")]
        coach, _ = self._coach_of(turn, cohort)
        entry_id = state.data.get("entry_id")
        entry = self.index.by_id.get(str(entry_id)) if entry_id else None
        handoff.ask_coach(
            turn.repos,
            turn.user,
            coach,
            cohort,
            str(state.data["text"]),
            question_log_id=_int_or_none(state.data.get("question_id")),
            entry_id=None if entry is None else entry.id,
            entry_title=None if entry is None else entry.title,
            at=turn.now,
        )
        turn.repos.states.clear(turn.user.id)
        return [turn.say("ask_coach_sent", coach=coach.name)]

    def cancel_ask(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        turn.repos.states.clear(turn.user.id)
        return [turn.say("cancelled")]

    def _coaches(self, turn: Turn) -> list[tuple[Cohort, Coach]]:
        """One (cohort, coach) per distinct coach of the member's cohorts."""
        seen: set[int] = set()
        found = []
        for _, cohort, coach in turn.repos.cohorts.of_member(turn.user.id):
            if coach.id not in seen:
                seen.add(coach.id)
                found.append((cohort, coach))
        return found

    def _cancel_button(self, turn: Turn) -> Button:
        return Button(turn.label("cancel"), callbacks.encode("kx"))

    # -- follow-up on a thread ----------------------------------------------------------------

    def follow_up_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        thread = turn.access.own_thread(int(args[0]), "follow-up")
        turn.repos.states.set(turn.user.id, FOLLOW_UP_STATE, {"thread_id": thread.id}, at=turn.now)
        return [turn.say("follow_up_prompt", buttons=((self._cancel_button(turn),),))]

    def follow_up_text(self, turn: Turn, state: str, data: dict[str, object], text: str) -> list[Reply]:
        thread = turn.access.own_thread(int(str(data.get("thread_id", 0))), "follow-up")
        turn.repos.states.clear(turn.user.id)
        return self._follow_up(turn, thread.id, text)

    def native_reply(self, turn: Turn, sent: OutboxMessage, text: str) -> list[Reply]:
        """A Telegram reply to the coach's answer: a follow-up on that thread."""
        return self._follow_up(turn, turn.access.own_thread(int(sent.subject_id or 0), "follow-up").id, text)

    def reply_to_personal(self, turn: Turn, sent: OutboxMessage, text: str) -> list[Reply]:
        """A Telegram reply to a coach's personal message becomes a question to that coach."""
        cohort = turn.repos.cohorts.by_id(int(sent.subject_id or 0))
        if cohort is None or turn.repos.cohorts.membership(cohort.id, turn.user.id) is None:
            return [turn.say("coach_none")]
        coach, _ = self._coach_of(turn, cohort)
        handoff.ask_coach(turn.repos, turn.user, coach, cohort, text, at=turn.now)
        return [turn.say("ask_coach_sent", coach=coach.name)]

    def _follow_up(self, turn: Turn, thread_id: int, text: str) -> list[Reply]:
        thread = turn.access.own_thread(thread_id, "follow-up")
        if thread.coach_id is None or not turn.repos.cohorts.coach_sees_member(thread.coach_id, turn.user.id):
            return [turn.say("coach_none")]
        handoff.follow_up(turn.repos, thread, turn.user, text, at=turn.now)
        coach = turn.repos.coaches.coach(thread.coach_id)
        return [turn.say("ask_coach_sent", coach=coach.name if coach else "")]


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) else None
