"""The terminal front: the same conversation core as Telegram, on standard input and output.

Buttons are shown as numbered choices; typing the number presses the button. Files (a chart, an
export) are written to a folder and their path is printed. Messages other people send you
through the outbox (a coach's reply, a reminder) are printed as they arrive, so the whole
hand-off can be tried in two terminals on one SQLite file. Piped input runs non-interactively
and ends at end of input.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from bot.core import Button, Conversation, Incoming, Reply, UserRef
from bot.rendering import html_to_text, render

CHANNEL = "terminal"
log = logging.getLogger(__name__)


def parse_line(line: str, user: UserRef, choices: list[Button]) -> Incoming | None:
    """One typed line as the core's input: a button number, a /command, or text."""
    text = line.strip()
    if text.isascii() and text.isdigit() and 1 <= int(text) <= len(choices):
        return Incoming(user, "button", data=choices[int(text) - 1].data)
    if text.startswith("/") and len(text) > 1:
        command, _, args = text[1:].partition(" ")
        return Incoming(user, "command", command=command.split("@")[0].lower(), args=args.strip())
    return Incoming(user, "text", text=line.rstrip("\n"))


def _saved(folder: Path | None, filename: str, content: bytes) -> Path | None:
    """Write a file the bot sent into `folder` (kept apart per name); its path, or None."""
    if folder is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / Path(filename).name  # never a path the text chose
    path.write_bytes(content)
    return path


def show(reply: Reply, out: TextIO, files: Path | None = None) -> list[Button]:
    """Print one reply as plain text with numbered buttons; returns the buttons in order."""
    out.write(html_to_text(reply.text) + "\n")
    buttons = [b for row in reply.buttons for b in row]
    numbered = [b for b in buttons if b.kind == "callback"]
    for n, button in enumerate(numbered, start=1):
        out.write(f"  [{n}] {button.label}\n")
    for button in buttons:  # links cannot be pressed here: print where they go
        if button.kind != "callback":
            out.write(f"  {button.label}: {button.url or button.web_app_url}\n")
    if reply.attachment is not None:
        path = _saved(files, reply.attachment.filename, reply.attachment.content)
        where = f"saved to {path}" if path else f"{len(reply.attachment.content)} bytes"
        out.write(f"  (file: {reply.attachment.filename}, {where})\n")
    return numbered


class _Choices:
    """The buttons the next typed number presses: from the last reply or the last delivered
    message, whichever came later (the delivery thread writes, the input loop reads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buttons: list[Button] = []

    def get(self) -> list[Button]:
        with self._lock:
            return list(self._buttons)

    def set(self, buttons: list[Button]) -> None:
        if buttons:
            with self._lock:
                self._buttons = buttons


DeliveryStarter = Callable[[str, Callable[[Reply], None]], Callable[[], None]]


def run_chat(
    conversation: Conversation,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    *,
    user_id: str | None = None,
    locale: str = "id",
    files: Path | None = None,
    delivery: DeliveryStarter | None = None,
) -> int:
    """Talk until end of input; returns the exit code. `delivery(user, show)` starts delivering
    this user's outbox messages to `show` and returns the function that stops it."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    interactive = stdin.isatty()
    user = UserRef(CHANNEL, user_id or getpass.getuser(), language_code=locale)
    stdout.write(html_to_text(render(locale, "terminal_intro")) + "\n\n")
    choices = _Choices()
    printing = threading.Lock()

    def delivered(reply: Reply) -> None:
        with printing:
            stdout.write("\n📨 ")
            choices.set(show(reply, stdout, files))
            stdout.write("\n")
            stdout.flush()

    stop_delivery = delivery(user.external_id, delivered) if delivery is not None else None
    try:
        while True:
            if interactive:
                stdout.write("> ")
                stdout.flush()
            line = stdin.readline()
            if not line:
                return 0
            incoming = parse_line(line, user, choices.get())
            if incoming is None or (incoming.kind == "text" and not line.strip()):
                continue
            try:
                replies = conversation.handle(incoming)
            except Exception:  # noqa: BLE001 - the user gets a message, the log gets the traceback
                log.exception("conversation failed")
                replies = [Reply(render(locale, "error"))]
            with printing:
                if not interactive:
                    stdout.write(f"> {line.strip()}\n")
                shown: list[Button] = []
                for reply in replies:
                    shown.extend(show(reply, stdout, files))
                    stdout.write("\n")
                choices.set(shown)
                stdout.flush()
    finally:
        if stop_delivery is not None:
            stop_delivery()


def terminal_delivery(settings, database) -> DeliveryStarter:  # type: ignore[no-untyped-def]
    """Deliver a terminal user's outbox messages (and run the scheduler) in a background thread
    with its own event loop, for `run_chat`."""
    from bot.delivery import CallbackSender, OutgoingMessage
    from bot.delivery.service import BackgroundDelivery

    def start(user: str, show_reply: Callable[[Reply], None]) -> Callable[[], None]:
        def shown(message: OutgoingMessage) -> None:
            show_reply(_as_reply(message))

        background = BackgroundDelivery(
            settings, database, CallbackSender(shown), channel=CHANNEL, chat_ids=[user]
        )
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(background.start())
            ready.set()
            loop.run_forever()

        thread = threading.Thread(target=serve, name="terminal-delivery", daemon=True)
        thread.start()
        ready.wait(timeout=10)

        def stop() -> None:
            asyncio.run_coroutine_threadsafe(background.stop(), loop).result(timeout=30)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)

        return stop

    return start


def _as_reply(message) -> Reply:  # type: ignore[no-untyped-def]
    """An outbox message as a reply the terminal can show (its buttons pressable by number)."""
    from bot.core.messages import Attachment

    buttons = tuple(tuple(Button(b.label, b.data) for b in row) for row in message.buttons)
    document = message.document
    attachment = None if document is None else Attachment(document.filename, document.content)
    return Reply(message.text, buttons, attachment)
