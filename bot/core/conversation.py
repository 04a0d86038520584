"""The conversation: commands, onboarding, questions and buttons, turned into replies.

One call of `handle` is one unit of work: it reads and writes the database in a single
transaction, so a failure leaves nothing half-written and the state survives restarts.
"""

from __future__ import annotations

import logging
from math import ceil

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.core import callbacks
from bot.core.messages import Button, Incoming, Reply
from bot.core.progress_flow import ProgressFlow
from bot.core.turn import Turn
from bot.rendering import render
from bot.storage import SECTORS, Database, Repositories, run_with_retry
from index import TOPICS, Entry, SearchIndex, SearchResult

log = logging.getLogger(__name__)

PROFILE_FIELDS = ("name", "sector", "district", "products")
ONBOARDING_STATE = "onboarding"
PROFILE_EDIT_STATE = "profile_edit"
MAX_FIELD_CHARS = 120


class Conversation:
    """The Telegram-free core both fronts call."""

    def __init__(self, settings: Settings, index: SearchIndex, database: Database) -> None:
        self.settings = settings
        self.index = index
        self.database = database
        self.progress = ProgressFlow(index)

    def handle(self, incoming: Incoming) -> list[Reply]:
        """Handle one user action in one transaction (retried on a concurrent-insert race)."""
        return run_with_retry(lambda: self._handle_once(incoming))

    def first_delivery(self, event_id: int) -> bool:
        """True the first time an event id (a Telegram update_id) is seen, False for a repeat."""
        with self.database.transaction() as session:
            return Repositories(session).updates.claim(event_id)

    def _handle_once(self, incoming: Incoming) -> list[Reply]:
        with self.database.transaction() as session:
            turn = self._turn(session, incoming)
            return self._dispatch(turn, incoming)

    def _turn(self, session: Session, incoming: Incoming) -> Turn:
        repos = Repositories(session)
        locale = self.settings.bot.default_locale
        if (incoming.user.language_code or "").startswith("en"):
            locale = "en"
        user, _ = repos.users.get_or_create(incoming.user.channel, incoming.user.external_id, locale)
        return Turn(repos, user)

    # -- dispatch ---------------------------------------------------------------------------

    def _dispatch(self, turn: Turn, incoming: Incoming) -> list[Reply]:
        if incoming.kind == "command":
            return self._command(turn, incoming)
        if incoming.kind == "button":
            return self._button(turn, incoming.data)
        if incoming.kind == "media":
            if incoming.media == "photo" and incoming.text.strip():
                return self._text(turn, incoming.text)
            return [turn.say("media_unsupported", kind=incoming.media)]
        return self._text(turn, incoming.text)

    def _command(self, turn: Turn, incoming: Incoming) -> list[Reply]:
        command = incoming.command
        if command == "start":
            return self._start(turn, incoming)
        if command in ("bantuan", "help"):
            return [turn.say("help")]
        if command in ("batal", "cancel"):
            cancelled = turn.repos.states.clear(turn.user.id)
            return [turn.say("cancelled" if cancelled else "nothing_to_cancel")]
        if command in ("bahasa", "language"):
            row = tuple(Button(turn.label("language", c), callbacks.encode("lang", c)) for c in ("id", "en"))
            return [turn.say("language_choose", buttons=(row,))]
        if command in ("topik", "topics"):
            return [self._topics(turn)]
        if command in ("profil", "profile"):
            return [self._profile(turn)]
        if command in self.progress.COMMANDS:
            return self.progress.command(turn, command, incoming.args)
        return [turn.say("help")]

    def _text(self, turn: Turn, text: str) -> list[Reply]:
        state = turn.repos.states.get(turn.user.id)
        if state is not None and state.state in (ONBOARDING_STATE, PROFILE_EDIT_STATE):
            return self._profile_answer(turn, state.state, dict(state.data), text)
        if state is not None and state.state.startswith(self.progress.STATE_PREFIX):
            return self.progress.text(turn, state.state, dict(state.data), text)
        return self._question(turn, text)

    # -- consent and onboarding -------------------------------------------------------------

    def _start(self, turn: Turn, incoming: Incoming) -> list[Reply]:
        payload = incoming.args.strip()[:64]
        if payload:
            turn.user.start_payload = payload
        if turn.user.consent_at is not None:
            return [turn.say("welcome_back", name=turn.user.name)]
        row = (
            Button(turn.label("consent_yes"), callbacks.encode("consent", "yes")),
            Button(turn.label("consent_no"), callbacks.encode("consent", "no")),
        )
        return [turn.say("privacy", name=None, buttons=(row,))]

    def _consent(self, turn: Turn, answer: str) -> list[Reply]:
        if answer != "yes":
            return [turn.say("consent_declined")]
        turn.repos.users.give_consent(turn.user)
        return self._ask_field(turn, ONBOARDING_STATE, "name", intro=True)

    def _ask_field(self, turn: Turn, state: str, field: str, *, intro: bool = False) -> list[Reply]:
        turn.repos.states.set(turn.user.id, state, {"field": field})
        skip = (Button(turn.label("skip"), callbacks.encode("skip")),)
        if field == "sector":
            rows = tuple(
                (Button(turn.label("sector", a), callbacks.encode("sector", a)),
                 Button(turn.label("sector", b), callbacks.encode("sector", b)))
                for a, b in zip(SECTORS[::2], SECTORS[1::2], strict=True)
            )
            return [turn.say("onboarding_sector", buttons=(*rows, skip))]
        template = "onboarding_name" if intro else f"onboarding_{field}"
        if field == "name" and not intro:
            template = "onboarding_name_only"
        return [turn.say(template, buttons=(skip,))]

    def _profile_answer(self, turn: Turn, state: str, data: dict[str, object], value: str | None) -> list[Reply]:
        field = str(data.get("field", "name"))
        if value is not None:
            value = " ".join(value.split())[:MAX_FIELD_CHARS] or None
            if field == "sector":
                value = value if value in SECTORS else None
            if value is not None:
                turn.repos.users.update_profile(turn.user, **{field: value})
        if state == PROFILE_EDIT_STATE:
            turn.repos.states.clear(turn.user.id)
            return [turn.say("profile_saved"), self._profile(turn)]
        following = PROFILE_FIELDS.index(field) + 1
        if following < len(PROFILE_FIELDS):
            return self._ask_field(turn, state, PROFILE_FIELDS[following])
        turn.repos.states.clear(turn.user.id)
        return [turn.say("onboarding_done", name=turn.user.name)]

    def _profile(self, turn: Turn) -> Reply:
        if turn.user.consent_at is None:
            return turn.say("needs_consent")
        rows = tuple(
            (Button(turn.label("edit_field", f), callbacks.encode("edit", f)),) for f in PROFILE_FIELDS
        )
        sector = turn.label("sector", turn.user.sector) if turn.user.sector in SECTORS else None
        return turn.say("profile", user=turn.user, sector_name=sector, buttons=rows)

    # -- questions ----------------------------------------------------------------------------

    def _question(self, turn: Turn, text: str) -> list[Reply]:
        result = self.index.search(text, k=max(3, self.settings.search.k))
        if result.reason == "empty":
            return [turn.say("empty_question")]
        if result.reason == "small_talk":
            return [turn.say("small_talk", name=turn.user.name)]
        question_id = self._record(turn, result)
        if not result.answered:
            rows = ((Button(turn.label("topics"), callbacks.encode("topics")),),
                    (Button(turn.label("ask_coach"), callbacks.encode("coach", question_id or 0)),))
            return [turn.say("no_answer", suggestions=[], buttons=rows)]
        close = self._close_hits(result)
        if len(close) > 1:
            rows = tuple((Button(e.title, callbacks.encode("e", e.id)),) for e in close)
            return [turn.say("did_you_mean", buttons=rows)]
        return [self._answer_card(turn, result.hits[0].entry, question_id)]

    def _close_hits(self, result: SearchResult) -> list[Entry]:
        """Hits answerable and within the configured margin of the best: too close to guess."""
        best = result.hits[0].score
        answers = self.index.settings.answers
        margin = self.settings.search.close_margin
        return [
            h.entry for h in result.hits[:3]
            if answers(h.score, result.scope, result.mode) and best - h.score <= margin
        ]

    def _record(self, turn: Turn, result: SearchResult) -> int | None:
        if turn.user.consent_at is None:
            return None  # nothing personal is stored before consent
        row = turn.repos.questions.add(
            turn.user.id,
            result.query,
            result.normalized,
            [h.entry.id for h in result.hits],
            [round(h.score, 4) for h in result.hits],
            result.answered,
        )
        return row.id

    def _answer_card(self, turn: Turn, entry: Entry, question_id: int | None) -> Reply:
        rows: list[tuple[Button, ...]] = []
        if question_id is not None:
            rows.append(
                (Button(turn.label("helpful"), callbacks.encode("fb", "up", question_id)),
                 Button(turn.label("not_helpful"), callbacks.encode("fb", "down", question_id)))
            )
        for related_id in entry.related[:3]:
            related = self.index.by_id.get(related_id)
            if related is not None:
                rows.append((Button(turn.label("see_also", related.title), callbacks.encode("e", related.id)),))
        rows.append((Button(turn.label("ask_coach"), callbacks.encode("coach", question_id or 0)),))
        return turn.say("answer", entry=entry, buttons=tuple(rows))

    # -- buttons ------------------------------------------------------------------------------

    def _button(self, turn: Turn, data: str) -> list[Reply]:
        press = callbacks.decode(data)
        if press is None:
            return [turn.say("expired_button")]
        action, args = press.action, press.args
        try:
            if action == "consent":
                return self._consent(turn, args[0])
            if action == "lang":
                turn.repos.users.set_locale(turn.user, args[0])
                return [turn.say("language_set")]
            if action == "skip":
                state = turn.repos.states.get(turn.user.id)
                if state is None:
                    return [turn.say("nothing_to_cancel")]
                return self._profile_answer(turn, state.state, dict(state.data), None)
            if action == "sector":
                state = turn.repos.states.get(turn.user.id)
                if state is None or state.data.get("field") != "sector":
                    return [turn.say("expired_button")]
                return self._profile_answer(turn, state.state, dict(state.data), args[0])
            if action == "edit":
                if turn.user.consent_at is None or args[0] not in PROFILE_FIELDS:
                    return [turn.say("needs_consent")]
                return self._ask_field(turn, PROFILE_EDIT_STATE, args[0])
            if action == "e":
                entry = self.index.by_id.get(args[0])
                return [self._answer_card(turn, entry, None)] if entry else [turn.say("expired_button")]
            if action == "fb":
                stored = turn.repos.questions.set_feedback(int(args[1]), turn.user.id, args[0])
                if not stored:
                    return [turn.say("expired_button")]
                return [turn.say("feedback_thanks" if args[0] == "up" else "feedback_sorry")]
            if action == "coach":
                return [turn.say("coach_none")]
            if action == "topics":
                return [self._topics(turn)]
            if action == "t":
                return [self._topic_page(turn, args[0], int(args[1]))]
            if action in self.progress.ACTIONS:
                return self.progress.button(turn, action, args)
        except (IndexError, ValueError):
            log.info("malformed button data %r", data)
        return [turn.say("expired_button")]

    def _topics(self, turn: Turn) -> Reply:
        rows = tuple(
            (Button(turn.label("topic", a), callbacks.encode("t", a, 1)),
             Button(turn.label("topic", b), callbacks.encode("t", b, 1)))
            for a, b in zip(TOPICS[::2], TOPICS[1::2], strict=True)
        )
        return turn.say("topics", buttons=rows)

    def _topic_page(self, turn: Turn, topic: str, page: int) -> Reply:
        if topic not in TOPICS:
            return turn.say("expired_button")
        entries = sorted((e for e in self.index.entries if e.topic == topic), key=lambda e: e.title)
        size = self.settings.bot.topic_page_size
        pages = max(1, ceil(len(entries) / size))
        page = min(max(page, 1), pages)
        rows: list[tuple[Button, ...]] = [
            (Button(e.title, callbacks.encode("e", e.id)),) for e in entries[(page - 1) * size : page * size]
        ]
        paging = []
        if page > 1:
            paging.append(Button(turn.label("previous"), callbacks.encode("t", topic, page - 1)))
        if page < pages:
            paging.append(Button(turn.label("next"), callbacks.encode("t", topic, page + 1)))
        if paging:
            rows.append(tuple(paging))
        rows.append((Button(turn.label("back_to_topics"), callbacks.encode("topics")),))
        text = render(turn.locale, "topic_entries", topic_name=turn.label("topic", topic), page=page, pages=pages)
        return Reply(text, tuple(rows), edit=True)
