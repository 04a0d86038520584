"""Dashboard pages as HTML: the shared Jinja2 environment (autoescaped) plus a few filters."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.progress.chart import format_rupiah, format_rupiah_short
from bot.rendering import LOCALES, environment

__all__ = ["page_html", "pick_locale"]


def _when(moment: datetime | None, timezone: str = "Asia/Jakarta", with_time: bool = True) -> str:
    if moment is None:
        return "–"
    local = moment.astimezone(ZoneInfo(timezone))
    return local.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")


def _day(value: date | datetime | None) -> str:
    return "–" if value is None else value.strftime("%Y-%m-%d")


def _filters() -> None:
    env = environment()
    if "when" not in env.filters:
        env.filters.update(
            when=_when,
            day=_day,
            rupiah=lambda v: "–" if v is None else format_rupiah(int(v)),
            rupiah_short=lambda v: "–" if v is None else format_rupiah_short(int(v)),
        )


def page_html(locale: str, template: str, **context: Any) -> str:
    """Render `<locale>/dashboard/<template>.html.j2` (a whole HTML page)."""
    _filters()
    if locale not in LOCALES:
        locale = "id"
    return environment().get_template(f"{locale}/dashboard/{template}.html.j2").render(locale=locale, **context)


def pick_locale(accept_language: str, default: str) -> str:
    """For pages shown before anyone is signed in: English only when the browser prefers it."""
    first = accept_language.split(",")[0].strip().lower()
    if first.startswith("en"):
        return "en"
    if first.startswith("id"):
        return "id"
    return default if default in LOCALES else "id"
