"""/ekspor, /hapus and the coach's views touch only rows the caller may see, on SQLite and
PostgreSQL: two members of one cohort and a member of another coach's cohort, each with
distinctive data; one's export holds nothing of the others, one's erasure leaves the others'
rows as they were, and a coach's cohort view and export hold only their own members."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.core import callbacks
from bot.storage import Base, Database, Repositories, User
from tests.coaching.conftest import clock, coaching_settings, join, make_coach, make_cohort, press_data, talk  # noqa: F401
from tests.core.conftest import Chat

SECRETS = {
    "siti": ("Sitiqwerty", "7.111.111", "Kupukupu rahasia tanya"),
    "joko": ("Jokoasdfgh", "8.222.222", "Belalang rahasia tanya"),
    "wati": ("Watizxcvbn", "9.333.333", "Capung rahasia tanya"),
}


def _member(talk: Callable[[str], Chat], name: str, payload: str) -> Chat:  # noqa: F811
    person = join(talk, name, payload)
    display, figure, question = SECRETS[name]
    person.say("/profil")
    person.press("Nama")
    person.say(display)
    person.say(f"/catat omzet {figure}")
    person.say(question)
    person.say("/progres")
    person.press("⬜")  # one milestone done
    return person


@pytest.fixture
def people(talk):  # type: ignore[no-untyped-def]  # noqa: F811
    """Rina's cohort with Siti and Joko; Budi's cohort (another institution) with Wati."""
    rina = make_coach(talk, "rina")
    payload = make_cohort(rina, "Sentra Batik")
    budi = make_coach(talk, "budi", institution="Koperasi Maju")
    other = make_cohort(budi, "KUB Tenun")
    return {
        "rina": rina, "budi": budi, "siti": _member(talk, "siti", payload), "joko": _member(talk, "joko", payload),
        "wati": _member(talk, "wati", other),
    }  # fmt: skip


def _files(replies) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    return {r.attachment.filename: r.attachment.content for r in replies if r.attachment is not None}


def _rows_of(database: Database, user_id: int) -> dict[str, int]:
    """Rows per table that belong to or are about this user."""
    counts = {}
    with database.transaction() as session:
        for name, table in Base.metadata.tables.items():
            columns = [c for c in ("user_id", "about_user_id", "member_id") if c in table.c]
            if name == "users":
                counts[name] = session.scalar(select(func.count()).select_from(table).where(table.c.id == user_id))
            for column in columns:
                counts[f"{name}.{column}"] = session.scalar(
                    select(func.count()).select_from(table).where(table.c[column] == user_id)
                )
    return counts


def _user_id(database: Database, name: str) -> int:
    with database.transaction() as session:
        return Repositories(session).users.get("terminal", name).id


def test_an_export_holds_the_callers_data_and_nothing_of_anyone_else(people) -> None:  # type: ignore[no-untyped-def]
    siti = people["siti"]
    files = _files(siti.say("/ekspor"))
    assert {name.rsplit(".", 1)[-1] for name in files} == {"csv", "json"}
    everything = "\n".join(content.decode("utf-8-sig") for content in files.values())
    assert "Sitiqwerty" in everything and "7111111" in everything and "Kupukupu" in everything
    for other in ("joko", "wati"):
        display, figure, question = SECRETS[other]
        for secret in (display, figure.replace(".", ""), question.split()[0], other):
            assert secret not in everything, (other, secret)


def test_erasing_one_member_leaves_everyone_elses_rows_as_they_were(people) -> None:  # type: ignore[no-untyped-def]
    siti, database = people["siti"], people["siti"].conversation.database
    others = {name: _user_id(database, name) for name in ("joko", "wati", "rina", "budi")}
    before = {name: _rows_of(database, uid) for name, uid in others.items()}
    siti_id = _user_id(database, "siti")
    assert sum(_rows_of(database, siti_id).values()) > 4
    siti.say("/hapus")
    siti.press("Ya, hapus semua")
    assert not any(_rows_of(database, siti_id).values())  # all of Siti's gone ...
    assert {name: _rows_of(database, uid) for name, uid in others.items()} == before  # ... nobody else's
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(User)) == len(others) + 1  # + the admin


def test_a_forged_erasure_button_erases_only_the_presser(people) -> None:  # type: ignore[no-untyped-def]
    """The confirm button names no user: whoever presses it erases themselves, never another."""
    joko, database = people["joko"], people["joko"].conversation.database
    siti_before = _rows_of(database, _user_id(database, "siti"))
    joko.say("/hapus")
    stamp = joko.last[0].buttons[0][0].data.split("|")[-1]
    press_data(joko, callbacks.encode("hp", "yes", stamp, _user_id(database, "siti")))
    assert _rows_of(database, _user_id(database, "siti")) == siti_before


def test_a_coachs_cohort_view_and_export_hold_only_their_own_members(people) -> None:  # type: ignore[no-untyped-def]
    rina, database = people["rina"], people["rina"].conversation.database
    with database.transaction() as session:
        cohorts = {c.name: c.id for c in Repositories(session).cohorts.for_coach(None)}
    replies = press_data(rina, callbacks.encode("kv", cohorts["Sentra Batik"], "active", "1"))
    view = "\n".join([*(r.text for r in replies), *(b.label for r in replies for row in r.buttons for b in row)])
    assert "Sitiqwerty" in view and "Jokoasdfgh" in view and "Watizxcvbn" not in view
    for kind in ("csv", "xlsx"):
        [content] = _files(press_data(rina, callbacks.encode("ke", cohorts["Sentra Batik"], kind))).values()
        if kind == "csv":
            text = "\n".join(",".join(row) for row in csv.reader(io.StringIO(content.decode("utf-8-sig"))))
        else:
            sheet = load_workbook(io.BytesIO(content)).active
            text = "\n".join(",".join(str(v) for v in row if v is not None) for row in sheet.iter_rows(values_only=True))
        assert "Sitiqwerty" in text and "Watizxcvbn" not in text and "9333333" not in text
    inbox = "\n".join(r.text for r in rina.say("/pertanyaan"))
    assert "Capung" not in inbox and "Watizxcvbn" not in inbox
