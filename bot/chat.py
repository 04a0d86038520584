"""The terminal front: the same conversation core as Telegram, on standard input and output.

Buttons are shown as numbered choices; typing the number presses the button. Piped input runs
non-interactively and ends at end of input.
"""

from __future__ import annotations

import getpass
import logging
import sys
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


def show(reply: Reply, out: TextIO) -> list[Button]:
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
        out.write(f"  (file: {reply.attachment.filename}, {len(reply.attachment.content)} bytes)\n")
    return numbered


def run_chat(
    conversation: Conversation,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    *,
    user_id: str | None = None,
    locale: str = "id",
) -> int:
    """Talk until end of input; returns the exit code."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    interactive = stdin.isatty()
    user = UserRef(CHANNEL, user_id or getpass.getuser(), language_code=locale)
    stdout.write(html_to_text(render(locale, "terminal_intro")) + "\n\n")
    choices: list[Button] = []
    while True:
        if interactive:
            stdout.write("> ")
            stdout.flush()
        line = stdin.readline()
        if not line:
            return 0
        incoming = parse_line(line, user, choices)
        if incoming is None or (incoming.kind == "text" and not line.strip()):
            continue
        if not interactive:
            stdout.write(f"> {line.strip()}\n")
        try:
            replies = conversation.handle(incoming)
        except Exception:  # noqa: BLE001 - the user gets a message, the log gets the traceback
            log.exception("conversation failed")
            replies = [Reply(render(locale, "error"))]
        shown: list[Button] = []
        for reply in replies:
            shown.extend(show(reply, stdout))
            stdout.write("\n")
        choices = shown or choices
        stdout.flush()
