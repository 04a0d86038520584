"""Where the dashboard's pages live: every path under one prefix, absolute links for chat."""

from __future__ import annotations

from urllib.parse import quote

__all__ = ["PREFIX", "app_url", "is_https", "login_url"]

PREFIX = "/dashboard"


def _base(public_url: str) -> str:
    return public_url.rstrip("/") + PREFIX


def login_url(public_url: str, code: str) -> str:
    """The one-time login link a coach opens in a desktop browser."""
    return f"{_base(public_url)}/login?code={quote(code)}"


def app_url(public_url: str) -> str:
    """The Mini App's address (Telegram opens it with the signed initData in the fragment)."""
    return f"{_base(public_url)}/app"


def is_https(public_url: str) -> bool:
    """Telegram opens Mini Apps only over HTTPS."""
    return public_url.lower().startswith("https://")
