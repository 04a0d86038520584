"""The dashboard in a real browser (headless Chromium): a coach signs in with a link, opens a
cohort, sorts, downloads the XLSX, answers a question; the Mini App path with Telegram's signed
initData and theme; phone (360x740) and desktop (1280x800) screenshots without horizontal overflow."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import quote, urlencode

import pytest
from openpyxl import load_workbook

from bot.storage import OutboxMessage, Rsvp, User
from tests.dashboard.browser import DESKTOP, PHONE
from tests.dashboard.conftest import BOT_TOKEN, login_code, make_event
from tests.dashboard.outbox import deliver_outbox
from tests.dashboard.test_initdata import telegram_init_data

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

NO_OVERFLOW = "document.documentElement.scrollWidth <= window.innerWidth"


def _telegram(world, name: str, telegram_id: int) -> None:  # type: ignore[no-untyped-def]
    with world.database.transaction() as session:
        user = session.query(User).filter_by(channel="terminal", external_id=name).one()
        user.channel, user.external_id = "telegram", str(telegram_id)


def _shots(page, tmp_path, name: str) -> None:  # type: ignore[no-untyped-def]
    """Screenshots at phone and desktop size; the main table visible, nothing wider than a phone."""
    for size, label in ((PHONE, "phone"), (DESKTOP, "desktop")):
        page.set_viewport_size(size)
        page.wait_for_timeout(50)
        page.screenshot(path=str(tmp_path / f"{name}-{label}.png"), full_page=True)
        assert page.locator("main table").first.is_visible()
        assert page.evaluate(NO_OVERFLOW), f"{name} overflows horizontally at {size['width']} px"


def test_a_coach_signs_in_sorts_downloads_and_answers(browser, server, world, clock, dashboard_settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    clock.now += timedelta(days=1)
    world.siti.say("/progres")  # Siti was active after Joko joined: first by last activity
    _telegram(world, "siti", 5550002)  # the member receives the answer in Telegram
    event_id = make_event(world, clock, quota=None)
    code = login_code(world.rina)
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True, locale="id-ID")
    page = context.new_page()
    try:
        page.goto(f"{server.url}/dashboard/login?code={code}")
        page.click("#login-button")
        page.wait_for_url(f"{server.url}/dashboard/")
        assert page.locator(f"#cohort-{world.ids['rina_cohort']}").is_visible()
        _shots(page, tmp_path, "overview")

        page.click("text=Sentra Batik")
        page.wait_for_selector("#members")
        page.click("#members th >> text=Nama")
        page.wait_for_url("**sort=name**")
        assert page.locator("#members tbody tr td:first-child a").all_inner_texts() == ["Joko", "Siti"]
        page.click("#sort-active")
        page.wait_for_url("**sort=active**")
        assert page.locator("#members tbody tr td:first-child a").all_inner_texts() == ["Siti", "Joko"]
        _shots(page, tmp_path, "cohort")

        with page.expect_download() as download:
            page.click("#download-xlsx")
        saved = tmp_path / download.value.suggested_filename
        download.value.save_as(saved)
        rows = list(load_workbook(saved).active.iter_rows(values_only=True))
        assert rows[0][:2] == ("Nama", "Bidang usaha")
        assert [r[0] for r in rows[1:]] == ["Siti", "Joko"]

        page.click("text=Siti")
        page.wait_for_selector("text=harga jual batik tulis berapa")
        _shots(page, tmp_path, "member")

        page.goto(f"{server.url}/dashboard/inbox")
        page.fill("textarea[name=text]", "Hitung HPP dulu, lalu tambah untung 30%.")
        page.click("text=Kirim jawaban")
        page.wait_for_selector("text=Jawaban dikirim")
        page.set_viewport_size(PHONE)
        page.screenshot(path=str(tmp_path / "inbox-phone.png"), full_page=True)
        assert page.evaluate(NO_OVERFLOW)

        page.goto(f"{server.url}/dashboard/cohorts/{world.ids['rina_cohort']}/events")
        page.click("text=Pelatihan foto produk")
        page.click(f"#list-coming button[data-user='{world.ids['siti']}']")
        page.wait_for_selector("text=Kehadiran dicatat")
        _shots(page, tmp_path, "event")
    finally:
        context.close()

    with world.database.transaction() as session:
        assert session.query(Rsvp).filter_by(event_id=event_id, user_id=world.ids["siti"]).one().attended is True
        [reply] = session.query(OutboxMessage).filter_by(kind="handoff_reply").all()
        assert (reply.user_id, reply.channel, reply.chat_id) == (world.ids["siti"], "telegram", "5550002")
        assert "Hitung HPP dulu, lalu tambah untung 30%." in reply.payload["text"]
    # The real delivery worker carries the row to the (fake) Bot API: the member's chat shows it.
    sent = deliver_outbox(dashboard_settings, world.database, BOT_TOKEN)
    to_siti = [p["text"] for p in sent if p["chat_id"] == 5550002]
    assert len(to_siti) == 1 and "Hitung HPP dulu, lalu tambah untung 30%." in to_siti[0]


def _mini_app_url(server, init_data: str) -> str:  # type: ignore[no-untyped-def]
    theme = {"bg_color": "#17212b", "text_color": "#f5f5f5", "button_color": "#5288c1", "hint_color": "#708499"}
    fragment = urlencode(
        {"tgWebAppData": init_data, "tgWebAppVersion": "8.0", "tgWebAppPlatform": "android",
         "tgWebAppThemeParams": json.dumps(theme)},
        quote_via=quote,
    )  # fmt: skip
    return f"{server.url}/dashboard/app#{fragment}"


def test_the_mini_app_signs_in_with_telegrams_init_data_and_theme(browser, server, world, clock, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _telegram(world, "rina", 5550001)
    init_data = telegram_init_data(BOT_TOKEN, 5550001, auth_date=int(clock().timestamp()) - 5)
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto(_mini_app_url(server, init_data))
        page.wait_for_url(f"{server.url}/dashboard/")
        assert page.locator("text=Sentra Batik").first.is_visible()
        assert page.locator("text=KUB Tenun").count() == 0
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(23, 33, 43)"  # Telegram's theme, carried to the next pages
        page.click("text=Tabel anggota")
        page.wait_for_selector("#members")
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(23, 33, 43)"
        page.screenshot(path=str(tmp_path / "mini-app-cohort-phone.png"), full_page=True)
        assert page.evaluate(NO_OVERFLOW)
    finally:
        context.close()

    tampered = init_data.replace("Rina", "Budi")
    context = browser.new_context(viewport=PHONE, locale="id-ID")
    page = context.new_page()
    try:
        response_codes: list[int] = []
        page.on("response", lambda r: response_codes.append(r.status) if "/auth/webapp" in r.url else None)
        page.goto(_mini_app_url(server, tampered))
        page.wait_for_selector("text=Tidak bisa masuk")
        assert response_codes == [403]
        assert "Sentra Batik" not in page.content()
    finally:
        context.close()
