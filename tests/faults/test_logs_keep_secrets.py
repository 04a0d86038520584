"""Every log record of a whole run — polling, the delivery worker, faults and their recovery, a
failing update, the coach dashboard — with a distinctive bot token and distinctive personal
data: the token appears nowhere (not even at DEBUG, as `umkm-bot run` sets logging up), and no
name, figure, question text or sign-in code appears at INFO or above."""

from __future__ import annotations

import asyncio
import logging
import re
import socket

import httpx
import pytest
from aiohttp import web
from sqlalchemy import text

from bot.dashboard.server import Dashboard
from bot.storage import Database, OutboxMessage, Repositories
from bot.telegram.access_log import app_runner
from tests.e2e.conftest import polling_bot
from tests.e2e.fake_bot_api import FakeBotApi, FakeUser
from tests.faults.conftest import SQLITE_ONLY, buttons, count, eventually, sent_to

TOKEN = "555000111:AAtokenNeverInLogs-Q7Z9xkcdPlmoknB"
COACH = FakeUser(5001, "Rina")
MEMBER = FakeUser(424242, "Zanzibarwati")
PERSONAL = ("Zanzibarwati", "Vexillologi", "7.654.321", "7654321", "Quuxtown")


@pytest.fixture
def bot_token() -> str:
    return TOKEN


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _setup(database: Database) -> tuple[str, int]:
    """A consented coach (as an admin would add them) with a cohort: its join code and id."""
    with database.transaction() as session:
        repos = Repositories(session)
        institution = repos.coaches.add_institution("Dinas Koperasi Gresik")
        coach_user, _ = repos.users.get_or_create("telegram", str(COACH.id))
        repos.users.give_consent(coach_user)
        coach = repos.coaches.add_coach(coach_user.id, institution.id, "Bu Rina")
        cohort = repos.cohorts.create(coach.id, "Sentra Batik", "sentra", "Asia/Jakarta", "joinCode01")
        return cohort.join_code, cohort.id


async def _member_run(api: FakeBotApi, database: Database, code: str) -> None:
    """The member joins, gives a name, records a figure, asks the bot and the coach."""
    api.queue_text(MEMBER, f"/start k_{code}")
    [notice] = await sent_to(api, MEMBER.id, "UU PDP")
    api.queue_callback(MEMBER, buttons(notice.params)["✅ Setuju"])
    [prompt] = await sent_to(api, MEMBER.id, "Gabung ke kelompok")
    api.queue_callback(MEMBER, buttons(prompt.params)["✅ Gabung"])
    await sent_to(api, MEMBER.id, "Siapa nama")
    api.queue_text(MEMBER, "Zanzibarwati")
    await sent_to(api, MEMBER.id, "bidang")
    api.queue_text(MEMBER, "/batal")
    with database.transaction() as session:
        Repositories(session).users.get("telegram", str(MEMBER.id)).district = "Kecamatan Quuxtown"
    api.queue_text(MEMBER, "/catat omzet 7.654.321")
    await sent_to(api, MEMBER.id, "7.654.321")
    api.fail_method("sendMessage", 502, times=1, chat_id=MEMBER.id)  # the answer goes through the outbox
    api.queue_text(MEMBER, "Vexillologi Zanzibarwati: cara daftar qris")
    await eventually(lambda: count(database, OutboxMessage, OutboxMessage.state == "sent") == 1, what="outbox")
    api.queue_text(MEMBER, "/tanya_pendamping Vexillologi: harga batik tulis saya berapa?")
    [confirm] = await sent_to(api, MEMBER.id, "Kirim pertanyaan ini")
    api.queue_callback(MEMBER, next(data for label, data in buttons(confirm.params).items() if "Kirim ke" in label))
    await sent_to(api, COACH.id, "Vexillologi")  # the worker carried it to the coach


async def _faults(api: FakeBotApi, database: Database) -> None:
    """A dropped connection, a getUpdates outage and an update whose handling fails."""
    api.drop_connection("sendMessage", chat_id=MEMBER.id)
    api.queue_text(MEMBER, "/bantuan")
    await api.wait_for("sendMessage", lambda c: c.status == 0)
    api.fail_method("getUpdates", 502, for_seconds=2.5)  # longer than a long poll
    await api.wait_for("getUpdates", lambda c: c.status == 502)
    api.queue_text(MEMBER, "/bantuan")
    await sent_to(api, MEMBER.id, "Cara memakai")
    with database.engine.begin() as connection:
        connection.execute(text("ALTER TABLE question_log RENAME TO question_log_away"))
    try:
        api.queue_text(MEMBER, "Vexillologi Zanzibarwati omzet 7.654.321 rugi terus")
        await sent_to(api, MEMBER.id, "ada gangguan")
    finally:
        with database.engine.begin() as connection:
            connection.execute(text("ALTER TABLE question_log_away RENAME TO question_log"))


async def _dashboard_run(api: FakeBotApi, base: str, cohort_id: int, member_id: int) -> str:
    """The coach signs in with /dasbor's link and opens the member's page; a forged Mini App
    sign-in is refused. Returns the sign-in code (which must not be logged)."""
    api.queue_text(COACH, "/dasbor")
    [links] = await sent_to(api, COACH.id, "login?code=")  # over plain http the link is in the text
    code = re.search(r"login\?code=([A-Za-z0-9_\-%]+)", links.params["text"]).group(1)  # type: ignore[union-attr]
    async with httpx.AsyncClient(base_url=base, follow_redirects=False, timeout=20) as http:
        assert (await http.get(f"/dashboard/login?code={code}")).status_code == 200
        assert (await http.post("/dashboard/login", data={"code": code})).status_code == 303
        page = await http.get(f"/dashboard/cohorts/{cohort_id}/members/{member_id}")
        assert page.status_code == 200 and "Zanzibarwati" in page.text  # the coach does see it
        forged = await http.post("/dashboard/auth/webapp", data={"init_data": f"user=%7B%22id%22%3A5001%7D&hash={'0' * 64}"})
        assert forged.status_code == 403
    return code


@SQLITE_ONLY
async def test_a_whole_run_keeps_the_token_and_personal_data_out_of_the_logs(settings, conversation, fake_api: FakeBotApi, logbook) -> None:  # type: ignore[no-untyped-def]
    database: Database = conversation.database
    port = _free_port()
    settings.dashboard.enabled = True
    settings.dashboard.public_url = f"http://127.0.0.1:{port}"
    code, cohort_id = _setup(database)
    async with polling_bot(settings, conversation, fake_api, delivery=True) as application:
        runner = app_runner(Dashboard(settings, database, fake_api.token).application())
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            await _member_run(fake_api, database, code)
            await _faults(fake_api, database)
            with database.transaction() as session:
                member_id = Repositories(session).users.get("telegram", str(MEMBER.id)).id
            login_code = await _dashboard_run(fake_api, settings.dashboard.public_url, cohort_id, member_id)
            await asyncio.sleep(0.3)
            assert application.running
        finally:
            await runner.cleanup()
    everything = logbook.text()
    # The run did log: polling trouble, the worker, the failed update, the dashboard's refusal.
    for expected in ("getUpdates failed", "delivery worker", "failed: ", "dashboard refused", "GET /dashboard/login 200"):
        assert expected in everything, expected
    assert TOKEN not in everything and TOKEN.split(":")[1] not in everything
    at_info = logbook.text(logging.INFO)
    for value in (*PERSONAL, login_code):
        assert value not in at_info, [line for line in logbook.lines if value in line][:3]
