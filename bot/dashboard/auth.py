"""Sign-in for the dashboard: one-time login links, sessions and their CSRF tokens.

Codes and session tokens are random (256 bits), handed out once, and stored only as SHA-256
hashes (`repos.web`); a stolen database copy opens nothing. Each session has its own CSRF token,
which every form carries and every POST must return.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from bot.storage import Repositories, WebSession

__all__ = ["create_login_link", "csrf_matches", "digest", "redeem_login", "session_for", "start_session"]


def digest(secret: str) -> str:
    """The stored form of a code or token: SHA-256, hex (64 characters)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_login_link(repos: Repositories, user_id: int, now: datetime, minutes: float) -> str:
    """A new one-time code for `user_id`, valid for `minutes`; only its hash is stored."""
    code = secrets.token_urlsafe(32)
    repos.web.add_login(user_id, digest(code), now + timedelta(minutes=minutes), at=now)
    return code


def redeem_login(repos: Repositories, code: str, now: datetime) -> int | None:
    """The user id of an unused, unexpired code, which is spent by this; None otherwise."""
    if not code or len(code) > 128:
        return None
    return repos.web.use_login(digest(code), now)


def start_session(repos: Repositories, user_id: int, now: datetime, hours: float) -> tuple[str, WebSession]:
    """A new session: the token for the cookie (never stored) and the row."""
    token = secrets.token_urlsafe(32)
    row = repos.web.add_session(user_id, digest(token), secrets.token_urlsafe(32), now + timedelta(hours=hours), at=now)
    return token, row


def session_for(repos: Repositories, token: str | None, now: datetime) -> WebSession | None:
    """The live session a cookie's token belongs to."""
    if not token or len(token) > 128:
        return None
    return repos.web.live_session(digest(token), now)


def csrf_matches(session: WebSession, sent: str | None) -> bool:
    """The form's CSRF token is this session's (constant-time comparison)."""
    return bool(sent) and hmac.compare_digest(session.csrf_token.encode(), str(sent).encode())
