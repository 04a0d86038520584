"""The conversation: one user action in, replies out, in one database transaction.

One call of `handle` is one unit of work: it reads and writes the database in a single
transaction (messages for other people included, as outbox rows), so a failure leaves nothing
half-written and the state survives restarts. What each command, button and dialogue step does
is in the flows; which flow serves what, and who may use it, is the table in `routes.py`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from bot.coaching.access import Who, actor_for
from bot.coaching.links import DeepLink
from bot.config import Settings
from bot.core.account_flow import ONBOARDING_STATE, AccountFlow
from bot.core.advice_flow import AdviceFlow
from bot.core.coach_flow import CoachFlow
from bot.core.dispatch import Dispatcher
from bot.core.engagement import EngagementFlows
from bot.core.member_flow import MemberFlow
from bot.core.messages import Incoming, Reply
from bot.core.progress_flow import ProgressFlow
from bot.core.routes import build_routes
from bot.core.turn import Turn
from bot.storage import Database, Repositories, User, run_with_retry, utcnow
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
        self.progress = ProgressFlow(index, now=now)
        self.member = MemberFlow(index, self._start_onboarding)
        self.coach = CoachFlow(settings)
        self.engagement = EngagementFlows(settings, self.progress, self.advice.question)
        self.routes = build_routes(self.account, self.advice, self.progress, self.member, self.coach, self.engagement)
        self.dispatcher = Dispatcher(self.routes)
        self._admins = settings.admin_ids()

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
            if turn.consented:
                turn.user.last_active_at = turn.now
            return self._dispatch(turn, incoming)

    def _turn(self, session: Session, incoming: Incoming) -> Turn:
        repos = Repositories(session)
        user = repos.users.get(incoming.user.channel, incoming.user.external_id)
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
            if route is not None:
                return self.dispatcher.state(turn, route, state.state, dict(state.data), text)
            turn.repos.states.clear(turn.user.id)  # a state this version no longer knows
        return self.advice.question(turn, text)

    def _native_reply(self, turn: Turn, text: str, reply_to: int) -> list[Reply] | None:
        """A Telegram reply to a message the outbox delivered: a coach answering a forwarded
        question, or a member following up on a coach's answer."""
        sent = turn.repos.outbox.by_sent_message(turn.user.id, reply_to)
        if sent is None or sent.subject_type != "handoff":
            return None
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
