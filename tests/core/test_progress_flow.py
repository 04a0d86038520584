"""Progress logging end to end through the real Conversation, SQLite and search index."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from bot.core import Conversation, Incoming
from bot.core.callbacks import MAX_BYTES, encode
from bot.progress.milestones import load_milestones
from bot.storage import Base, Database
from tests.core.conftest import Chat

NOW = datetime(2026, 6, 15, 3, 0, tzinfo=UTC)  # 15 June 2026, 10:00 WIB
JUNE, MAY = date(2026, 6, 1), date(2026, 5, 1)


@pytest.fixture
def clock(conversation: Conversation) -> list[datetime]:
    """The flow's clock, fixed; tests may move it by replacing clock[0]."""
    moments = [NOW]
    conversation.now = lambda: moments[0]
    return moments


@pytest.fixture
def user(chat: Chat, clock: list[datetime]) -> Chat:
    chat.consent()
    return chat


def figures(database: Database, kind: str | None = None) -> list[tuple[str, date, int, bool]]:
    """(kind, month, value, current) of every figure row, in insertion order."""
    table = Base.metadata.tables["figures"]
    stmt = select(table.c.kind, table.c.month, table.c.value, table.c.superseded_at).order_by(
        table.c.id
    )
    if kind is not None:
        stmt = stmt.where(table.c.kind == kind)
    with database.transaction() as session:
        return [(k, m, v, s is None) for k, m, v, s in session.execute(stmt)]


def current(database: Database, kind: str) -> dict[date, int]:
    return {m: v for k, m, v, cur in figures(database, kind) if cur}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2,5jt", 2_500_000),
        ("2.500.000", 2_500_000),
        ("Rp 2.500.000,-", 2_500_000),
        ("750rb", 750_000),
        ("1 juta 500 ribu", 1_500_000),
        ("dua setengah juta", 2_500_000),
        ("2 500 000", 2_500_000),
    ],
)
def test_catat_reads_number_formats(user: Chat, core_database: Database, text: str, value: int):
    user.say(f"/catat omzet {text}")
    assert current(core_database, "omzet") == {JUNE: value}
    assert "tercatat" in user.text


def test_catat_month_and_counts(user: Chat, core_database: Database):
    user.say("/catat omzet 750rb 3 bulan lalu")
    user.say("/catat omzet 3jt bulan lalu")
    user.say("/catat omzet 1 juta Mei 2025")
    user.say("/catat pekerja 5 orang")
    user.say("/catat produksi 1.200 pcs mei")
    assert current(core_database, "omzet") == {
        date(2025, 5, 1): 1_000_000,
        date(2026, 3, 1): 750_000,
        MAY: 3_000_000,
    }
    assert current(core_database, "workers") == {JUNE: 5}
    assert current(core_database, "units") == {MAY: 1200}
    assert "1.200" in user.text


def test_correction_replaces_and_keeps_history(user: Chat, core_database: Database):
    user.say("/catat omzet 2jt")
    user.say("/catat omzet 2,5jt")
    assert "Rp2.500.000" in user.text and "Rp2.000.000" in user.text
    assert "menggantikan" in user.text
    assert figures(core_database, "omzet") == [
        ("omzet", JUNE, 2_000_000, False),
        ("omzet", JUNE, 2_500_000, True),
    ]
    user.say("/catat omzet 2.500.000")
    assert "tidak ada yang berubah" in user.text
    assert len(figures(core_database, "omzet")) == 2


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("banyak sekali", "tidak bisa membaca angkanya"),
        ("-2jt", "tidak bisa minus"),
        ("2 T", "terlalu besar"),
        ("2000 T", "terlalu besar"),
        ("2,5", "harus bulat"),
        ("2jt bulan depan", "belum terjadi"),
        ("2jt Juli 2026", "belum terjadi"),
        ("2jt Mei 1999", "terlalu lama"),
    ],
)
def test_bad_input_stores_nothing_and_keeps_state(
    user: Chat, core_database: Database, conversation: Conversation, text: str, fragment: str
):
    user.say(f"/catat omzet {text}")
    assert fragment in user.text
    assert "Tidak ada yang disimpan" in user.text and "2,5jt" in user.text
    assert figures(core_database) == []
    # The user can retry by just typing the number.
    user.say("3jt")
    assert current(core_database, "omzet") == {JUNE: 3_000_000}


def test_count_field_rejects_text(user: Chat, core_database: Database):
    user.say("/catat pekerja lima orang lebih")
    assert "tidak bisa membaca angkanya" in user.text
    user.say("2,5 orang")
    assert "harus bulat" in user.text
    assert figures(core_database) == []


def test_guided_catat(user: Chat, core_database: Database):
    user.say("/catat")
    labels = [b.label for r in user.last for row in r.buttons for b in row]
    assert len(labels) == 4
    user.say("halo")  # not a kind: asked again, nothing stored
    assert "Pilih dulu" in user.text
    user.press("Modal")
    assert "modal usaha" in user.text
    user.say("abc")
    assert "Tidak ada yang disimpan" in user.text
    user.say("15 juta")
    assert current(core_database, "modal") == {JUNE: 15_000_000}
    assert "Rp15.000.000" in user.text
    # The state ended: the next text is a question again, not a figure.
    user.say("20 juta")
    assert current(core_database, "modal") == {JUNE: 15_000_000}


def test_guided_catat_cancel(user: Chat, core_database: Database):
    user.say("/catat")
    user.press("Omzet")
    user.say("/batal")
    user.say("2jt")
    assert figures(core_database) == []


def test_catat_kind_alone_and_unknown_kind(user: Chat, core_database: Database):
    user.say("/catat gaji 2jt")
    assert "belum kenal" in user.text and len(user.last[0].buttons) == 2
    user.say("/catat omzet")
    user.say("4jt")
    assert current(core_database, "omzet") == {JUNE: 4_000_000}


def test_class_and_naik_kelas(user: Chat, core_database: Database):
    user.say("/catat omzet 100jt")
    assert "Usaha Mikro" in user.text
    assert "naik kelas" not in user.text.lower()
    # 100jt x 12 = 1,2 M a year; Rp2 miliar + 1 reaches small: 800.000.001 to go.
    assert "Rp800.000.001" in user.text
    user.say("/catat omzet 200jt")  # a correction: 2,4 M a year
    assert "mengubah kelas usaha" in user.text  # a class change is confirmed first
    assert current(core_database, "omzet") == {JUNE: 100_000_000}
    user.press("Ya, simpan")
    assert "naik kelas!" in user.text
    assert "Usaha Kecil" in user.text
    table = Base.metadata.tables["class_history"]
    with core_database.transaction() as session:
        rows = session.execute(select(table.c.umkm_class).order_by(table.c.id)).scalars().all()
    assert rows == ["micro", "small"]
    user.say("/catat omzet 200jt Mei")  # same class: no new row, no congratulations
    assert "naik kelas" not in user.text.lower()
    user.say("/catat modal 2 miliar")  # capital alone makes it small too
    assert "Usaha Kecil" in user.text


def test_a_figure_twenty_times_last_month_is_confirmed_before_saving(user: Chat, core_database: Database):
    user.say("/catat omzet 3jt bulan lalu")
    user.say("/catat omzet 90jt")  # 30x: maybe an extra zero
    assert "lebih dari 20 kali" in user.text and JUNE not in current(core_database, "omzet")
    user.press("Tulis ulang")
    user.say("9jt")
    assert current(core_database, "omzet")[JUNE] == 9_000_000


def test_reading_forms_from_the_issue(user: Chat, core_database: Database):
    user.say("/catat produksi 500 bungkus")
    assert current(core_database, "units") == {JUNE: 500}
    user.say("/catat omzet 2jt500")
    assert current(core_database, "omzet") == {JUNE: 2_500_000}
    user.say("/catat omzet 2 1/2 juta bulan lalu")
    user.say("/catat omzet 2.5 mio tahun lalu")
    assert current(core_database, "omzet")[date(2025, 6, 1)] == 2_500_000
    user.say("/catat omzet Juli 2026 bulan lalu")  # no amount: say so, not "before 2000"
    assert "2000" not in user.text


def test_english_revenue_and_million(user: Chat, core_database: Database):
    user.say("/bahasa")
    user.press("English")
    user.say("/catat revenue 2.5m")
    assert current(core_database, "omzet") == {JUNE: 2_500_000}


def test_progres_toggle_and_how_button(user: Chat, core_database: Database):
    user.say("/progres")
    reply = user.last[0]
    assert "0 dari" in reply.text
    assert "Punya NIB" in reply.text  # next suggested
    first_row = reply.buttons[0]
    assert first_row[0].label.startswith("⬜")
    # nib-lewat-oss is in the fixture index: a "how?" button opening it.
    assert first_row[1].data == encode("e", "nib-lewat-oss", "l")
    user.press("Punya NIB")
    reply = user.last[0]
    assert reply.edit
    assert reply.buttons[0][0].label.startswith("✅")
    assert len(reply.buttons[0]) == 1  # no "how?" once done
    assert "1 dari" in reply.text
    user.press("Punya NIB")  # toggles back
    assert user.last[0].buttons[0][0].label.startswith("⬜")
    # Milestones whose knowledge entry is not in the index get no "how?" button.
    assert all(len(row) == 1 for row in user.last[0].buttons if "pisah" in row[0].label)
    events = Base.metadata.tables["milestone_events"]
    with core_database.transaction() as session:
        assert session.execute(select(func.count()).select_from(events)).scalar_one() == 2
    user.press("ℹ️")
    assert "NIB" in user.text


def test_progres_sector_and_english(conversation: Conversation, clock: list[datetime]):
    chat = Chat(conversation, "2002", "en")
    chat.say("/start")
    chat.press("agree")
    chat.say("Budi")
    chat.press("Food")
    chat.say("/batal")
    chat.say("/progres")
    labels = [row[0].label for row in chat.last[0].buttons]
    assert any("SPP-IRT" in label for label in labels)
    assert "Business milestones" in chat.text


def test_all_milestone_callbacks_fit():
    for milestone in load_milestones():
        assert len(encode("ms", milestone.id).encode()) <= MAX_BYTES
        for knowledge_id in milestone.knowledge_ids:
            assert len(encode("e", knowledge_id).encode()) <= MAX_BYTES


def test_laporan(user: Chat, clock: list[datetime]):
    user.say("/laporan")
    assert "/catat" in user.text and user.last[0].attachment is None
    user.say("/catat omzet 2jt Maret")
    user.say("/catat omzet 3jt bulan lalu")
    user.say("/catat omzet 4jt")
    user.say("/progres")
    user.press("Punya NIB")
    user.say("/laporan")
    photo = user.last[0].attachment
    assert photo is not None and photo.kind == "photo" and photo.filename.endswith(".png")
    assert photo.content.startswith(b"\x89PNG")
    text = user.last[1].text
    assert "Rp4.000.000" in text and "Punya NIB" in text and "15 Juni 2026" in text
    assert "Usaha Mikro" in text


def test_laporan_without_sales_has_no_chart(user: Chat):
    user.say("/catat pekerja 3")
    user.say("/laporan")
    assert len(user.last) == 1 and user.last[0].attachment is None
    assert "Jumlah pekerja" in user.text


def test_ekspor_round_trip(user: Chat):
    user.say("/catat omzet 2jt")
    user.say("/catat omzet 2,5jt")
    user.say("/progres")
    user.press("Punya NIB")
    user.say("cara daftar qris")  # a logged question
    user.say("/ekspor")
    csv_reply, json_reply = user.last
    assert csv_reply.attachment is not None and json_reply.attachment is not None
    assert csv_reply.attachment.kind == json_reply.attachment.kind == "document"
    rows = list(csv.DictReader(io.StringIO(csv_reply.attachment.content.decode("utf-8-sig"))))
    figure_rows = [r for r in rows if r["record"] == "figure"]
    assert [(r["month"], r["value"], r["superseded_at"] == "") for r in figure_rows] == [
        ("2026-06-01", "2000000", False),
        ("2026-06-01", "2500000", True),
    ]
    assert any(r["record"] == "milestone" and r["kind"] == "nib" for r in rows)
    assert any(r["record"] == "question" and r["text"] == "cara daftar qris" for r in rows)
    document = json.loads(json_reply.attachment.content)
    assert document["profile"]["external_id"] == "1001"
    assert {"kind": "omzet", "month": "2026-06-01", "value": 2_500_000}.items() <= (
        document["figures"][-1].items()
    )
    assert document["milestones"]["done"] == ["nib"]
    assert document["class_history"][0]["class"] == "micro"
    assert document["questions"][0]["text"] == "cara daftar qris"


def _rows_of_user(database: Database, user_id: int) -> dict[str, int]:
    counts = {}
    with database.transaction() as session:
        for table in Base.metadata.sorted_tables:
            column = table.c.get("user_id") if table.name != "users" else table.c.id
            if column is None:
                continue
            stmt = select(func.count()).select_from(table).where(column == user_id)
            counts[table.name] = session.execute(stmt).scalar_one()
    return counts


def test_hapus_needs_confirmation_then_deletes_everything(
    user: Chat, core_database: Database, clock: list[datetime]
):
    user.say("/catat omzet 2jt")
    user.say("/catat omzet 3jt")
    user.say("/progres")
    user.press("Punya NIB")
    user.say("cara daftar qris")
    user.say("/catat")  # an open conversation state
    table = Base.metadata.tables["users"]
    with core_database.transaction() as session:
        user_id = session.execute(select(table.c.id)).scalar_one()
    assert _rows_of_user(core_database, user_id)["figures"] == 2

    user.say("/hapus")
    user.press("Tidak jadi")
    assert "tidak dihapus" in user.text
    assert _rows_of_user(core_database, user_id)["users"] == 1

    user.say("/hapus")
    user.press("Ya, hapus")
    assert "sudah dihapus" in user.text
    assert "catatan angka (termasuk riwayat koreksi): 2" in user.text
    assert "profil: 1" in user.text
    assert set(_rows_of_user(core_database, user_id).values()) == {0}
    # A later message starts a fresh, unconsented user.
    user.say("/catat omzet 2jt")
    assert "persetujuan" in user.text


def test_hapus_button_expires(user: Chat, core_database: Database, clock: list[datetime]):
    user.say("/hapus")
    clock[0] = datetime(2026, 6, 15, 4, 0, tzinfo=UTC)
    user.press("Ya, hapus")
    assert "kedaluwarsa" in user.text
    with core_database.transaction() as session:
        assert (
            session.execute(
                select(func.count()).select_from(Base.metadata.tables["users"])
            ).scalar_one()
            == 1
        )


@pytest.mark.parametrize(
    "command", ["/catat omzet 2jt", "/catat", "/progres", "/laporan", "/ekspor", "/hapus"]
)
def test_consent_required(chat: Chat, core_database: Database, clock: list[datetime], command: str):
    chat.say(command)
    assert "persetujuan" in chat.text
    assert all(r.attachment is None and not r.buttons for r in chat.last)
    assert figures(core_database) == []


def test_buttons_need_consent(chat: Chat, clock: list[datetime]):
    for data in (
        encode("ck", "omzet"),
        encode("ms", "nib"),
        encode("hp", "yes", int(NOW.timestamp())),
    ):
        chat.send(Incoming(chat.user, "button", data=data))
        assert "persetujuan" in chat.text


def test_english_messages(
    conversation: Conversation, core_database: Database, clock: list[datetime]
):
    chat = Chat(conversation, "3003", "en")
    chat.say("/start")
    chat.press("agree")
    chat.say("/batal")
    chat.say("/catat omzet 2.5 million")
    assert "Sales for June 2026 saved: <b>Rp2.500.000</b>" in chat.text
    chat.say("/catat omzet 2,5jt last month")
    assert "Sales for May 2026 saved: <b>Rp2.500.000</b>" in chat.text
    chat.say("/catat omzet -5")
    assert "cannot be negative" in chat.text and "Nothing was saved" in chat.text
