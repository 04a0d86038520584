"""Jinja2 rendering of every user-facing text from bot/templates/<locale>/ (HTML, autoescaped)."""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import Any, Literal

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

Locale = Literal["id", "en"]
LOCALES: tuple[Locale, ...] = ("id", "en")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_TAG = re.compile(r"<[^>]+>")


def _inline_markdown(text: str) -> Markup:
    """Escape knowledge text, then turn its **bold** into <b>bold</b>."""
    return Markup(_BOLD.sub(r"<b>\1</b>", str(escape(text))))


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The shared Jinja2 environment: autoescape on, undefined variables are errors."""
    env = Environment(
        loader=PackageLoader("bot", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["md"] = _inline_markdown
    return env


def render(locale: str, template: str, **context: Any) -> str:
    """Render `<locale>/<name>.html.j2` to Telegram-ready HTML."""
    if locale not in LOCALES:
        locale = "id"
    return environment().get_template(f"{locale}/{template}.html.j2").render(**context).strip()


def html_to_text(text: str) -> str:
    """Telegram HTML -> plain text for the terminal (tags dropped, entities unescaped)."""
    return html.unescape(_TAG.sub("", text))


def label(locale: str, name: str, *args: Any) -> str:
    """A button label: a macro of `<locale>/buttons.html.j2`, as plain text (Telegram shows
    labels verbatim, so the HTML escaping is undone)."""
    if locale not in LOCALES:
        locale = "id"
    module = environment().get_template(f"{locale}/buttons.html.j2").module
    return html.unescape(str(getattr(module, name)(*args))).strip()
