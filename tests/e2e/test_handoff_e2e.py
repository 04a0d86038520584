"""The hand-off round trip through the real Application, the real outbox worker and the fake Bot
API server: an entrepreneur asks, the coach gets it with "Balas", replies (by the button and by
a native Telegram reply), and the entrepreneur receives it."""

from __future__ import annotations

from sqlalchemy import select

from bot.config import Settings
from bot.core import Conversation
from bot.storage import HandoffThread, OutboxMessage, Repositories
from tests.e2e.conftest import polling_bot
from tests.e2e.fake_bot_api import FakeBotApi, FakeUser

COACH = FakeUser(id=5001, first_name="Rina", language_code="id")
MEMBER = FakeUser(id=424242, first_name="Siti", language_code="id")


def _setup(conversation: Conversation) -> str:
    """A consented coach (as an admin would add them) with a cohort; returns its join code."""
    with conversation.database.transaction() as session:
        repos = Repositories(session)
        institution = repos.coaches.add_institution("Dinas Koperasi Gresik")
        coach_user, _ = repos.users.get_or_create("telegram", str(COACH.id))
        repos.users.give_consent(coach_user)
        coach = repos.coaches.add_coach(coach_user.id, institution.id, "Bu Rina")
        return repos.cohorts.create(coach.id, "Sentra Batik", "sentra", "Asia/Jakarta", "joinCode01").join_code


def _buttons(params: dict) -> dict[str, str]:  # type: ignore[type-arg]
    markup = params.get("reply_markup") or {}
    return {b["text"]: b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row}


async def _to(api: FakeBotApi, chat_id: int, fragment: str) -> dict:  # type: ignore[type-arg]
    calls = await api.wait_for(
        "sendMessage",
        lambda c: c.params.get("chat_id") == chat_id and fragment in str(c.params.get("text", "")),
        timeout=30,
    )
    return calls[-1].params


async def test_entrepreneur_asks_coach_replies_entrepreneur_receives(
    settings: Settings, conversation: Conversation, fake_api: FakeBotApi
) -> None:
    code = _setup(conversation)
    async with polling_bot(settings, conversation, fake_api, delivery=True):
        fake_api.queue_text(MEMBER, f"/start k_{code}")
        notice = await _to(fake_api, MEMBER.id, "UU PDP")
        fake_api.queue_callback(MEMBER, _buttons(notice)["✅ Setuju"])
        prompt = await _to(fake_api, MEMBER.id, "Gabung ke kelompok")
        fake_api.queue_callback(MEMBER, _buttons(prompt)["✅ Gabung"])
        await _to(fake_api, MEMBER.id, "Selamat bergabung")
        fake_api.queue_text(MEMBER, "/tanya_pendamping Bagaimana cara menentukan harga batik cap?")
        confirm = await _to(fake_api, MEMBER.id, "Kirim pertanyaan ini")
        fake_api.queue_callback(MEMBER, _buttons(confirm)["📨 Kirim ke Bu Rina"])
        await _to(fake_api, MEMBER.id, "Terkirim ke Bu Rina")

        # The worker carries the question to the coach, with a reply button.
        question = await _to(fake_api, COACH.id, "harga batik cap")
        assert "Pertanyaan dari" in question["text"] and "✍️ Balas" in _buttons(question)
        fake_api.queue_callback(COACH, _buttons(question)["✍️ Balas"])
        await _to(fake_api, COACH.id, "Tulis balasan")
        fake_api.queue_text(COACH, "Hitung HPP per lembar dulu, lalu tambah margin 30%.")
        await _to(fake_api, COACH.id, "dikirim")

        answer = await _to(fake_api, MEMBER.id, "Jawaban dari pendamping Bu Rina")
        assert "margin 30%" in answer["text"] and "❓ Tanya lanjutan" in _buttons(answer)

        # A native Telegram reply to the forwarded question answers the thread too.
        forwarded = next(
            c.result for c in fake_api.calls_to("sendMessage")
            if c.params.get("chat_id") == COACH.id and "harga batik cap" in str(c.params.get("text"))
        )  # fmt: skip
        fake_api.queue_text(COACH, "Satu lagi: cek harga pesaing di pasar.", reply_to=forwarded)
        await _to(fake_api, MEMBER.id, "cek harga pesaing")

    with conversation.database.transaction() as session:
        thread = session.scalars(select(HandoffThread)).one()
        assert thread.status == "answered"
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind.like("handoff%")).order_by(OutboxMessage.id)
        ).all()
        assert [(r.kind, r.state) for r in rows] == [
            ("handoff_question", "sent"), ("handoff_reply", "sent"), ("handoff_reply", "sent")
        ]
        assert all(r.sent_message_id for r in rows)
    texts = [c.params["text"] for c in fake_api.calls_to("sendMessage") if c.params.get("chat_id") == MEMBER.id]
    assert sum("margin 30%" in t for t in texts) == 1  # delivered exactly once
