"""The dashboard over HTTP on SQLite and PostgreSQL: sign-in by one-time link, sessions and their
cookie, role and ownership on every page, CSRF on every form, answers through the outbox."""

from __future__ import annotations

import io
import logging
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from bot.storage import HandoffMessage, KnowledgeDraft, OutboxMessage, WebSession
from tests.dashboard.conftest import (
    BOT_TOKEN,
    client,
    count,
    csrf_of,
    login_code,
    session_for_user,
    signed_in,
)

POLITE_NOT_COACH = "khusus pendamping"
NOT_YOURS = "bukan untuk akun Anda"


def _pages(ids: dict[str, int], owner: str = "rina") -> list[str]:
    cohort = ids[f"{owner}_cohort"]
    member = ids["siti"] if owner == "rina" else ids["wati"]
    return [
        f"/dashboard/cohorts/{cohort}",
        f"/dashboard/cohorts/{cohort}?sort=name&silent=no",
        f"/dashboard/cohorts/{cohort}/export.csv",
        f"/dashboard/cohorts/{cohort}/export.xlsx",
        f"/dashboard/cohorts/{cohort}/members/{member}",
        f"/dashboard/cohorts/{cohort}/events",
        f"/dashboard/cohorts/{cohort}/reminders",
    ]


def test_a_login_link_works_once_and_sets_a_strict_cookie(server, world) -> None:  # type: ignore[no-untyped-def]
    code = login_code(world.rina)
    http = client(server)
    page = http.get(f"/dashboard/login?code={code}")
    assert page.status_code == 200 and "Masuk" in page.text  # a GET (a link preview) spends nothing
    first = http.post("/dashboard/login", data={"code": code})
    assert first.status_code == 303 and first.headers["location"] == "/dashboard/"
    cookie = first.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/dashboard" in cookie
    assert "Secure" not in cookie  # served over plain HTTP here; see test_cookie_is_secure_over_https
    home = http.get("/dashboard/")
    assert home.status_code == 200 and "Sentra Batik" in home.text and "KUB Tenun" not in home.text

    again = client(server).post("/dashboard/login", data={"code": code})
    assert again.status_code == 403 and "sudah dipakai" in again.text
    assert "set-cookie" not in again.headers


def test_a_login_link_expires(server, world, clock) -> None:  # type: ignore[no-untyped-def]
    code = login_code(world.rina)
    clock.now += timedelta(minutes=10, seconds=1)
    response = client(server).post("/dashboard/login", data={"code": code})
    assert response.status_code == 403
    assert count(world.database, WebSession) == 0


def test_a_forged_code_is_refused_and_logged_without_personal_data(server, world, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.WARNING, logger="bot.dashboard")
    response = client(server).post("/dashboard/login", data={"code": "made-up-code"})
    assert response.status_code == 403
    [record] = [r for r in caplog.records if r.name == "bot.dashboard.server"]
    assert record.getMessage() == "dashboard refused: user=None reason=login-link-used-or-expired"


def test_without_a_session_pages_ask_to_sign_in(server, world) -> None:  # type: ignore[no-untyped-def]
    http = client(server)
    for path in ["/dashboard/", "/dashboard/inbox", *_pages(world.ids)]:
        response = http.get(path)
        assert response.status_code == 401, path
        assert "/dasbor" in response.text and "Sentra" not in response.text


def test_the_session_expires_and_logout_ends_it(server, world, clock, dashboard_settings) -> None:  # type: ignore[no-untyped-def]
    http = signed_in(server, world.rina)
    csrf = csrf_of(http)
    out = http.post("/dashboard/logout", data={"csrf": csrf})
    assert out.status_code == 303 and out.headers["location"] == "/dashboard/signed-out"
    assert http.get("/dashboard/").status_code == 401

    http = signed_in(server, world.rina)
    clock.now += timedelta(hours=dashboard_settings.dashboard.session_hours, seconds=1)
    assert http.get("/dashboard/").status_code == 401


def test_coach_sees_own_cohorts_members_and_figures(server, world) -> None:  # type: ignore[no-untyped-def]
    http = signed_in(server, world.rina)
    cohort = world.ids["rina_cohort"]
    table = http.get(f"/dashboard/cohorts/{cohort}")
    assert table.status_code == 200
    assert "Siti" in table.text and "Joko" in table.text and "Wati" not in table.text
    assert "<svg" in table.text  # the charts are drawn on the server
    member = http.get(f"/dashboard/cohorts/{cohort}/members/{world.ids['siti']}")
    assert member.status_code == 200
    assert "harga jual batik tulis berapa" in member.text and "Rp2.500.000" in member.text
    # Texts members typed are escaped, never markup.
    assert "<script" not in member.text.replace('<script src="/dashboard/static/dashboard.js" defer></script>', "")


@pytest.mark.parametrize("intruder", ["budi", "siti"])
def test_every_page_refuses_another_institutions_coach_and_an_entrepreneur(server, world, clock, intruder) -> None:  # type: ignore[no-untyped-def]
    if intruder == "budi":
        http = signed_in(server, world.budi)
        expected = NOT_YOURS
    else:  # an entrepreneur cannot get a link; even holding a session, every page refuses politely
        http = session_for_user(server, world.database, world.ids["siti"], clock)
        expected = POLITE_NOT_COACH
    for path in _pages(world.ids, "rina"):
        response = http.get(path)
        assert response.status_code == 403, path
        assert expected in response.text, path
        assert "Siti" not in response.text and "Joko" not in response.text
    if intruder == "siti":
        assert http.get("/dashboard/").status_code == 403
        assert http.get("/dashboard/inbox").status_code == 403


@pytest.mark.parametrize("intruder", ["budi", "siti"])
def test_every_form_refuses_another_institutions_coach_and_an_entrepreneur(server, world, clock, intruder) -> None:  # type: ignore[no-untyped-def]
    if intruder == "budi":
        http = signed_in(server, world.budi)
        csrf = csrf_of(http)
    else:
        http = session_for_user(server, world.database, world.ids["siti"], clock)
        with world.database.transaction() as session:
            csrf = session.query(WebSession).filter_by(user_id=world.ids["siti"]).one().csrf_token
    thread = world.ids["thread"]
    messages, outbox = count(world.database, HandoffMessage), count(world.database, OutboxMessage)
    reply = http.post(f"/dashboard/inbox/{thread}/reply", data={"csrf": csrf, "text": "jawaban palsu"})
    draft = http.post(f"/dashboard/inbox/{thread}/draft", data={"csrf": csrf})
    assert reply.status_code == 403 and draft.status_code == 403
    assert count(world.database, HandoffMessage) == messages
    assert count(world.database, OutboxMessage) == outbox
    assert count(world.database, KnowledgeDraft) == 0


def test_an_entrepreneur_cannot_use_dasbor_in_the_chat(world) -> None:  # type: ignore[no-untyped-def]
    replies = world.siti.say("/dasbor")
    assert "/dashboard/login" not in replies[0].text and not replies[0].buttons


def test_other_institutions_coach_sees_only_their_own(server, world) -> None:  # type: ignore[no-untyped-def]
    http = signed_in(server, world.budi)
    home = http.get("/dashboard/")
    assert "KUB Tenun" in home.text and "Sentra Batik" not in home.text
    inbox = http.get("/dashboard/inbox")
    assert inbox.status_code == 200 and "harga jual batik" not in inbox.text


@pytest.mark.parametrize("token", [None, "", "wrong-token"])
def test_a_post_without_the_right_csrf_token_is_refused_and_changes_nothing(server, world, token, caplog) -> None:  # type: ignore[no-untyped-def]
    http = signed_in(server, world.rina)
    caplog.set_level(logging.WARNING, logger="bot.dashboard")
    thread = world.ids["thread"]
    messages, outbox = count(world.database, HandoffMessage), count(world.database, OutboxMessage)
    data = {"text": "Harga jual = HPP + untung 30%"}
    if token is not None:
        data["csrf"] = token
    response = http.post(f"/dashboard/inbox/{thread}/reply", data=data)
    assert response.status_code == 403 and "kedaluwarsa" in response.text
    assert count(world.database, HandoffMessage) == messages
    assert count(world.database, OutboxMessage) == outbox
    out = http.post("/dashboard/logout", data={} if token is None else {"csrf": token})
    assert out.status_code == 403 and http.get("/dashboard/").status_code == 200  # still signed in
    refusals = [r.getMessage() for r in caplog.records if r.name == "bot.dashboard.server"]
    assert refusals == [f"dashboard refused: user={world.ids['rina']} reason=csrf"] * 2


def test_the_csrf_token_of_another_session_is_refused(server, world) -> None:  # type: ignore[no-untyped-def]
    other = signed_in(server, world.rina)
    http = signed_in(server, world.rina)
    response = http.post(f"/dashboard/inbox/{world.ids['thread']}/reply", data={"csrf": csrf_of(other), "text": "x"})
    assert response.status_code == 403


def test_answering_from_the_inbox_queues_the_same_message_as_a_chat_reply(server, world) -> None:  # type: ignore[no-untyped-def]
    http = signed_in(server, world.rina)
    inbox = http.get("/dashboard/inbox")
    assert "harga jual batik tulis berapa" in inbox.text
    thread = world.ids["thread"]
    sent = http.post(
        f"/dashboard/inbox/{thread}/reply", data={"csrf": csrf_of(http), "text": "Hitung HPP dulu, lalu tambah untung 30%."}
    )
    assert sent.status_code == 303
    [row] = [r for r in _outbox(world) if r.kind == "handoff_reply"]
    assert row.user_id == world.ids["siti"] and row.chat_id == "siti" and row.state == "pending"
    assert "Hitung HPP dulu, lalu tambah untung 30%." in row.payload["text"]
    assert "Rina" in row.payload["text"]
    after = http.get(sent.headers["location"])
    assert "Jawaban dikirim" in after.text
    # ... and the answer can become a knowledge draft
    saved = http.post(f"/dashboard/inbox/{thread}/draft", data={"csrf": csrf_of(http, "/dashboard/inbox")})
    assert saved.status_code == 303 and "notice=draft" in saved.headers["location"]
    assert count(world.database, KnowledgeDraft) == 1


def test_an_empty_answer_sends_nothing(server, world) -> None:  # type: ignore[no-untyped-def]
    http = signed_in(server, world.rina)
    outbox = count(world.database, OutboxMessage)
    response = http.post(f"/dashboard/inbox/{world.ids['thread']}/reply", data={"csrf": csrf_of(http), "text": "  "})
    assert response.status_code == 303 and "notice=empty" in response.headers["location"]
    assert count(world.database, OutboxMessage) == outbox


def test_a_member_who_left_is_no_longer_shown(server, world) -> None:  # type: ignore[no-untyped-def]
    http = signed_in(server, world.rina)
    cohort, joko = world.ids["rina_cohort"], world.ids["joko"]
    assert http.get(f"/dashboard/cohorts/{cohort}/members/{joko}").status_code == 200
    world.joko.say("/kelompok_saya")
    world.joko.press("Keluar dari")
    assert http.get(f"/dashboard/cohorts/{cohort}/members/{joko}").status_code == 403
    assert "Joko" not in http.get(f"/dashboard/cohorts/{cohort}").text


def test_exports_follow_the_filter_and_the_order_shown(server, world) -> None:  # type: ignore[no-untyped-def]
    http = signed_in(server, world.rina)
    cohort = world.ids["rina_cohort"]
    xlsx = http.get(f"/dashboard/cohorts/{cohort}/export.xlsx?sort=name")
    assert xlsx.status_code == 200
    assert xlsx.headers["content-disposition"].startswith('attachment; filename="kelompok-')
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Nama" and [r[0] for r in rows[1:]] == ["Joko", "Siti"]
    csv = http.get(f"/dashboard/cohorts/{cohort}/export.csv?class=micro")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 2 and lines[1].startswith("Siti,")  # only Siti has a class (from her sales)


def test_mini_app_sign_in_with_a_signed_init_data(server, world, clock) -> None:  # type: ignore[no-untyped-def]
    from tests.dashboard.test_initdata import telegram_init_data

    _as_telegram_user(world, "rina", 5550001)
    http = client(server)
    good = telegram_init_data(BOT_TOKEN, 5550001, auth_date=int(clock().timestamp()) - 60)
    response = http.post("/dashboard/auth/webapp", data={"init_data": good})
    assert response.status_code == 303
    assert "Sentra Batik" in http.get("/dashboard/").text

    tampered = good.replace("Rina", "Budi")
    refused = client(server).post("/dashboard/auth/webapp", data={"init_data": tampered})
    assert refused.status_code == 403 and "tidak dapat diperiksa" in refused.text
    assert BOT_TOKEN not in refused.text


def test_mini_app_refuses_an_entrepreneur_politely(server, world, clock) -> None:  # type: ignore[no-untyped-def]
    from tests.dashboard.test_initdata import telegram_init_data

    _as_telegram_user(world, "siti", 5550002)
    init_data = telegram_init_data(BOT_TOKEN, 5550002, auth_date=int(clock().timestamp()))
    response = client(server).post("/dashboard/auth/webapp", data={"init_data": init_data})
    assert response.status_code == 403 and POLITE_NOT_COACH in response.text
    assert count(world.database, WebSession) == 0


def test_pages_carry_security_headers(server, world) -> None:  # type: ignore[no-untyped-def]
    http = signed_in(server, world.rina)
    headers = http.get("/dashboard/").headers
    assert "frame-ancestors 'self' https://web.telegram.org" in headers["content-security-policy"]
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff" and headers["cache-control"] == "no-store"


def _outbox(world) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    with world.database.transaction() as session:
        return list(session.query(OutboxMessage).order_by(OutboxMessage.id))


def _as_telegram_user(world, name: str, telegram_id: int) -> None:  # type: ignore[no-untyped-def]
    """Make a terminal test user a Telegram user (the Mini App is Telegram only)."""
    from bot.storage import User

    with world.database.transaction() as session:
        user = session.query(User).filter_by(channel="terminal", external_id=name).one()
        user.channel, user.external_id = "telegram", str(telegram_id)
