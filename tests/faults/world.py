"""A small world of Telegram users made through the real conversation core, with distinctive
secrets planted in one member's data: coach Rina (with cohort "Sentra Rahasia"), her member A
(name, district, products, figures, a question, a hand-off to Rina), member B of the same
cohort, coach Eve of another institution with her own cohort, and a stranger who never agreed."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from bot.core import Conversation, UserRef
from bot.storage import HandoffThread, QuestionLog, Repositories
from tests.coaching.conftest import join, make_coach, make_cohort
from tests.core.conftest import Chat
from tests.e2e.fake_bot_api import FakeUser

ADMIN = FakeUser(9000, "Admin")
RINA = FakeUser(9101, "Rina")
EVE = FakeUser(9102, "Eve")
A = FakeUser(9201, "Zanzibarwati")
B = FakeUser(9202, "Mallory")
STRANGER = FakeUser(9203, "Trudy")
BY_NAME = {"admin": ADMIN, "rina": RINA, "eve": EVE, "zanzibarwati": A, "mallory": B, "trudy": STRANGER}

# Planted in A's data; none of it may ever reach anyone but A and A's coach.
SECRETS = ("Zanzibarwati", "Quuxtown", "Zyxwvut", "7.654.321", "7654321", "Vexillologi")


class TelegramChat(Chat):
    """tests.core's Chat, as a Telegram user (the channel the bot serves)."""

    def __init__(self, conversation: Conversation, user: FakeUser) -> None:
        super().__init__(conversation, str(user.id))
        self.user = UserRef("telegram", str(user.id), user.first_name, user.language_code)


@dataclass
class World:
    """Ids of A's and Rina's objects (to forge buttons with) and every user's database id."""

    ids: dict[str, int] = field(default_factory=dict)

    def id_strings(self) -> list[str]:
        return [str(v) for v in self.ids.values()]


def build_world(conversation: Conversation) -> World:
    """Make the people and plant A's secrets through the real core (settings must list ADMIN)."""

    def talk(name: str) -> Chat:
        return TelegramChat(conversation, BY_NAME.get(name, ADMIN))

    talk.conversation = conversation  # type: ignore[attr-defined]
    rina = make_coach(talk, "rina")
    payload = make_cohort(rina, "Sentra Rahasia")
    a = join(talk, "zanzibarwati", payload)
    a.say("/catat omzet 7.654.321")
    a.say("Vexillologi rahasia cara ekspor batik ke Jepang")
    a.say("/tanya_pendamping Vexillologi rahasia: harga batik tulis saya berapa?")
    a.press("Kirim ke")
    join(talk, "mallory", payload)
    eve = make_coach(talk, "eve", institution="Koperasi Lain")
    make_cohort(eve, "KUB Eve")
    world = World()
    with conversation.database.transaction() as session:
        repos = Repositories(session)
        a_user = repos.users.get("telegram", str(A.id))
        a_user.district = "Kecamatan Quuxtown"
        a_user.products = "keripik Zyxwvut"
        thread = session.scalars(select(HandoffThread)).one()
        questions = session.scalars(select(QuestionLog.id).where(QuestionLog.user_id == a_user.id)).all()
        cohorts = {c.name: c.id for c in repos.cohorts.for_coach(None)}
        world.ids = {
            "a_user": a_user.id,
            "thread": thread.id,
            "rina_cohort": cohorts["Sentra Rahasia"],
            "eve_cohort": cohorts["KUB Eve"],
            **{f"question_{n}": q for n, q in enumerate(questions)},
            **{name: repos.users.get("telegram", str(u.id)).id for name, u in BY_NAME.items() if name != "trudy"},
        }
    return world
