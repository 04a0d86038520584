"""The conversation: one user action in, replies out, in one database transaction.

One call of `handle` is one unit of work: it reads and writes the database in a single
transaction (messages for other people included, as outbox rows), so a failure leaves nothing
half-written and the state survives restarts. What each command, button and dialogue step does
is in the flows; which flow serves what, and who may use it, is the table in `routes.py`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import overload

from sqlalchemy.orm import Session

from bot.coaching.access import Who, actor_for
from bot.coaching.links import DeepLink
from bot.config import Settings
from bot.core.account_flow import ONBOARDING_STATE, PROFILE_EDIT_STATE, AccountFlow
from bot.core.advice_flow import AdviceFlow
from bot.core.coach_flow import CoachFlow
from bot.core.dashboard_flow import DashboardFlow
from bot.core.dispatch import Dispatcher
from bot.core.engagement import EngagementFlows
from bot.core.member_flow import MemberFlow
from bot.core.messages import Incoming, Reply, UserRef, reply_payload
from bot.core.progress_flow import ProgressFlow
from bot.core.routes import build_routes
from bot.core.turn import Turn
from bot.storage import Database, Repositories, User, run_with_retry, utcnow
from bot.storage.repos.outbox import OutboxRepository
from index import SearchIndex

log = logging.getLogger(__name__)


class Conversation:
    """The Telegram-free core both fronts call."""

    def __init__(
        self,
        settings: Settings,
        index: SearchIndex,
        database: Database,
        *,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.index = index
        self.database = database
        self.now = now  # injectable clock (tests fix it); timezone-aware
        self.account = AccountFlow(self._deep_link, self._store_consenting_user)
        self.advice = AdviceFlow(settings, index)
        # One clock for the whole core: tests move `conversation.now` and every flow follows.
        self.progress = ProgressFlow(index, now=lambda: self.now())
        self.member = MemberFlow(index, self._start_onboarding)
        self.coach = CoachFlow(settings)
        self.dashboard = DashboardFlow(settings)
        self.engagement = EngagementFlows(settings, self.progress, self.advice.question)
        self.routes = build_routes(
            self.account, self.advice, self.progress, self.member, self.coach, self.dashboard, self.engagement
        )
        self.dispatcher = Dispatcher(self.routes)
        self._admins = settings.admin_ids()
        # Units of work that committed outbox rows: a front that sees it grow wakes the delivery
        # worker (most questions queue nothing, and a wake costs the worker a claim transaction).
        self.queued_units = 0
        self._queued_lock = threading.Lock()

    @overload
    def handle(self, incoming: Incoming) -> list[Reply]: ...
    @overload
    def handle(self, incoming: Incoming, event_id: int) -> list[Reply] | None: ...

    def handle(self, incoming: Incoming, event_id: int | None = None) -> list[Reply] | None:
        """Handle one user action in one transaction (retried on a concurrent-insert race or a
        lost connection). With `event_id` (a Telegram update_id) the update is claimed in that
        same transaction: a redelivered update returns None and changes nothing, and an update
        whose handling failed is not marked handled."""
        if incoming.kind == "text":
            # Most texts are questions: search before the transaction opens, so that the database
            # (on SQLite the whole file) is not held while the question is encoded; the question
            # flow finds the result in the index's cache.
            self.advice.prefetch(incoming.text)
        return run_with_retry(lambda: self._handle_once(incoming, event_id))

    def queue_replies(self, user: UserRef, replies: list[Reply], key: str, *, wait_seconds: float = 0) -> int:
        """Replies that could not be sent now (Telegram down, a broken connection, a rate limit
        that outlasted the retries) go to the outbox, for the worker to deliver when the fault
        clears, not before `wait_seconds` (Telegram's retry_after); how many were queued. Nothing
        can be queued for someone who has not consented (nothing about them is stored).

        Retried like `handle` (a connection lost mid-way, a busy SQLite file): the update was
        handled already, so failing here would lose its replies — and the apology would ask the
        user to repeat what is already done. Queueing again is safe: the dedupe keys hold."""
        return run_with_retry(lambda: self._queue_replies_once(user, replies, key, wait_seconds))

    def _queue_replies_once(self, user: UserRef, replies: list[Reply], key: str, wait_seconds: float) -> int:
        not_before = self.now() + timedelta(seconds=wait_seconds) if wait_seconds > 0 else None
        with self.database.transaction() as session:
            repos = Repositories(session)
            stored = repos.users.get(user.channel, user.external_id)
            if stored is None or stored.consent_at is None:
                return 0
            return sum(
                repos.outbox.enqueue(
                    stored, "reply", reply_payload(reply), f"{key}:{n}", urgent=True, not_before=not_before
                )
                is not None
                for n, reply in enumerate(replies)
            )

    def mark_blocked(self, user: UserRef) -> None:
        """Telegram says this person blocked the bot: later sends skip them until they write.
        (Retried like `handle`; marking twice changes nothing.)"""
        run_with_retry(lambda: self._mark_blocked_once(user))

    def _mark_blocked_once(self, user: UserRef) -> None:
        with self.database.transaction() as session:
            stored = Repositories(session).users.get(user.channel, user.external_id)
            if stored is not None and stored.blocked_at is None:
                stored.blocked_at = self.now()

    def _handle_once(self, incoming: Incoming, event_id: int | None = None) -> list[Reply] | None:
        with self.database.transaction() as session:
            if event_id is not None and not Repositories(session).updates.claim(event_id):
                return None
            turn = self._turn(session, incoming)
            if turn.consented:
                turn.user.last_active_at = turn.now
                turn.user.blocked_at = None  # they write to us, so they no longer block the bot
            replies = self._dispatch(turn, incoming)
        if OutboxRepository.queued_in(session):
            with self._queued_lock:
                self.queued_units += 1
        return replies

    def _turn(self, session: Session, incoming: Incoming) -> Turn:
        repos = Repositories(session)
        user = repos.users.get(incoming.user.channel, incoming.user.external_id, lock=True)
        if user is None:
            # Not stored: nothing about a person is written before they consent.
            locale = self.settings.bot.default_locale
            if (incoming.user.language_code or "").startswith("en"):
                locale = "en"
            user = User(channel=incoming.user.channel, external_id=incoming.user.external_id, locale=locale)
        actor = actor_for(repos, user, self._admins)
        return Turn(repos, user, actor, self.now(), first_name=incoming.user.first_name)

    def _store_consenting_user(self, turn: Turn, payload: str) -> None:
        """The user said yes: store them now, with consent, and refresh who they are."""
        users = turn.repos.users
        user, _ = users.get_or_create(turn.user.channel, turn.user.external_id, turn.user.locale)
        users.give_consent(user, at=turn.now)
        if payload and user.start_payload is None:
            user.start_payload = payload
        user.last_active_at = turn.now
        turn.repos.session.flush()
        turn.user = user
        turn.actor = actor_for(turn.repos, user, self._admins)
        turn.access.actor = turn.actor

    # -- dispatch -----------------------------------------------------------------------------

    def _dispatch(self, turn: Turn, incoming: Incoming) -> list[Reply]:
        if incoming.kind == "command":
            route = self.dispatcher.command_route(incoming.command)
            if turn.consented and (route is None or route.handler != self.account.cancel):
                # A command leaves whatever dialogue was going on (it may start its own);
                # /batal does the same and says so.
                turn.repos.states.clear(turn.user.id)
            return self.dispatcher.command(turn, incoming.command, incoming.args, self.account.help)
        if incoming.kind == "button":
            return self.dispatcher.button(turn, incoming.data)
        if incoming.kind == "media":
            if incoming.media == "photo" and incoming.text.strip():
                return self._text(turn, incoming.text, None)
            return [turn.say("media_unsupported", kind=incoming.media)]
        return self._text(turn, incoming.text, incoming.reply_to)

    def _text(self, turn: Turn, text: str, reply_to: int | None) -> list[Reply]:
        if turn.consented and reply_to is not None:
            replies = self._native_reply(turn, text, reply_to)
            if replies is not None:
                return replies
        state = turn.repos.states.get(turn.user.id) if turn.consented else None
        if state is not None:
            route = self.dispatcher.state_route(state.state)
            expired = state.updated_at < turn.now - timedelta(minutes=self.settings.bot.flow_minutes)
            if route is not None and not expired and not self._steps_aside(turn, state.state, dict(state.data), text):
                return self.dispatcher.state(turn, route, state.state, dict(state.data), text)
            # Expired, unknown to this version, or a question where a name or number was
            # expected: the dialogue steps aside and the message is read afresh.
            turn.repos.states.clear(turn.user.id)
            if state.state == ONBOARDING_STATE and not expired:
                return [*self.advice.question(turn, text), turn.say("onboarding_later")]
        return self.advice.question(turn, text)

    def _steps_aside(self, turn: Turn, state: str, data: dict[str, object], text: str) -> bool:
        """True when a message in a dialogue that expects a name, a place or a figure is
        clearly a question instead (and, for a figure, does not read as one)."""
        if state in (ONBOARDING_STATE, PROFILE_EDIT_STATE):
            return data.get("field") != "sector" and self.advice.is_question(text)
        if state.startswith(ProgressFlow.STATE_PREFIX):
            return not self.progress.reads(turn, data, text) and self.advice.is_question(text)
        return False

    def _native_reply(self, turn: Turn, text: str, reply_to: int) -> list[Reply] | None:
        """A Telegram reply to a message the outbox delivered: a coach answering a forwarded
        question, a member following up on a coach's answer or answering a personal message."""
        sent = turn.repos.outbox.by_sent_message(turn.user.id, reply_to)
        if sent is None or sent.subject_type not in ("handoff", "personal"):
            return None
        if sent.subject_type == "personal":  # a reply to the coach's personal message: ask that coach
            return self.dispatcher.run_handler(
                turn, Who.MEMBER, "native-reply", lambda: self.member.reply_to_personal(turn, sent, text)
            )
        if sent.kind == "handoff_question":
            handler, who = self.coach.native_reply, Who.COACH
        else:
            handler, who = self.member.native_reply, Who.MEMBER
        return self.dispatcher.run_handler(turn, who, "native-reply", lambda: handler(turn, sent, text))

    # -- hooks for the flows ------------------------------------------------------------------

    def _deep_link(self, turn: Turn, link: DeepLink) -> list[Reply]:
        if link.kind == "join":
            return self.member.join_prompt(turn, link.code)
        return self.coach.invite_prompt(turn, link.code)

    def _start_onboarding(self, turn: Turn) -> list[Reply]:
        return self.account.ask_field(turn, ONBOARDING_STATE, "name", intro=True)
