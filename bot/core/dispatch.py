"""Routing: which handler serves a command, a button or a step of a dialogue, and who may use it.

The table itself is in `bot.core.routes`, in one place. Every route passes `Dispatcher`, which
checks the role before the handler runs and runs the handler in a savepoint, so a refusal found
deeper down (a cohort that is not yours) rolls back whatever the handler had begun.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.coaching.access import AccessDenied, Who
from bot.core import callbacks
from bot.core.messages import Reply
from bot.core.turn import Turn

__all__ = ["ButtonRoute", "CommandRoute", "Dispatcher", "Routes", "StateRoute"]

log = logging.getLogger(__name__)

CommandHandler = Callable[[Turn, str], list[Reply]]
ButtonHandler = Callable[[Turn, tuple[str, ...]], list[Reply]]
StateHandler = Callable[[Turn, str, dict[str, Any], str], list[Reply]]


@dataclass(frozen=True)
class CommandRoute:
    """`/name args`; several names (Indonesian and English) may share a handler."""

    names: tuple[str, ...]
    handler: CommandHandler
    who: Who
    menu: bool = False  # listed in Telegram's command menu


@dataclass(frozen=True)
class ButtonRoute:
    """A button press with callback action `action` (see bot.core.callbacks)."""

    action: str
    handler: ButtonHandler
    who: Who


@dataclass(frozen=True)
class StateRoute:
    """Typed text while the user is in dialogue state `state` (or one starting with it + '.')."""

    state: str
    handler: StateHandler
    who: Who


@dataclass(frozen=True)
class Routes:
    """The whole table."""

    commands: Sequence[CommandRoute]
    buttons: Sequence[ButtonRoute]
    states: Sequence[StateRoute]


class Dispatcher:
    """Finds the route, checks who may use it, runs it."""

    def __init__(self, routes: Routes) -> None:
        self.routes = routes
        self._commands = {name: route for route in routes.commands for name in route.names}
        self._buttons = {route.action: route for route in routes.buttons}
        if len(self._commands) != sum(len(r.names) for r in routes.commands):
            raise ValueError("a command name is routed twice")
        if len(self._buttons) != len(routes.buttons):
            raise ValueError("a button action is routed twice")

    def command_route(self, name: str) -> CommandRoute | None:
        return self._commands.get(name)

    def state_route(self, state: str) -> StateRoute | None:
        for route in self.routes.states:
            if state == route.state or state.startswith(route.state + "."):
                return route
        return None

    def command(self, turn: Turn, name: str, args: str, fallback: CommandHandler) -> list[Reply]:
        route = self._commands.get(name)
        if route is None:
            return fallback(turn, args)
        return self.run_handler(turn, route.who, f"/{route.names[0]}", lambda: route.handler(turn, args))

    def button(self, turn: Turn, data: str) -> list[Reply]:
        press = callbacks.decode(data)
        route = None if press is None else self._buttons.get(press.action)
        if press is None or route is None:
            return [turn.say("expired_button")]

        def run() -> list[Reply]:
            try:
                return route.handler(turn, press.args)
            except (IndexError, ValueError):  # truncated or forged arguments
                log.info("malformed button data for action %s", press.action)
                return [turn.say("expired_button")]

        return self.run_handler(turn, route.who, f"button:{press.action}", run)

    def state(self, turn: Turn, route: StateRoute, state: str, data: dict[str, Any], text: str) -> list[Reply]:
        return self.run_handler(turn, route.who, f"state:{route.state}", lambda: route.handler(turn, state, data, text))

    def run_handler(self, turn: Turn, who: Who, action: str, handler: Callable[[], list[Reply]]) -> list[Reply]:
        """Check `who`, then run `handler` in a savepoint that a refusal rolls back."""
        if not turn.actor.may(who):
            if who is Who.MEMBER or not turn.actor.consented:
                return [turn.say("needs_consent")]
            turn.access.refuse(action)
            return [turn.say("not_allowed")]
        savepoint = turn.repos.session.begin_nested()
        try:
            replies = handler()
        except AccessDenied:
            savepoint.rollback()
            return [turn.say("not_allowed")]
        savepoint.commit()
        return replies
