"""/undangan and the members' invitation buttons through the conversation core, on SQLite and
PostgreSQL: the guided invitation, RSVP yes/no/maybe, quota and waiting list, promotion with the
.ics, closing, attendance (one tap and "all who said yes") in /laporan and the cohort export,
ratings with comments, and cancelling an event."""

from __future__ import annotations

import base64
import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar
from sqlalchemy import select

from bot.coaching.schedule import run_pass
from bot.core import callbacks
from bot.storage import Event, QuestionLog, Repositories
from tests.coaching.conftest import join, make_coach, make_cohort, outbox_rows, press_data

WIB = ZoneInfo("Asia/Jakarta")
START = datetime(2026, 12, 5, 9, 0, tzinfo=WIB)  # the clock starts on Monday 30 November, 10:00 WIB


def _world(talk):  # type: ignore[no-untyped-def]
    rina = make_coach(talk, "rina")
    payload = make_cohort(rina)
    members = {name: join(talk, name, payload) for name in ("siti", "ani", "dewi")}
    return rina, members


def _invite(rina, title: str = "Kelas HPP", quota: str | None = None) -> int:  # type: ignore[no-untyped-def]
    """The shortest way through the guided invitation: 5 Dec 09:00 WIB, 2 hours, everyone."""
    rina.say("/undangan")
    rina.press("Undangan baru")
    rina.say(title)
    rina.say("5/12 09.00")
    rina.press("2 jam")
    rina.press("Lewati")
    rina.press("Lewati")
    if quota is None:
        rina.press("Tanpa batas")
    else:
        rina.say(quota)
    rina.press("Saat acara mulai")
    rina.press("Semua anggota")
    assert "diantre" in rina.press("Kirim undangan")[0].text
    with rina.conversation.database.transaction() as session:
        return session.scalars(select(Event.id).where(Event.title == title)).one()


def _answer(member, event_id: int, answer: str):  # type: ignore[no-untyped-def]
    return press_data(member, callbacks.encode("rv", event_id, answer))[0]


def test_a_guided_invitation_and_answers_with_quota_waiting_list_promotion_and_ics(talk, clock) -> None:  # type: ignore[no-untyped-def]
    rina, m = _world(talk)
    database = rina.conversation.database
    assert "Belum ada acara" in rina.say("/undangan")[0].text
    assert "judul acaranya" in rina.press("Undangan baru")[0].text  # one cohort: no cohort step
    assert "Tanggal berapa <b>Pelatihan foto produk</b>" in rina.say("Pelatihan foto produk")[0].text
    assert "belum terbaca" in rina.say("kapan-kapan")[0].text
    assert "sudah lewat" in rina.say("1/11/2026")[0].text
    rina.say("5/12")
    assert "belum terbaca" in rina.say("25.00")[0].text
    rina.press("09.00")
    assert "setelah jam mulai" in rina.say("08.00")[0].text
    rina.press("2 jam")
    rina.say("Balai Desa Sumber https://meet.google.com/abc-defg")
    rina.press("Lewati")  # no description
    assert "angka" in rina.say("dua puluh")[0].text
    rina.say("2")
    closing = rina.last[0]
    assert [b.label for row in closing.buttons for b in row][:3] == [
        "Saat acara mulai", "1 hari sebelumnya", "2 hari sebelumnya",
    ]  # fmt: skip
    rina.press("1 hari sebelumnya")
    preview = rina.press("Semua anggota")[0].text
    assert "Pratinjau untuk Siti" in preview and "Undangan: Pelatihan foto produk</b> dari Rina" in preview
    assert "📍 Balai Desa Sumber\n💻 https://meet.google.com/abc-defg" in preview
    assert "Tempat terbatas: 2 orang" in preview and "<b>3</b> orang" in preview
    assert "diantre untuk 3 orang" in rina.press("Kirim undangan")[0].text

    invitations = [r for r in outbox_rows(database) if r.kind == "event_invitation"]
    assert len(invitations) == 3
    [row] = invitations[0].payload["buttons"]
    event_id = int(row[0]["data"].split("|")[2])
    assert [b["data"] for b in row] == [callbacks.encode("rv", event_id, a) for a in ("yes", "no", "maybe")]

    placed = press_data(m["siti"], row[0]["data"])[0]  # the invitation's own ✅ Hadir button
    assert "Tempat Anda di <b>Pelatihan foto produk</b> sudah tercatat" in placed.text
    assert placed.attachment is not None and placed.attachment.filename.endswith(".ics")
    [vevent] = Calendar.from_ical(placed.attachment.content).walk("VEVENT")
    assert str(vevent["summary"]) == "Pelatihan foto produk" and str(vevent["location"]) == "Balai Desa Sumber"
    assert vevent.decoded("dtstart") == START and vevent.decoded("dtend") == START + timedelta(hours=2)
    assert "Tempat Anda" in _answer(m["ani"], event_id, "yes").text
    waiting = _answer(m["dewi"], event_id, "yes")
    assert "daftar tunggu nomor <b>1</b>" in waiting.text and waiting.attachment is None

    # Ani changes her mind: Dewi moves up and is told through the outbox, with the .ics.
    assert "<b>Mungkin</b>" in _answer(m["ani"], event_id, "maybe").text
    [promoted] = [r for r in outbox_rows(database) if r.kind == "event_promoted"]
    with database.transaction() as session:
        assert promoted.user_id == Repositories(session).users.get("terminal", "dewi").id
    ics = Calendar.from_ical(base64.b64decode(promoted.payload["document"]["base64"]))
    assert str(ics.walk("VEVENT")[0]["summary"]) == "Pelatihan foto produk"
    assert "sudah tercatat: <b>Hadir</b>" in _answer(m["dewi"], event_id, "yes").text
    assert "<b>Tidak bisa</b>" in _answer(m["siti"], event_id, "no").text
    assert len([r for r in outbox_rows(database) if r.kind == "event_promoted"]) == 1  # nobody waiting

    listed = rina.say("/undangan")[0].text
    assert "✅ 1/2 hadir · ⏳ 0 tunggu · 🤔 1 mungkin · ❌ 1 tidak · ❔ 0 belum jawab" in listed
    view = rina.press("Pelatihan foto produk")[0].text
    assert "✅ Hadir (1): Dewi" in view and "🤔 Mungkin (1): Ani" in view and "❌ Tidak bisa (1): Siti" in view
    # The invitation's delivery report: 3 invitations and Dewi's promotion, none delivered yet.
    assert "📨 Pesan acara ini: terkirim 0, menunggu 4, diblokir 0, gagal 0, belum pasti 0" in view

    clock.now = datetime(2026, 12, 4, 9, 0, tzinfo=WIB).astimezone(UTC)  # answers closed
    assert "sudah ditutup" in _answer(m["siti"], event_id, "yes").text
    assert "sudah ditutup" in _answer(m["siti"], event_id, "maybe").text
    assert "tidak berlaku" in press_data(m["siti"], callbacks.encode("rv", event_id, "perhaps"))[0].text


def test_attendance_ratings_and_comments_reach_the_report_and_the_export(talk, clock) -> None:  # type: ignore[no-untyped-def]
    rina, m = _world(talk)
    database = rina.conversation.database
    event_id = _invite(rina)
    _answer(m["siti"], event_id, "yes")
    _answer(m["ani"], event_id, "maybe")
    assert "setelah acara dimulai" in press_data(rina, callbacks.encode("ey", event_id, 1))[0].text

    clock.now = (START + timedelta(minutes=30)).astimezone(UTC)
    rina.say("/undangan")
    view = rina.press("Kelas HPP")[0]
    assert [b.label for row in view.buttons for b in row][:3] == ["⬜ Siti", "⬜ Ani", "⬜ Dewi"]
    marked = rina.press("Semua yang Hadir")[0]
    assert "1 orang ditandai hadir" in marked.text and marked.edit
    assert any(b.label == "✅ Siti" for row in marked.buttons for b in row)
    assert any(b.label == "✅ Ani" for row in rina.press("Ani")[0].buttons for b in row)
    assert any(b.label == "❌ Ani" for row in rina.press("Ani")[0].buttons for b in row)
    rina.press("Dewi")  # came without answering

    laporan = m["siti"].say("/laporan")[-1].text
    assert "Pelatihan yang diikuti" in laporan and "Kelas HPP" in laporan
    assert "Kelas HPP" not in m["ani"].say("/laporan")[-1].text
    with database.transaction() as session:
        cohort_id = Repositories(session).cohorts.for_coach(None)[0].id
    export = press_data(rina, callbacks.encode("ke", cohort_id, "csv"))[0].attachment
    table = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert {row["Nama"]: row["Pelatihan dihadiri"] for row in table} == {"Siti": "1", "Ani": "0", "Dewi": "1"}

    morning = datetime(2026, 12, 6, 8, 0, tzinfo=WIB).astimezone(UTC)
    run_pass(database, rina.conversation.settings, morning, silent_flags=False)
    ratings = [r for r in outbox_rows(database) if r.kind == "event_rating"]
    assert len(ratings) == 2  # Siti and Dewi attended; Ani did not
    clock.now = morning
    five = ratings[0].payload["buttons"][0][4]["data"]
    assert "⭐5" in press_data(m["siti"], five)[0].text
    assert "komentar Anda sudah disampaikan" in m["siti"].say("Materinya pas, contohnya keripik")[0].text
    assert "⭐4" in press_data(m["dewi"], callbacks.encode("rr", event_id, 4))[0].text
    assert m["dewi"].press("Lewati")[0].text == "Terima kasih! 🙏"
    assert "hanya untuk peserta yang tercatat hadir" in press_data(m["ani"], callbacks.encode("rr", event_id, 3))[0].text
    with database.transaction() as session:
        repos = Repositories(session)
        assert repos.states.get(repos.users.get("terminal", "dewi").id) is None  # no comment awaited
    # Ani rates nothing; Dewi rates again and, hours later, asks the bot something: not a comment.
    press_data(m["dewi"], callbacks.encode("rr", event_id, 4))
    clock.now = morning + timedelta(hours=3)
    assert "komentar" not in m["dewi"].say("bagaimana cara daftar NIB")[0].text
    with database.transaction() as session:
        repos = Repositories(session)
        assert repos.events.rsvp(event_id, repos.users.get("terminal", "dewi").id).comment is None
        assert session.scalars(select(QuestionLog.text).order_by(QuestionLog.id)).all()[-1] == "bagaimana cara daftar NIB"  # answered

    view = press_data(rina, callbacks.encode("ev", event_id))[0].text
    assert "Rata-rata 4,5 dari 2 penilaian" in view and "💬 Materinya pas, contohnya keripik" in view


def test_cancelling_an_event_tells_everyone_invited_once(talk, clock) -> None:  # type: ignore[no-untyped-def]
    rina, m = _world(talk)
    database = rina.conversation.database
    event_id = _invite(rina, "Temu bisnis")
    _answer(m["siti"], event_id, "yes")
    _answer(m["ani"], event_id, "no")
    view = press_data(rina, callbacks.encode("ev", event_id))[0]
    assert "Batalkan" in rina.press("Batalkan acara")[0].text
    assert "3 orang diberi tahu" in rina.press("Ya, batalkan")[0].text
    cancelled = [r for r in outbox_rows(database) if r.kind == "event_cancelled"]
    assert len(cancelled) == 3 and all("Temu bisnis dibatalkan" in r.payload["text"] for r in cancelled)
    assert len({r.dedupe_key for r in cancelled}) == 3
    assert "tidak bisa dibatalkan lagi" in press_data(rina, callbacks.encode("ex", event_id, "y"))[0].text
    assert len([r for r in outbox_rows(database) if r.kind == "event_cancelled"]) == 3
    assert "dibatalkan" in _answer(m["dewi"], event_id, "yes").text
    assert "Temu bisnis" not in rina.say("/undangan")[0].text
    assert view.buttons  # the view offered the cancel button before
