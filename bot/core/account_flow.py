"""Consent, onboarding, profile, language, help and cancel.

Nothing about a person is stored before they consent: until then the user is a transient row,
and what must survive a step (the deep link they came with, the language they chose) travels
in the consent buttons' callback data instead of the database.
"""

from __future__ import annotations

from collections.abc import Callable

from rapidfuzz import fuzz, process

from bot.coaching.links import DeepLink, parse_payload
from bot.core import callbacks
from bot.core.messages import Button, Reply
from bot.core.turn import Turn
from bot.rendering import LOCALES
from bot.storage import SECTORS

__all__ = ["AccountFlow", "ONBOARDING_STATE", "PROFILE_EDIT_STATE", "PROFILE_FIELDS"]

PROFILE_FIELDS = ("name", "sector", "district", "products")
ONBOARDING_STATE = "onboarding"
PROFILE_EDIT_STATE = "profile_edit"
MAX_FIELD_CHARS = 120
# A deep link's payload rides in the consent button (64 bytes in all): longer ones are dropped.
MAX_PAYLOAD_CHARS = 40

DeepLinkHandler = Callable[[Turn, DeepLink], list[Reply]]

# Words people type for each sector at the sector step (typos are matched loosely).
SECTOR_WORDS: dict[str, tuple[str, ...]] = {
    "food": ("makanan", "minuman", "makan", "kuliner", "kue", "snack", "keripik", "kripik", "catering",
             "katering", "sambal", "kopi", "food", "drink", "panganan", "jajanan", "roti"),
    "craft": ("kerajinan", "batik", "fesyen", "fashion", "jahit", "konveksi", "anyaman", "tenun", "craft",
              "handmade", "rajut", "souvenir"),
    "agri": ("pertanian", "tani", "petani", "perikanan", "ikan", "ternak", "peternakan", "kebun", "sawah",
             "agri", "farming", "farm"),
    "trade": ("warung", "toko", "dagang", "jualan", "kelontong", "retail", "grosir", "shop", "trade"),
    "service": ("jasa", "servis", "service", "laundry", "salon", "bengkel", "cukur", "ojek", "rental"),
    "other": ("lainnya", "lain", "other", "lain-lain"),
}  # fmt: skip
_SECTOR_BY_WORD = {word: sector for sector, words in SECTOR_WORDS.items() for word in words}


def sector_from_text(text: str) -> str | None:
    """The sector a typed answer names ("makanan", "krajinan batik", "warung sembako"), or None."""
    for word in text.lower().replace(",", " ").replace("/", " ").split():
        match = process.extractOne(word, _SECTOR_BY_WORD.keys(), scorer=fuzz.ratio, score_cutoff=80)
        if match is not None:
            return _SECTOR_BY_WORD[match[0]]
    return None


class AccountFlow:
    """The person's relationship with the bot: consent, profile, language."""

    def __init__(self, deep_link: DeepLinkHandler, consent_user: Callable[[Turn, str], None]) -> None:
        # The coaching flows answer join and invite links; the conversation stores a consenting
        # user (it owns the turn's identity).
        self._deep_link = deep_link
        self._consent_user = consent_user

    # -- /start and consent -------------------------------------------------------------------

    def start(self, turn: Turn, args: str) -> list[Reply]:
        payload = args.strip()
        link = parse_payload(payload)
        if not turn.consented:
            return [self.privacy(turn, payload)]
        if link is not None:
            return self._deep_link(turn, link)
        return [turn.say("welcome_back", name=turn.user.name)]

    def privacy(self, turn: Turn, payload: str = "") -> Reply:
        """The privacy notice with consent buttons that carry the link and language along."""
        payload = payload[:MAX_PAYLOAD_CHARS] if payload.replace("_", "").replace("-", "").isalnum() else ""
        row = (
            Button(turn.label("consent_yes"), callbacks.encode("consent", "yes", payload, turn.locale)),
            Button(turn.label("consent_no"), callbacks.encode("consent", "no")),
        )
        languages = tuple(
            Button(turn.label("language", code), callbacks.encode("lang", code, payload))
            for code in LOCALES
            if code != turn.locale
        )
        return turn.say("privacy", name=None, buttons=(row, languages))

    def consent(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        if args[0] != "yes":
            return [turn.say("consent_declined")]
        payload = args[1] if len(args) > 1 else ""
        locale = args[2] if len(args) > 2 and args[2] in LOCALES else turn.locale
        if not turn.consented:
            turn.user.locale = locale
            self._consent_user(turn, payload)
        link = parse_payload(payload)
        if link is not None:
            return self._deep_link(turn, link)
        return self.ask_field(turn, ONBOARDING_STATE, "name", intro=True)

    def language_command(self, turn: Turn, args: str) -> list[Reply]:
        row = tuple(Button(turn.label("language", c), callbacks.encode("lang", c)) for c in LOCALES)
        return [turn.say("language_choose", buttons=(row,))]

    def language_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        locale = args[0]
        if locale not in LOCALES:
            return [turn.say("expired_button")]
        if not turn.consented:
            # Nothing may be stored yet: show the notice in the chosen language instead.
            turn.user.locale = locale
            return [self.privacy(turn, args[1] if len(args) > 1 else "")]
        turn.repos.users.set_locale(turn.user, locale)
        return [turn.say("language_set")]

    # -- help and cancel ----------------------------------------------------------------------

    def help(self, turn: Turn, args: str) -> list[Reply]:
        return [turn.say("help", is_coach=turn.actor.is_coach or turn.actor.is_admin, is_admin=turn.actor.is_admin)]

    def cancel(self, turn: Turn, args: str) -> list[Reply]:
        cancelled = turn.consented and turn.repos.states.clear(turn.user.id)
        return [turn.say("cancelled" if cancelled else "nothing_to_cancel")]

    # -- onboarding and profile ---------------------------------------------------------------

    def ask_field(self, turn: Turn, state: str, field: str, *, intro: bool = False) -> list[Reply]:
        turn.repos.states.set(turn.user.id, state, {"field": field}, at=turn.now)
        skip = (Button(turn.label("skip"), callbacks.encode("skip")),)
        if field == "sector":
            rows = tuple(
                (Button(turn.label("sector", a), callbacks.encode("sector", a)),
                 Button(turn.label("sector", b), callbacks.encode("sector", b)))
                for a, b in zip(SECTORS[::2], SECTORS[1::2], strict=True)
            )  # fmt: skip
            return [turn.say("onboarding_sector", buttons=(*rows, skip))]
        template = "onboarding_name" if intro else f"onboarding_{field}"
        if field == "name" and not intro:
            template = "onboarding_name_only"
        return [turn.say(template, buttons=(skip,))]

    def profile_text(self, turn: Turn, state: str, data: dict[str, object], text: str) -> list[Reply]:
        return self._profile_answer(turn, state, data, text)

    def skip(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        state = turn.repos.states.get(turn.user.id)
        if state is None or state.state not in (ONBOARDING_STATE, PROFILE_EDIT_STATE):
            return [turn.say("nothing_to_cancel")]
        return self._profile_answer(turn, state.state, dict(state.data), None)

    def sector_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        state = turn.repos.states.get(turn.user.id)
        if state is None or state.data.get("field") != "sector" or args[0] not in SECTORS:
            return [turn.say("expired_button")]
        return self._profile_answer(turn, state.state, dict(state.data), args[0])

    def _profile_answer(self, turn: Turn, state: str, data: dict[str, object], value: str | None) -> list[Reply]:
        field = str(data.get("field", "name"))
        if field not in PROFILE_FIELDS:
            field = "name"
        if value is not None:
            value = " ".join(value.split())[:MAX_FIELD_CHARS] or None
            if field == "sector" and value is not None and value not in SECTORS:
                value = sector_from_text(value)
                if value is None:  # not understood: ask again rather than drop the answer
                    return [turn.say("onboarding_sector_retry")] + self.ask_field(turn, state, "sector")
            if value is not None:
                turn.repos.users.update_profile(turn.user, **{field: value})
                coach = turn.repos.coaches.for_user(turn.user.id) if field == "name" else None
                if coach is not None:  # members see a coach by the name in their profile
                    coach.name = value
        if state == PROFILE_EDIT_STATE:
            turn.repos.states.clear(turn.user.id)
            return [turn.say("profile_saved"), self.profile_card(turn)]
        following = PROFILE_FIELDS.index(field) + 1
        if following < len(PROFILE_FIELDS):
            return self.ask_field(turn, state, PROFILE_FIELDS[following])
        turn.repos.states.clear(turn.user.id)
        return [turn.say("onboarding_done", name=turn.user.name)]

    def profile(self, turn: Turn, args: str) -> list[Reply]:
        return [self.profile_card(turn)]

    def profile_card(self, turn: Turn) -> Reply:
        rows = tuple((Button(turn.label("edit_field", f), callbacks.encode("edit", f)),) for f in PROFILE_FIELDS)
        sector = turn.label("sector", turn.user.sector) if turn.user.sector in SECTORS else None
        return turn.say("profile", user=turn.user, sector_name=sector, buttons=rows)

    def edit_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        if args[0] not in PROFILE_FIELDS:
            return [turn.say("expired_button")]
        return self.ask_field(turn, PROFILE_EDIT_STATE, args[0])
