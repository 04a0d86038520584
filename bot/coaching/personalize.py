"""A coach's message text with variables ({{ nama }}, {{ usaha }}, {{ langkah_berikutnya }},
{{ kelompok }}), rendered per recipient in a sandboxed, autoescaping Jinja2 environment.

The coach's text is untrusted: the sandbox stops attribute tricks, autoescape turns HTML into
text, and unknown variables are errors — found at preview, before anything is scheduled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from bot.progress.milestones import milestones_for_sector, next_suggested
from bot.rendering import label
from bot.storage import Cohort, Repositories, User

__all__ = ["VARIABLES", "PersonalText", "TemplateProblem", "check_text", "render_for"]

VARIABLES = ("nama", "usaha", "langkah_berikutnya", "kelompok")
MAX_TEXT = 2000
# Jinja2 tags; everything between them is the coach's literal text.
_TAGS = re.compile(r"({{.*?}}|{%.*?%}|{#.*?#})", re.DOTALL)


class TemplateProblem(ValueError):
    """The coach's text cannot be used; the message says why in plain words."""


@dataclass(frozen=True)
class PersonalText:
    """The text rendered for one recipient, safe to put into an HTML template."""

    html: Markup


@lru_cache(maxsize=1)
def _environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(autoescape=True, undefined=StrictUndefined)


@lru_cache(maxsize=256)
def _template(text: str):  # type: ignore[no-untyped-def]
    """The compiled template of a coach's text (one compile per text, not per recipient)."""
    return _environment().from_string(_source(text))


def _source(text: str) -> str:
    """The template source with the coach's literal text escaped: autoescape covers only the
    variables, and "<b>" typed by a coach must show as text, not become Telegram markup."""
    return "".join(part if _TAGS.fullmatch(part) else str(escape(part)) for part in _TAGS.split(text))


def _context(repos: Repositories, user: User, cohort: Cohort, done: set[str] | None) -> dict[str, str]:
    milestones = milestones_for_sector(user.sector)
    following = next_suggested(milestones, done if done is not None else repos.milestones.done_ids(user.id))
    step = ""
    if following is not None:
        step = following.title_en if user.locale == "en" else following.title_id
    business = user.products or (label(user.locale, "sector", user.sector) if user.sector else "")
    return {
        "nama": user.name or label(user.locale, "default_member_name"),
        "usaha": business or label(user.locale, "default_business"),
        "langkah_berikutnya": step or label(user.locale, "no_next_step"),
        "kelompok": cohort.name,
    }


def check_text(text: str) -> None:
    """Raise TemplateProblem when the text is empty, too long, or its variables are wrong."""
    if not text.strip():
        raise TemplateProblem("empty")
    if len(text) > MAX_TEXT:
        raise TemplateProblem("too_long")
    try:
        _template(text).render({name: name for name in VARIABLES})
    except TemplateError as exc:
        raise TemplateProblem(str(exc)) from exc


def render_for(
    repos: Repositories, text: str, user: User, cohort: Cohort, *, done: set[str] | None = None
) -> PersonalText:
    """The text for `user` (check_text first: this raises TemplateProblem on a bad text);
    `done`, the user's done milestones when the caller read them for many users at once."""
    try:
        html = _template(text).render(_context(repos, user, cohort, done))
    except TemplateError as exc:
        raise TemplateProblem(str(exc)) from exc
    return PersonalText(Markup(html.strip()))
