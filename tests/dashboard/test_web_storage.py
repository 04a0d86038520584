"""The web sign-in repository on SQLite and PostgreSQL: links spent once and expiring, sessions
live until revoked or expired, purge, and erasure of a user's sign-ins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.dashboard.auth import create_login_link, digest, redeem_login, session_for, start_session
from bot.storage import Database, Repositories, WebLogin, WebSession

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


def _user(repos: Repositories, name: str = "42") -> int:
    user, _ = repos.users.get_or_create("telegram", name, "id")
    repos.users.give_consent(user, at=NOW)
    repos.session.flush()
    return user.id


def test_a_login_code_is_spent_once_and_expires(database: Database) -> None:
    with database.transaction() as session:
        repos = Repositories(session)
        user_id = _user(repos)
        code = create_login_link(repos, user_id, NOW, 10)
        late = create_login_link(repos, user_id, NOW, 10)
        assert repos.web.login(digest(code)).code_hash == digest(code) != code
    with database.transaction() as session:
        repos = Repositories(session)
        assert redeem_login(repos, code, NOW + timedelta(minutes=9)) == user_id
        assert redeem_login(repos, code, NOW + timedelta(minutes=9)) is None  # used
        assert redeem_login(repos, late, NOW + timedelta(minutes=10)) is None  # expired
        assert redeem_login(repos, "unknown", NOW) is None
        assert redeem_login(repos, "", NOW) is None


def test_sessions_live_until_revoked_or_expired(database: Database) -> None:
    with database.transaction() as session:
        repos = Repositories(session)
        user_id = _user(repos)
        token, row = start_session(repos, user_id, NOW, 12)
        other, _ = start_session(repos, user_id, NOW, 12)
        assert row.token_hash == digest(token) and len(row.csrf_token) >= 32
    with database.transaction() as session:
        repos = Repositories(session)
        live = session_for(repos, token, NOW + timedelta(hours=11))
        assert live is not None and live.user_id == user_id
        assert session_for(repos, token, NOW + timedelta(hours=12)) is None
        assert session_for(repos, "x" * 300, NOW) is None
        repos.web.revoke(live, NOW)
        assert session_for(repos, token, NOW) is None
        assert session_for(repos, other, NOW) is not None
        assert repos.web.revoke_all(user_id, NOW) == 1
        assert session_for(repos, other, NOW) is None
        assert repos.web.purge(NOW) == 2


def test_erasing_a_user_erases_their_sign_ins(database: Database) -> None:
    with database.transaction() as session:
        repos = Repositories(session)
        user_id = _user(repos)
        keep = _user(repos, "43")
        create_login_link(repos, user_id, NOW, 10)
        start_session(repos, user_id, NOW, 12)
        start_session(repos, keep, NOW, 12)
    with database.transaction() as session:
        repos = Repositories(session)
        counts = repos.users.delete_user_data(repos.users.by_id(user_id))
        assert counts["web_logins"] == 1 and counts["web_sessions"] == 1
    with database.transaction() as session:
        assert session.query(WebLogin).count() == 0
        assert [s.user_id for s in session.query(WebSession)] == [keep]
