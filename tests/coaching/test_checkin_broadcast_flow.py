"""Weekly check-ins (the coach's settings, the members' one-tap buttons, /pengingat_saya), a personal
message after a silent-member flag, and /siaran with its preview counts and report, through the
conversation core on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.coaching.schedule import run_pass
from bot.core import callbacks
from bot.storage import Repositories
from tests.coaching.conftest import NOW, consented, join, make_coach, make_cohort, outbox_rows, press_data

WIB = ZoneInfo("Asia/Jakarta")


def _user(database, name: str):  # type: ignore[no-untyped-def]
    with database.transaction() as session:
        return Repositories(session).users.get("terminal", name)


def _cohort(database, name: str = "Sentra Batik"):  # type: ignore[no-untyped-def]
    with database.transaction() as session:
        return next(c for c in Repositories(session).cohorts.for_coach(None) if c.name == name)


def test_checkin_settings_and_the_members_one_tap_buttons(talk) -> None:  # type: ignore[no-untyped-def]
    rina = make_coach(talk, "rina")
    siti = join(talk, "siti", make_cohort(rina))
    database = rina.conversation.database

    rina.say("/kelompok")
    rina.press("Sentra Batik")
    settings = rina.press("Cek mingguan")[0]
    assert "Mati." in settings.text and settings.edit
    rina.press("Senin")
    assert "belum terbaca" in rina.say("jam 25")[0].text
    saved = rina.say("09:00")[0].text
    assert "Setiap Senin jam 09.00 WIB; berikutnya Senin, 7 Desember 2026, 09.00 WIB" in saved
    cohort = _cohort(database)
    assert (cohort.checkin_weekday, cohort.checkin_time) == (0, "09:00")
    assert cohort.next_checkin_at == datetime(2026, 12, 7, 2, 0, tzinfo=UTC)

    run_pass(database, rina.conversation.settings, cohort.next_checkin_at, silent_flags=False)
    [checkin] = [r for r in outbox_rows(database) if r.kind == "checkin"]
    buttons = [b["data"] for row in checkin.payload["buttons"] for b in row]
    record, milestone, _, off = buttons
    assert record == callbacks.encode("ci", "c") and off == callbacks.encode("ci", "off")

    assert "Berapa <b>omzet</b> bulan ini" in press_data(siti, record)[0].text  # /catat, via ProgressFlow
    assert "2.500.000" in siti.say("2,5jt")[0].text
    with database.transaction() as session:
        sales = Repositories(session).figures.current(_user(database, "siti").id, "omzet")
        assert list(sales.values()) == [2_500_000]
    milestone_id = milestone.split("|")[3]
    assert "ditandai selesai" in press_data(siti, milestone)[0].text
    with database.transaction() as session:
        assert milestone_id in Repositories(session).milestones.done_ids(_user(database, "siti").id)
    assert "sudah tercatat selesai" in press_data(siti, milestone)[0].text
    assert "tidak berlaku" in press_data(siti, callbacks.encode("ci", "m", "no_such_step"))[0].text

    assert "Cek mingguan dimatikan" in press_data(siti, off)[0].text
    assert _user(database, "siti").checkins_off
    status = siti.say("/pengingat_saya")[0]
    assert "mati 🔕" in status.text
    assert "dinyalakan lagi" in siti.press("Nyalakan")[0].text and not _user(database, "siti").checkins_off

    rina.say("/kelompok")
    rina.press("Sentra Batik")
    rina.press("Cek mingguan")
    rina.press("Kamis")
    assert "Setiap Kamis jam 16.00 WIB" in rina.press("16.00")[0].text  # a time button: no typing
    rina.press("Kembali")
    rina.press("Cek mingguan")
    assert "Mati." in rina.press("Matikan cek mingguan")[0].text
    cohort = _cohort(database)
    assert (cohort.checkin_weekday, cohort.next_checkin_at) == (None, None)


def test_a_silent_member_flag_leads_to_a_personal_message_from_that_coach(talk, clock) -> None:  # type: ignore[no-untyped-def]
    rina = make_coach(talk, "rina")
    join(talk, "siti", make_cohort(rina))
    database = rina.conversation.database
    later = NOW + timedelta(days=31)
    run_pass(database, rina.conversation.settings, later)
    [flag] = [r for r in outbox_rows(database) if r.kind == "silent_member"]
    sp = flag.payload["buttons"][0][0]["data"]

    clock.now = datetime(2026, 12, 31, 14, 0, tzinfo=UTC)  # 21:00 WIB: quiet hours
    assert "pesan pribadi untuk <b>Siti</b>" in press_data(rina, sp)[0].text
    sent = rina.say("Bu Siti, apa kabar? Sudah coba jualan di marketplace?")[0].text
    assert "diantre" in sent and "Jumat, 1 Januari 2027, 06.00 WIB" in sent
    press_data(rina, sp)
    rina.say("Kabari saya ya")
    personal = [r for r in outbox_rows(database) if r.kind == "personal"]
    assert len(personal) == 2 and len({r.dedupe_key for r in personal}) == 2
    first = personal[0]
    assert (first.subject_type, first.subject_id) == ("personal", _cohort(database).id)
    assert first.user_id == _user(database, "siti").id
    assert "Pesan dari Rina</b> (Sentra Batik)" in first.payload["text"] and "apa kabar" in first.payload["text"]
    assert first.payload["buttons"][0][0]["data"] == callbacks.encode("coach", 0)
    assert first.next_attempt_at == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)  # 06:00 WIB
    # The member view offers the same button, without waiting for a flag.
    with database.transaction() as session:
        siti_id = Repositories(session).users.get("terminal", "siti").id
    view = press_data(rina, callbacks.encode("km", _cohort(database).id, siti_id))[0]
    assert any(b.data == sp for row in view.buttons for b in row)


def test_broadcast_preview_counts_blocked_members_and_the_report(talk) -> None:  # type: ignore[no-untyped-def]
    rina = make_coach(talk, "rina")
    payload = make_cohort(rina)
    for name in ("siti", "ani", "dewi"):
        join(talk, name, payload)
    database = rina.conversation.database
    with database.transaction() as session:
        Repositories(session).users.get("terminal", "dewi").blocked_at = NOW

    audience = rina.say("/siaran")[0]
    assert any("Semua anggota (2)" in b.label for row in audience.buttons for b in row)
    rina.press("Semua anggota")
    assert "tidak dikenal" in rina.say("Halo {{ Nama }}")[0].text
    preview = rina.say("Halo {{ nama }}, besok pameran di balai desa!")[0].text
    assert "Pratinjau untuk Siti" in preview and "Pesan dari Rina</b> (Sentra Batik)" in preview
    assert "Halo Siti, besok pameran" in preview and "<b>2</b> orang (1 dilewati karena memblokir bot)" in preview
    sent = rina.press("Kirim siaran")[0]
    assert "<b>2</b> orang (1 dilewati" in sent.text
    report = rina.press("Laporan")[0]
    assert "Menunggu: 2" in report.text and "Terkirim: 0" in report.text and "+1 dilewati" in report.text
    rows = [r for r in outbox_rows(database) if r.kind == "broadcast"]
    assert len(rows) == 2 and all(r.subject_type == "broadcast" for r in rows)
    with database.transaction() as session:
        Repositories(session).outbox.mark_sent(rows[0].id, 555)
    refreshed = rina.press("Perbarui")[0]
    assert refreshed.edit and "Terkirim: 1" in refreshed.text and "Menunggu: 1" in refreshed.text

    rina.say("/siaran")
    rina.press("Satu orang")
    rina.press("Ani")
    assert "<b>1</b> orang" in rina.say("Ani, sampelnya sudah siap?")[0].text
    rina.press("Kirim siaran")
    assert len([r for r in outbox_rows(database) if r.kind == "broadcast"]) == 3


def test_an_admin_broadcasts_to_a_whole_institution(talk) -> None:  # type: ignore[no-untyped-def]
    rina = make_coach(talk, "rina")
    budi = make_coach(talk, "budi")  # same institution, another coach
    join(talk, "siti", make_cohort(rina))
    join(talk, "eko", make_cohort(budi, "KUB Melati"))
    make_coach(talk, "tono", institution="Koperasi Lain")
    admin = consented(talk("admin"))
    database = admin.conversation.database

    assert "satu kelompok, atau" in admin.say("/siaran")[0].text
    institutions = admin.press("Seluruh lembaga")[0]
    assert [b.label for row in institutions.buttons for b in row][:2] == ["Dinas Koperasi Gresik", "Koperasi Lain"]
    audience = admin.press("Dinas Koperasi Gresik")[0]
    labels = [b.label for row in audience.buttons for b in row]
    assert "👥 Semua anggota (2)" in labels and not any("Satu orang" in label for label in labels)
    admin.press("Semua anggota")
    preview = admin.say("Pendaftaran pameran dibuka, {{ nama }}!")[0].text
    assert "Pesan dari Dinas Koperasi Gresik" in preview and "<b>2</b> orang" in preview
    admin.press("Kirim siaran")
    rows = [r for r in outbox_rows(database) if r.kind == "broadcast"]
    assert {r.user_id for r in rows} == {_user(database, "siti").id, _user(database, "eko").id}
    assert "Penerima: 2" in admin.press("Laporan")[0].text
    # A coach cannot read an institution-wide report.
    assert "bukan untuk akun Anda" in press_data(rina, callbacks.encode("br", rows[0].subject_id))[0].text
