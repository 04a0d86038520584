"""Progress logging through the real Application and the fake Bot API: /catat, /progres,
/laporan, /ekspor and /hapus as a user on Telegram does them."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from bot.storage import Figure, User
from tests.e2e.conftest import next_text as _next_text
from tests.e2e.fake_bot_api import FakeBotApi, FakeUser


def _button(params: dict, fragment: str) -> str:  # type: ignore[type-arg]
    for row in params["reply_markup"]["inline_keyboard"]:
        for button in row:
            if fragment in button["text"]:
                return button["callback_data"]
    raise AssertionError(f"no button with {fragment!r} in {params['reply_markup']}")


async def _consent(api: FakeBotApi, user: FakeUser) -> None:
    api.queue_text(user, "/start")
    notice = await _next_text(api, user, "UU PDP")
    api.queue_callback(user, _button(notice, "Setuju"))
    await _next_text(api, user, "Siapa nama Anda")
    api.queue_text(user, "/batal")
    await _next_text(api, user, "Dibatalkan")


def _figures(conversation, user: FakeUser) -> list[tuple[str, int, bool]]:  # type: ignore[no-untyped-def]
    with conversation.database.transaction() as session:
        rows = session.execute(
            select(Figure.kind, Figure.value, Figure.superseded_at.is_(None))
            .join(User, User.id == Figure.user_id)
            .where(User.external_id == str(user.id))
            .order_by(Figure.id)
        ).all()
    return [tuple(r) for r in rows]


async def test_catat_records_corrects_and_refuses_bad_numbers(  # type: ignore[no-untyped-def]
    running_bot, conversation, fake_api: FakeBotApi, fake_user: FakeUser
) -> None:
    await _consent(fake_api, fake_user)
    fake_api.queue_text(fake_user, "/catat omzet 2,5jt")
    saved = await _next_text(fake_api, fake_user, "tercatat")
    assert "Rp2.500.000" in saved["text"] and "Mikro" in saved["text"]
    fake_api.queue_text(fake_user, "/catat omzet 3 juta")
    await _next_text(fake_api, fake_user, "menggantikan Rp2.500.000")
    fake_api.queue_text(fake_user, "/catat omzet dua ribu triliun")
    await _next_text(fake_api, fake_user, "Tidak ada yang disimpan")
    assert _figures(conversation, fake_user) == [("omzet", 2_500_000, False), ("omzet", 3_000_000, True)]


async def test_guided_catat_progres_and_laporan(running_bot, fake_api: FakeBotApi, fake_user: FakeUser) -> None:  # type: ignore[no-untyped-def]
    await _consent(fake_api, fake_user)
    fake_api.queue_text(fake_user, "/catat")
    choose = (await fake_api.wait_for("sendMessage", lambda c: "reply_markup" in c.params and "Omzet" in str(c.params["reply_markup"])))[-1].params
    fake_api.queue_callback(fake_user, _button(choose, "Omzet"))
    await fake_api.wait_for("sendMessage", count=1, predicate=lambda c: "Rp" in c.params.get("text", "") or "omzet" in c.params.get("text", "").lower())
    fake_api.queue_text(fake_user, "750rb")
    await _next_text(fake_api, fake_user, "Rp750.000")

    fake_api.queue_text(fake_user, "/progres")
    checklist = await _next_text(fake_api, fake_user, "Langkah kemajuan usaha")
    assert "0 dari" in checklist["text"]
    fake_api.queue_callback(fake_user, _button(checklist, "⬜"))
    await fake_api.wait_for(
        "editMessageText", lambda c: "1 dari" in c.params.get("text", ""), timeout=30
    )

    fake_api.queue_text(fake_user, "/laporan")
    [photo] = await fake_api.wait_for("sendPhoto", timeout=30)
    assert photo.files["photo"].is_png


async def test_ekspor_then_hapus_leaves_no_row(  # type: ignore[no-untyped-def]
    running_bot, conversation, fake_api: FakeBotApi, fake_user: FakeUser
) -> None:
    await _consent(fake_api, fake_user)
    fake_api.queue_text(fake_user, "/catat modal 40jt")
    await _next_text(fake_api, fake_user, "tercatat")
    fake_api.queue_text(fake_user, "/ekspor")
    documents = await fake_api.wait_for("sendDocument", count=2, timeout=30)
    files = {c.files["document"].filename: c.files["document"] for c in documents}
    exported = json.loads(next(f for name, f in files.items() if name.endswith(".json")).text())
    assert "40000000" in json.dumps(exported)
    assert "40000000" in next(f for name, f in files.items() if name.endswith(".csv")).text()

    fake_api.queue_text(fake_user, "/hapus")
    confirm = await _next_text(fake_api, fake_user, "Hapus semua data Anda")
    fake_api.queue_callback(fake_user, _button(confirm, "Ya, hapus"))
    await _next_text(fake_api, fake_user, "sudah dihapus")
    with conversation.database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(User).where(User.external_id == str(fake_user.id))) == 0
        assert session.scalar(select(func.count()).select_from(Figure)) == 0
