"""Coaching through the conversation core, on SQLite and PostgreSQL: invites, cohorts, joining
and leaving, hand-off questions and replies through the outbox, exports, erasure."""

from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.core import Incoming
from bot.storage import Coach, HandoffThread, KnowledgeDraft, Membership, OutboxMessage, Repositories, User
from tests.coaching.conftest import Clock, consented, join, make_coach, make_cohort, outbox_rows, press_data


def _count(database, model) -> int:  # type: ignore[no-untyped-def]
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_invite_link_makes_a_coach_once(talk) -> None:  # type: ignore[no-untyped-def]
    admin = consented(talk("admin"))
    database = admin.conversation.database
    with database.transaction() as session:
        institution_id = Repositories(session).coaches.add_institution("Dinas Koperasi Blora").id
    text = admin.say(f"/undang_pendamping {institution_id}")[0].text
    assert "https://t.me/pendamping_test_bot?start=p_" in text
    payload = text.split("start=")[1].split()[0]

    first = talk("rina")
    first.say(f"/start {payload}")
    assert "Setuju" in first.last[0].buttons[0][0].label  # consent first, the link rides along
    assert "diundang menjadi" in first.press("Setuju")[0].text
    assert "sekarang pendamping" in first.press("Terima")[0].text
    assert "Untuk pendamping" in first.say("/bantuan")[0].text

    second = consented(talk("budi"))
    assert "sudah dipakai" in second.say(f"/start {payload}")[0].text
    assert _count(database, Coach) == 1
    # The code itself is not in the database, only its hash.
    with database.transaction() as session:
        hashes = [row[0] for row in session.execute(select(Coach.__table__.c.id))]
        assert hashes and payload[2:] not in str(session.execute(select(func.max(User.external_id))).scalar())


def test_an_expired_invite_is_refused(talk, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    admin = consented(talk("admin"))
    with admin.conversation.database.transaction() as session:
        institution_id = Repositories(session).coaches.add_institution("NGO Mitra").id
    payload = admin.say(f"/undang_pendamping {institution_id}")[0].text.split("start=")[1].split()[0]
    clock.now += timedelta(days=8)
    late = talk("late")
    late.say(f"/start {payload}")
    assert "kedaluwarsa" in late.press("Setuju")[0].text


def test_joining_shares_nothing_before_join_and_leaving_stops_access(talk) -> None:  # type: ignore[no-untyped-def]
    coach = make_coach(talk, "rina")
    payload = make_cohort(coach)
    member = talk("siti")
    prompt = member.say(f"/start {payload}")
    assert "UU PDP" in prompt[0].text
    prompt = member.press("Setuju")[0]
    assert "Belum ada yang dibagikan" in prompt.text and "Rina" in prompt.text
    database = coach.conversation.database
    assert _count(database, Membership) == 0
    cohorts = coach.say("/kelompok")[0]
    assert "0 anggota" in cohorts.text

    member.press("Gabung")
    member.say("Siti Aminah")  # onboarding starts so the coach knows who joined
    assert _count(database, Membership) == 1
    coach.say("/kelompok")
    view = coach.press("Sentra Batik")[0]
    assert "1 anggota" in view.text
    member_button = next(b for row in view.buttons for b in row if "Siti Aminah" in b.label)
    assert "Siti Aminah" in press_data(coach, member_button.data)[0].text

    listed = member.say("/kelompok_saya")[0]
    assert "Sentra Batik" in listed.text
    assert "sudah keluar" in member.press("Keluar")[0].text
    refused = press_data(coach, member_button.data)[0]
    assert "bukan untuk akun Anda" in refused.text  # no access after leaving


def test_handoff_round_trip_through_the_outbox(talk) -> None:  # type: ignore[no-untyped-def]
    coach = make_coach(talk, "rina")
    member = join(talk, "siti", make_cohort(coach))
    database = coach.conversation.database

    card = member.say("gmn cara daftar nib di oss")[0]
    assert card.buttons[-1][0].label == "🧑‍🏫 Tanya pendamping"
    confirm = member.press("Tanya pendamping")[0]
    assert "gmn cara daftar nib di oss" in confirm.text
    assert outbox_rows(database) == []  # nothing queued before the member confirms
    assert "Terkirim ke Rina" in member.press("Kirim ke Rina")[0].text

    [question] = outbox_rows(database)
    assert question.kind == "handoff_question" and question.state == "pending"
    assert question.chat_id == "rina" and question.about_user_id is not None
    assert "gmn cara daftar nib di oss" in question.payload["text"]
    assert "Cara mengurus NIB lewat OSS" in question.payload["text"]  # what the bot had answered
    reply_button = question.payload["buttons"][0][0]
    assert reply_button["label"] == "✍️ Balas"

    prompt = press_data(coach, reply_button["data"])[0]
    assert "Tulis balasan untuk <b>Siti</b>" in prompt.text
    sent = coach.say("Daftar di oss.go.id, gratis. Bawa KTP & email.")[0]
    assert "dikirim" in sent.text
    answer = outbox_rows(database)[1]
    assert answer.kind == "handoff_reply" and answer.chat_id == "siti"
    assert "Jawaban dari pendamping Rina" in answer.payload["text"]
    assert "KTP &amp; email" in answer.payload["text"]  # the coach's text is escaped
    with database.transaction() as session:
        thread = session.scalars(select(HandoffThread)).one()
        assert thread.status == "answered" and thread.answered_at is not None

    # The coach saves the answer as a knowledge draft (never indexed automatically).
    assert "draf pengetahuan" in coach.press("Simpan sebagai draf")[0].text
    assert _count(database, KnowledgeDraft) == 1

    # A follow-up reopens the thread and goes to the coach again.
    press_data(member, answer.payload["buttons"][0][0]["data"])
    member.say("Kalau KBLI nya bingung gimana?")
    follow = outbox_rows(database)[2]
    assert follow.kind == "handoff_question" and "Pertanyaan lanjutan" in follow.payload["text"]
    with database.transaction() as session:
        assert session.scalars(select(HandoffThread)).one().status == "open"


def test_native_telegram_reply_answers_the_thread(talk) -> None:  # type: ignore[no-untyped-def]
    coach = make_coach(talk, "rina")
    member = join(talk, "siti", make_cohort(coach))
    database = coach.conversation.database
    member.say("/tanya_pendamping Berapa modal awal untuk usaha laundry kiloan?")
    member.press("Kirim ke Rina")
    [question] = outbox_rows(database)
    with database.transaction() as session:  # the worker records the Telegram message id
        Repositories(session).outbox.mark_sent(question.id, 555)
    coach.send(Incoming(coach.user, "text", text="Sekitar 15-20 juta untuk 2 mesin.", reply_to=555))
    answer = outbox_rows(database)[1]
    assert answer.kind == "handoff_reply" and "15-20 juta" in answer.payload["text"]
    # A reply to some other message is just a question to the bot.
    before = len(outbox_rows(database))
    coach.send(Incoming(coach.user, "text", text="syarat kur apa", reply_to=999))
    assert len(outbox_rows(database)) == before


def test_no_coach_says_so_and_points_to_groups(talk) -> None:  # type: ignore[no-untyped-def]
    member = consented(talk("siti"))
    reply = member.say("/tanya_pendamping tolong bantu")[0]
    assert "/kelompok_saya" in reply.text and "belum bergabung" in reply.text


def test_member_with_two_coaches_chooses_one(talk) -> None:  # type: ignore[no-untyped-def]
    rina = make_coach(talk, "rina")
    budi = make_coach(talk, "budi", institution="Koperasi Maju")
    member = join(talk, "siti", make_cohort(rina, "Sentra Batik"))
    member.say(f"/start {make_cohort(budi, 'Koperasi Maju Bersama')}")
    member.press("Gabung")
    confirm = member.say("/tanya_pendamping harga jual batik cap berapa?")[0]
    labels = [b.label for row in confirm.buttons for b in row]
    assert any("Rina (Sentra Batik)" in label for label in labels)
    assert any("Budi (Koperasi Maju Bersama)" in label for label in labels)
    member.press("Kirim ke Budi")
    [row] = outbox_rows(rina.conversation.database)
    assert row.chat_id == "budi"


def test_cohort_export_csv_and_xlsx_round_trip(talk) -> None:  # type: ignore[no-untyped-def]
    coach = make_coach(talk, "rina")
    member = join(talk, "siti", make_cohort(coach))
    member.say("/catat omzet 2,5jt")
    coach.say("/kelompok")
    view = coach.press("Sentra Batik")[0]
    xlsx = coach.press("XLSX")[0].attachment
    assert xlsx is not None and xlsx.filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Nama" and rows[1][0] == "Siti"
    assert 2_500_000 in rows[1]  # this month's sales as a number, not text
    coach.last = [view]
    csv_file = coach.press("CSV")[0].attachment
    assert csv_file is not None
    text = csv_file.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Nama,") and "Siti" in text


def test_erasure_removes_memberships_threads_and_messages_about_the_member(talk) -> None:  # type: ignore[no-untyped-def]
    coach = make_coach(talk, "rina")
    member = join(talk, "siti", make_cohort(coach))
    member.say("/tanya_pendamping bagaimana cara urus PIRT")
    member.press("Kirim ke Rina")
    database = coach.conversation.database
    assert _count(database, OutboxMessage) == 1
    member.say("/hapus")
    member.press("Ya, hapus")
    assert _count(database, Membership) == 0
    assert _count(database, HandoffThread) == 0
    assert _count(database, OutboxMessage) == 0  # the question to the coach is gone with her
    # A coach who still runs a cohort cannot erase themselves (members' data would go too).
    assert "masih memegang" in coach.say("/hapus")[0].text


def test_coach_name_follows_the_profile(talk) -> None:  # type: ignore[no-untyped-def]
    coach = make_coach(talk, "rina")
    coach.say("/profil")
    coach.press("Nama")
    coach.say("Bu Rina Wulandari")
    with coach.conversation.database.transaction() as session:
        assert session.scalars(select(Coach)).one().name == "Bu Rina Wulandari"


def test_a_reply_to_the_coachs_personal_message_reaches_the_coach(talk) -> None:  # type: ignore[no-untyped-def]
    coach = make_coach(talk, "rina")
    member = join(talk, "siti", make_cohort(coach))
    database = coach.conversation.database
    with database.transaction() as session:
        repos = Repositories(session)
        cohort = repos.cohorts.for_coach(None)[0]
        siti = repos.users.get("terminal", "siti")
        row_id = repos.outbox.enqueue(siti, "personal", {"text": "Apa kabar usahanya?"}, "p1", subject_type="personal",
                                      subject_id=cohort.id)  # fmt: skip
        repos.outbox.mark_sent(row_id, 777)
    member.send(Incoming(member.user, "text", text="Alhamdulillah lancar, tapi bingung soal PIRT", reply_to=777))
    question = outbox_rows(database)[-1]
    assert question.kind == "handoff_question" and question.chat_id == "rina" and "PIRT" in question.payload["text"]


def test_the_members_export_holds_their_groups_questions_to_coaches_and_invitations(talk) -> None:  # type: ignore[no-untyped-def]
    import json as json_module

    coach = make_coach(talk, "rina")
    member = join(talk, "siti", make_cohort(coach))
    member.say("/tanya_pendamping bagaimana cara urus PIRT")
    member.press("Kirim ke Rina")
    [question] = outbox_rows(coach.conversation.database)
    press_data(coach, question.payload["buttons"][0][0]["data"])
    coach.say("Daftar lewat OSS, ikut penyuluhan PKP.")
    files = member.say("/ekspor")
    document = json_module.loads(next(r.attachment for r in files if r.attachment.filename.endswith(".json")).content)
    assert [g["group"] for g in document["groups"]] == ["Sentra Batik"]
    [thread] = document["questions_to_coaches"]
    assert [m["from"] for m in thread["messages"]] == ["member", "coach"]
    assert "PKP" in thread["messages"][1]["text"]
    assert document["invitations"] == []
