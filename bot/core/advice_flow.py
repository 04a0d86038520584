"""Questions and answers: search, the answer card, "which one?", "I don't know", topics, feedback."""

from __future__ import annotations

from math import ceil

from bot.config import Settings
from bot.core import callbacks
from bot.core.messages import Button, Reply
from bot.core.turn import Turn
from bot.rendering import render
from index import TOPICS, Entry, SearchIndex, SearchResult

__all__ = ["AdviceFlow"]

# First words that make a message a question even when search is unsure ("gmn", "piye", "how").
QUESTION_WORDS = frozenset(
    {
        "gmn",
        "gimana",
        "gmana",
        "bgmn",
        "bagaimana",
        "apa",
        "apakah",
        "apa2",
        "berapa",
        "brp",
        "brapa",
        "kapan",
        "kpn",
        "dimana",
        "dmn",
        "mana",
        "kenapa",
        "knp",
        "mengapa",
        "siapa",
        "bisakah",
        "boleh",
        "bole",
        "piye",
        "pripun",
        "opo",
        "endi",
        "kepiye",
        "cara",
        "carane",
        "caranya",
        "syarat",
        "syaratnya",
        "tanya",
        "tolong",
        "mohon",
        "how",
        "what",
        "why",
        "when",
        "where",
        "which",
        "can",
        "could",
        "should",
        "is",
        "are",
        "do",
        "does",
    }
)


class AdviceFlow:
    """Answers from the knowledge base."""

    def __init__(self, settings: Settings, index: SearchIndex) -> None:
        self.settings = settings
        self.index = index

    @property
    def _k(self) -> int:
        return max(3, self.settings.search.k)

    def prefetch(self, text: str) -> None:
        """Search `text` now, outside any transaction, when the index caches results (a later
        `question` for the same text is then a cache hit); nothing happens without a cache."""
        if text.strip() and self.index.settings.cache_size > 0:
            self.index.search(text, k=self._k)

    def question(self, turn: Turn, text: str) -> list[Reply]:
        result = self.index.search(text, k=self._k)
        if result.reason == "empty":
            return [turn.say("empty_question")]
        if result.reason == "small_talk":
            return [turn.say("small_talk", name=turn.user.name)]
        question_id = self._record(turn, result)
        if result.decision == "clarify":  # the options are already best first
            rows = tuple(
                (Button(_title(turn, h.entry), callbacks.encode("e", h.entry.id, "c", question_id or 0)),)
                for h in result.options
            )
            return [turn.say("did_you_mean", buttons=rows)]
        if result.decision != "answer":
            rows = ((Button(turn.label("topics"), callbacks.encode("topics")),),
                    (Button(turn.label("ask_coach"), callbacks.encode("coach", question_id or 0)),))  # fmt: skip
            return [turn.say("no_answer", suggestions=[], buttons=rows)]
        return [self.answer_card(turn, result.hits[0].entry, question_id)]

    def is_question(self, text: str) -> bool:
        """Whether a message typed where a name or a number was expected is really a question
        ("gmn cara daftar nib" at the name step): then the dialogue steps aside."""
        words = text.lower().split()
        if not words:
            return False
        if "?" in text or words[0].strip("?,.!") in QUESTION_WORDS:
            return True
        return len(words) >= 3 and self.index.search(text, k=3).decision != "none"

    def _record(self, turn: Turn, result: SearchResult) -> int | None:
        if not turn.consented:
            return None  # nothing personal is stored before consent
        row = turn.repos.questions.add(
            turn.user.id,
            result.query,
            result.normalized,
            [h.entry.id for h in result.hits],
            [round(h.score, 4) for h in result.hits],
            result.answered,
        )
        return row.id

    def answer_card(self, turn: Turn, entry: Entry, question_id: int | None) -> Reply:
        """The short card (answer, where to get help, sources) with its steps one tap away:
        two phone screens at most."""
        rows: list[tuple[Button, ...]] = []
        if question_id:
            rows.append(
                (Button(turn.label("helpful"), callbacks.encode("fb", "up", question_id)),
                 Button(turn.label("not_helpful"), callbacks.encode("fb", "down", question_id)))
            )  # fmt: skip
        if entry.steps:
            rows.append((Button(turn.label("steps", len(entry.steps)), callbacks.encode("st", entry.id)),))
        for related_id in entry.related[:3]:
            related = self.index.by_id.get(related_id)
            if related is not None:
                data = callbacks.encode("e", related.id, "r", question_id or 0)
                rows.append((Button(turn.label("see_also", _title(turn, related)), data),))
        # The question log knows which entry answered; a card reached by a button names it.
        ask = callbacks.encode("coach", question_id) if question_id else callbacks.encode("coach", 0, entry.id)
        rows.append((Button(turn.label("ask_coach"), ask),))
        return turn.say("answer", entry=entry, buttons=tuple(rows))

    # -- buttons ------------------------------------------------------------------------------

    def entry_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        """`e|entry[|how|question]`: a card opened from a "which one?" option (c), a related
        entry (r), /topik (b) or a link in a checklist or nudge (l); logged with its own
        question row so that it, too, can be rated."""
        entry = self.index.by_id.get(args[0])
        if entry is None:
            return [turn.say("expired_button")]
        how = {"c": "clarify", "r": "related", "b": "browse"}.get(args[1] if len(args) > 1 else "", "link")
        parent_id = int(args[2]) if len(args) > 2 and args[2].isascii() and args[2].isdigit() else 0
        parent = turn.repos.questions.by_id(parent_id) if parent_id else None
        if parent is not None and parent.user_id != turn.user.id:
            parent = None  # another user's question id: ignored
        question_id = None
        if turn.consented:
            text = parent.text if parent is not None else ""
            row = turn.repos.questions.add(
                turn.user.id, text, parent.normalized if parent else "", [entry.id], [1.0], True, source=how
            )
            question_id = row.id
        return [self.answer_card(turn, entry, question_id)]

    def steps_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        entry = self.index.by_id.get(args[0])
        if entry is None:
            return [turn.say("expired_button")]
        return [turn.say("answer_steps", entry=entry)]

    def feedback(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        if args[0] not in ("up", "down"):
            return [turn.say("expired_button")]
        if not turn.repos.questions.set_feedback(int(args[1]), turn.user.id, args[0], at=turn.now):
            return [turn.say("expired_button")]
        return [turn.say("feedback_thanks" if args[0] == "up" else "feedback_sorry")]

    def topics_command(self, turn: Turn, args: str) -> list[Reply]:
        return [self.topics(turn)]

    def topics_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        return [self.topics(turn)]

    def topics(self, turn: Turn) -> Reply:
        rows = tuple(
            (Button(turn.label("topic", a), callbacks.encode("t", a, 1)),
             Button(turn.label("topic", b), callbacks.encode("t", b, 1)))
            for a, b in zip(TOPICS[::2], TOPICS[1::2], strict=True)
        )  # fmt: skip
        return turn.say("topics", buttons=rows)

    def topic_page(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        topic, page = args[0], int(args[1])
        if topic not in TOPICS:
            return [turn.say("expired_button")]
        entries = sorted((e for e in self.index.entries if e.topic == topic), key=lambda e: _title(turn, e))
        size = self.settings.bot.topic_page_size
        pages = max(1, ceil(len(entries) / size))
        page = min(max(page, 1), pages)
        rows: list[tuple[Button, ...]] = [
            (Button(_title(turn, e), callbacks.encode("e", e.id, "b")),)
            for e in entries[(page - 1) * size : page * size]
        ]
        paging = []
        if page > 1:
            paging.append(Button(turn.label("previous"), callbacks.encode("t", topic, page - 1)))
        if page < pages:
            paging.append(Button(turn.label("next"), callbacks.encode("t", topic, page + 1)))
        if paging:
            rows.append(tuple(paging))
        rows.append((Button(turn.label("back_to_topics"), callbacks.encode("topics")),))
        text = render(turn.locale, "topic_entries", topic_name=turn.label("topic", topic), page=page, pages=pages)
        return [Reply(text, tuple(rows), edit=True)]


def _title(turn: Turn, entry: Entry) -> str:
    """An entry's title in the user's language (the cards themselves are Indonesian)."""
    return entry.title_en if turn.locale == "en" and entry.title_en else entry.title
