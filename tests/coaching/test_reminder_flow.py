"""/pengingat through the conversation core on SQLite and PostgreSQL: the guided new reminder
(template error at the preview, a past time refused), recurrence in words, the scheduler queuing
what was made, and pause/resume/delete from the list."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.coaching.schedule import run_pass
from bot.storage import Reminder
from tests.coaching.conftest import join, make_coach, make_cohort, outbox_rows


def _reminders(database) -> list[Reminder]:  # type: ignore[no-untyped-def]
    with database.transaction() as session:
        return list(session.scalars(select(Reminder).order_by(Reminder.id)))


def test_a_guided_one_off_reminder_is_previewed_checked_and_queued_by_the_scheduler(talk) -> None:  # type: ignore[no-untyped-def]
    rina = make_coach(talk, "rina")
    payload = make_cohort(rina)
    join(talk, "siti", payload)
    join(talk, "ani", payload)
    database = rina.conversation.database

    assert "Belum ada pengingat" in rina.say("/pengingat")[0].text
    audience = rina.press("Pengingat baru")[0]  # one cohort: straight to the audience
    assert "untuk siapa" in audience.text
    assert any("Semua anggota (2)" in b.label for row in audience.buttons for b in row)
    hints = rina.press("Semua anggota")[0].text
    assert "{{ nama }}" in hints and "{{ langkah_berikutnya }}" in hints

    problem = rina.say("Halo {{ nma }}, catat omzet ya")[0].text
    assert "{{ nma }} tidak dikenal" in problem and "Mungkin maksudnya {{ nama }}" in problem
    preview = rina.say("Halo {{ nama }}, catat omzet {{ usaha }} ya")[0]
    assert "Pratinjau untuk Siti" in preview.text and "Halo Siti, catat omzet" in preview.text
    assert "Pengingat dari Rina" in preview.text and "<b>2</b> orang" in preview.text

    rina.press("Lanjut")
    rina.press("Sekali saja")
    rina.say("08:00")  # the clock says 10:00 WIB on 30 November
    refused = rina.say("30/11")
    assert "sudah lewat" in refused[0].text and _reminders(database) == []
    assert not any("Hari ini" in b.label for row in refused[-1].buttons for b in row)
    confirm = rina.say("besok")[0].text
    assert "Selasa, 1 Desember 2026, 08.00 WIB" in confirm and "sekali saja" in confirm
    assert "Pengingat disimpan" in rina.press("Simpan pengingat")[0].text
    [reminder] = _reminders(database)
    assert reminder.rrule is None and reminder.start_local == "2026-12-01T08:00"
    assert reminder.next_at == datetime(2026, 12, 1, 1, 0, tzinfo=UTC)

    listed = rina.say("/pengingat")[0].text
    assert "Selasa, 1 Desember 2026, 08.00 WIB" in listed and "Belum pernah terkirim" in listed

    result = run_pass(database, rina.conversation.settings, datetime(2026, 12, 1, 1, 0, tzinfo=UTC))
    assert result.reminder_occurrences == 1 and result.messages == 2
    texts = [r.payload["text"] for r in outbox_rows(database) if r.kind == "reminder"]
    assert len(texts) == 2 and any("Halo Siti, catat omzet" in t for t in texts)
    assert "terkirim 0, menunggu 2" in rina.say("/pengingat")[0].text


def test_recurring_reminders_in_words_and_a_cancelled_dialogue_saves_nothing(talk) -> None:  # type: ignore[no-untyped-def]
    rina = make_coach(talk, "rina")
    payload = make_cohort(rina)
    join(talk, "siti", payload)
    database = rina.conversation.database

    rina.say("/pengingat")
    rina.press("Pengingat baru")
    rina.press("Semua anggota")
    rina.say("Rapat kelompok ya, {{ nama }}")
    rina.press("Lanjut")
    rina.press("Setiap minggu")
    assert "paling sedikit satu hari" in rina.press("Selesai")[0].text
    rina.press("Sen")
    rina.press("Kam")
    toggled = rina.press("✅ Sen")[0]  # a second tap takes Monday off again
    assert toggled.edit and "Terpilih: Kamis." in toggled.text
    rina.press("Selesai")
    confirm = rina.press("07.00")[0].text
    assert "setiap Kamis" in confirm and "Kamis, 3 Desember 2026, 07.00 WIB" in confirm
    rina.press("Simpan pengingat")

    rina.press("Pengingat baru")
    rina.press("Yang belum mencatat")
    rina.say("Catat omzet bulan ini ya")
    rina.press("Lanjut")
    rina.press("Setiap bulan")
    assert "1 sampai 31" in rina.say("32")[0].text
    time_step = rina.say("31")[0].text
    assert "hari terakhirnya" in time_step
    confirm = rina.say("19.30")[0].text
    assert "setiap bulan tanggal 31 (bulan yang lebih pendek: hari terakhirnya)" in confirm
    assert "Senin, 30 November 2026, 19.30 WIB" in confirm  # November has 30 days: its last day
    rina.press("Simpan pengingat")

    rina.press("Pengingat baru")
    rina.press("Semua anggota")
    rina.say("Ini tidak jadi")
    rina.press("Lanjut")
    rina.press("Setiap akhir bulan")
    assert "Dibatalkan" in rina.press("Batal")[0].text

    weekly, monthly = _reminders(database)
    assert (weekly.rrule, weekly.audience) == ("FREQ=WEEKLY;BYDAY=TH", "cohort")
    assert (monthly.rrule, monthly.audience) == ("FREQ=MONTHLY;BYMONTHDAY=31,-1;BYSETPOS=1", "no_figures")
    listed = rina.say("/pengingat")[0].text
    assert "setiap Kamis" in listed and "anggota yang belum mencatat angka bulan ini" in listed


def test_pause_resume_and_delete_from_the_list(talk) -> None:  # type: ignore[no-untyped-def]
    rina = make_coach(talk, "rina")
    payload = make_cohort(rina)
    join(talk, "siti", payload)
    database = rina.conversation.database
    rina.say("/pengingat")
    rina.press("Pengingat baru")
    rina.press("Satu orang")
    rina.press("Siti")
    rina.say("Jangan lupa foto produk, {{ nama }}")
    rina.press("Lanjut")
    rina.press("Setiap hari")
    rina.press("08.00")
    rina.press("Simpan pengingat")

    listed = rina.say("/pengingat")[0]
    assert "Sentra Batik → Siti" in listed.text and "setiap hari" in listed.text
    paused = rina.press("Jeda 1")[0]
    assert paused.edit and "Pengingat dijeda" in paused.text and "DIJEDA" in paused.text
    assert _reminders(database)[0].status == "paused"
    resumed = rina.press("Lanjutkan 1")[0]
    assert "berjalan lagi" in resumed.text and _reminders(database)[0].status == "active"
    assert "Tidak bisa dibatalkan" in rina.press("Hapus 1")[0].text
    assert _reminders(database)[0].status == "active"  # asked, not done yet
    deleted = rina.press("Ya, hapus")[0]
    assert "Pengingat dihapus" in deleted.text and "Belum ada pengingat" in deleted.text
    [reminder] = _reminders(database)
    assert reminder.status == "cancelled" and reminder.next_at is None
