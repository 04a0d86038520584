"""Progress logging in the conversation: /catat, /progres, /laporan, /ekspor, /hapus.

Every text the user sees comes from templates (bot/templates/<locale>/); this module only
decides what to store and which template to show. Figures are read with the parsers in
`bot.progress` and stored per month through `FigureRepository`, which keeps corrections
as history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

from bot.core import callbacks
from bot.core.messages import Attachment, Button, Reply
from bot.core.personal_data import delete_everything, export_csv, export_json
from bot.core.turn import Turn
from bot.progress.chart import ChartLabels, format_rupiah, render_sales_chart
from bot.progress.errors import AmountError, MonthError, ProgressInputError
from bot.progress.milestones import Milestone, milestones_for_sector, next_suggested
from bot.progress.months import parse_month
from bot.progress.numbers import parse_amount, parse_count
from bot.progress.umkm_class import UmkmClass, annual_sales_from_monthly, classify
from bot.rendering import render
from bot.storage import utcnow
from index import SearchIndex

__all__ = ["KIND_WORDS", "ProgressFlow", "WIB"]

# Western Indonesia Time (no daylight saving): "this month" is the user's month.
WIB = timezone(timedelta(hours=7), "WIB")
CATAT_STATE = "progress.catat"
STORAGE_KINDS = ("omzet", "modal", "workers", "units")
MONEY_KINDS = frozenset({"omzet", "modal"})
# What people type after /catat -> the stored kind.
KIND_WORDS: dict[str, str] = {
    "omzet": "omzet", "omset": "omzet", "penjualan": "omzet", "sales": "omzet",
    "modal": "modal", "capital": "modal",
    "pekerja": "workers", "karyawan": "workers", "workers": "workers", "worker": "workers",
    "produksi": "units", "unit": "units", "units": "units", "production": "units",
}  # fmt: skip
# A /hapus confirmation button older than this is refused (pressed by mistake much later).
DELETE_CONFIRM_SECONDS = 15 * 60


@dataclass(frozen=True)
class ClassStatus:
    """What the templates show about the UMKM class after a figure was stored."""

    cls: str
    previous: str | None
    changed: bool
    went_up: bool
    annual_sales: str | None
    estimated: bool
    months_used: int
    capital: str | None
    next_class: str | None
    sales_to_next: str | None
    capital_to_next: str | None


def _display(locale: str, kind: str, value: int) -> str:
    """A stored value as shown: rupiah for money, a grouped count otherwise."""
    if kind in MONEY_KINDS:
        return format_rupiah(value)
    grouped = f"{value:,}"
    return grouped.replace(",", ".") if locale == "id" else grouped


def _rupiah_or_none(value: int | None) -> str | None:
    return None if value is None else format_rupiah(value)


def _split_value_and_month(words: list[str], today: date) -> tuple[str, date]:
    """Split "2,5jt bulan lalu" into the number text and the month.

    The shortest number prefix whose rest reads as a month wins ("750rb 3 bulan lalu"),
    so a month never swallows part of a multi-word number ("1 juta 500 ribu").
    Raises MonthError for a readable but refused month (future, too old).
    """
    for cut in range(1, len(words)):
        try:
            month = parse_month(" ".join(words[cut:]), today)
        except MonthError as error:
            if error.code == "unknown":
                continue
            raise
        return " ".join(words[:cut]), month
    return " ".join(words), today.replace(day=1)


class ProgressFlow:
    """Commands, buttons and multi-step input for progress logging and personal data."""

    STATE_PREFIX = "progress."

    def __init__(self, index: SearchIndex, *, now: Callable[[], datetime] = utcnow) -> None:
        self.index = index
        # Injectable clock (tests fix it); timezone-aware.
        self.now = now

    def today(self) -> date:
        """Today's date in Indonesia (WIB)."""
        return self.now().astimezone(WIB).date()

    # -- routes (see bot.core.routes) ---------------------------------------------------------

    def catat(self, turn: Turn, args: str) -> list[Reply]:
        return self._catat_command(turn, args)

    def progres(self, turn: Turn, args: str) -> list[Reply]:
        return [self._checklist(turn)]

    def laporan(self, turn: Turn, args: str) -> list[Reply]:
        return self._report(turn)

    def ekspor(self, turn: Turn, args: str) -> list[Reply]:
        return self._export(turn)

    def hapus(self, turn: Turn, args: str) -> list[Reply]:
        if turn.actor.coach_id is not None and turn.repos.cohorts.for_coach(turn.actor.coach_id):
            # Erasing the coach would orphan their members' cohorts: hand them over first.
            return [turn.say("hapus_coach_has_cohorts")]
        return [self._delete_confirm(turn)]

    def kind_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        return self._catat_kind(turn, args[0])

    def milestone_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        return self._toggle(turn, args[0])

    def delete_button(self, turn: Turn, args: tuple[str, ...]) -> list[Reply]:
        return self._delete_answer(turn, args[0], int(args[1]))

    def text(self, turn: Turn, state: str, data: dict[str, object], text: str) -> list[Reply]:
        if state != CATAT_STATE:
            turn.repos.states.clear(turn.user.id)
            return [turn.say("cancelled")]
        kind = data.get("kind")
        if kind not in STORAGE_KINDS:
            typed = KIND_WORDS.get(text.strip().lower())
            if typed is None:
                return [self._choose_kind(turn, retry=True)]
            return self._catat_kind(turn, typed)
        return self._catat_value(turn, str(kind), text, guided=True)

    # -- /catat -------------------------------------------------------------------------------

    def _choose_kind(self, turn: Turn, *, retry: bool = False, unknown: str | None = None) -> Reply:
        turn.repos.states.set(turn.user.id, CATAT_STATE, {}, at=self.now())
        rows = tuple(
            (Button(turn.label("figure_kind", a), callbacks.encode("ck", a)),
             Button(turn.label("figure_kind", b), callbacks.encode("ck", b)))
            for a, b in zip(STORAGE_KINDS[::2], STORAGE_KINDS[1::2], strict=True)
        )  # fmt: skip
        return turn.say("catat_choose", retry=retry, unknown=unknown, buttons=rows)

    def _catat_command(self, turn: Turn, args: str) -> list[Reply]:
        words = args.split()
        if not words:
            return [self._choose_kind(turn)]
        kind = KIND_WORDS.get(words[0].lower())
        if kind is None:
            return [self._choose_kind(turn, unknown=words[0][:40])]
        if len(words) == 1:
            return self._catat_kind(turn, kind)
        return self._catat_value(turn, kind, " ".join(words[1:]), guided=False)

    def _catat_kind(self, turn: Turn, kind: str) -> list[Reply]:
        if kind not in STORAGE_KINDS:
            return [turn.say("expired_button")]
        turn.repos.states.set(turn.user.id, CATAT_STATE, {"kind": kind}, at=self.now())
        return [turn.say("catat_ask_amount", kind=kind)]

    def _catat_value(self, turn: Turn, kind: str, text: str, *, guided: bool) -> list[Reply]:
        today = self.today()
        try:
            number_text, month = _split_value_and_month(text.split(), today)
            parse = parse_amount if kind in MONEY_KINDS else parse_count
            value = parse(number_text)
        except ProgressInputError as error:
            # Keep (or start) the guided state so the next message is a retry.
            turn.repos.states.set(turn.user.id, CATAT_STATE, {"kind": kind}, at=self.now())
            problem = "month" if isinstance(error, MonthError) else "amount"
            assert isinstance(error, AmountError | MonthError)
            return [turn.say("catat_invalid", kind=kind, problem=problem, code=error.code)]
        return self._store(turn, kind, month, value)

    def _store(self, turn: Turn, kind: str, month: date, value: int) -> list[Reply]:
        user_id, now = turn.user.id, self.now()
        before = turn.repos.figures.current(user_id, kind).get(month)
        turn.repos.figures.record(user_id, kind, month, value, at=now)
        turn.repos.states.clear(user_id)
        status = self._update_class(turn, now) if kind in MONEY_KINDS else None
        unchanged = before == value
        previous = None if before is None or unchanged else _display(turn.locale, kind, before)
        return [
            turn.say(
                "catat_saved",
                kind=kind,
                month=month,
                value=_display(turn.locale, kind, value),
                previous=previous,
                unchanged=unchanged,
                status=status,
            )
        ]

    def _update_class(self, turn: Turn, now: datetime) -> ClassStatus | None:
        """Classify from the last 12 months of omzet and the latest modal; store a change."""
        user_id = turn.user.id
        this_month = self.today().replace(day=1)
        sales = turn.repos.figures.current(user_id, "omzet")
        capitals = turn.repos.figures.current(user_id, "modal")
        annual = None
        try:
            annual = annual_sales_from_monthly(sales, this_month) if sales else None
        except ValueError:  # no month within the last 12
            annual = None
        capital = capitals[max(capitals)] if capitals else None
        if annual is None and capital is None:
            return None
        result = classify(None if annual is None else annual.total, capital)
        latest = turn.repos.classes.latest(user_id)
        previous = None if latest is None else latest.umkm_class
        added = turn.repos.classes.add_if_changed(user_id, result.cls.value, this_month, at=now)
        went_up = (
            added is not None
            and previous in {c.value for c in UmkmClass}
            and UmkmClass(previous).order < result.cls.order
        )
        return ClassStatus(
            cls=result.cls.value,
            previous=previous,
            changed=added is not None and previous is not None,
            went_up=bool(went_up),
            annual_sales=None if annual is None else format_rupiah(annual.total),
            estimated=bool(annual and annual.estimated),
            months_used=0 if annual is None else annual.months_used,
            capital=_rupiah_or_none(capital),
            next_class=None if result.next_class is None else result.next_class.value,
            sales_to_next=_rupiah_or_none(result.sales_to_next),
            capital_to_next=_rupiah_or_none(result.capital_to_next),
        )

    # -- /progres -----------------------------------------------------------------------------

    def _milestones(self, turn: Turn) -> list[Milestone]:
        return milestones_for_sector(turn.user.sector)

    def _title(self, turn: Turn, milestone: Milestone) -> str:
        return milestone.title_en if turn.locale == "en" else milestone.title_id

    def _checklist(self, turn: Turn, *, edit: bool = False) -> Reply:
        milestones = self._milestones(turn)
        done = turn.repos.milestones.done_ids(turn.user.id)
        rows: list[tuple[Button, ...]] = []
        for milestone in milestones:
            is_done = milestone.id in done
            title = self._title(turn, milestone)
            row = [
                Button(
                    turn.label("milestone", is_done, title), callbacks.encode("ms", milestone.id)
                )
            ]
            knowledge_id = milestone.knowledge_for(turn.user.sector)
            if not is_done and knowledge_id in self.index.by_id:
                row.append(Button(turn.label("milestone_how"), callbacks.encode("e", knowledge_id)))
            rows.append(tuple(row))
        suggestion = next_suggested(milestones, done)
        text = render(
            turn.locale,
            "progres",
            done_count=sum(1 for m in milestones if m.id in done),
            total=len(milestones),
            next_title=None if suggestion is None else self._title(turn, suggestion),
            has_sector=turn.user.sector is not None,
        )
        return Reply(text, tuple(rows), edit=edit)

    def _toggle(self, turn: Turn, milestone_id: str) -> list[Reply]:
        known = {m.id for m in self._milestones(turn)}
        if milestone_id not in known:
            return [turn.say("expired_button")]
        done = milestone_id in turn.repos.milestones.done_ids(turn.user.id)
        turn.repos.milestones.set_done(turn.user.id, milestone_id, not done, at=self.now())
        return [self._checklist(turn, edit=True)]

    # -- /laporan -----------------------------------------------------------------------------

    def _report(self, turn: Turn) -> list[Reply]:
        user_id, locale = turn.user.id, turn.locale
        sales = turn.repos.figures.current(user_id, "omzet")
        latest_other = {}
        for kind in STORAGE_KINDS:
            values = turn.repos.figures.current(user_id, kind)
            if values:
                last = max(values)
                latest_other[kind] = (last, _display(locale, kind, values[last]))
        trainings = [
            (event.starts_at.astimezone(WIB).date(), event.title)
            for rsvp, event in reversed(turn.repos.events.for_user(user_id))
            if rsvp.attended
        ]
        if not latest_other and not trainings:
            return [turn.say("laporan_empty")]
        replies: list[Reply] = []
        if sales:
            labels = ChartLabels(
                title=turn.label("chart_title"),
                y_label=turn.label("chart_y_label"),
                month_abbr=tuple(turn.label("month_abbr").split()),
            )
            png = render_sales_chart(sorted(sales.items()), labels)
            caption = turn.say("laporan_caption", months=len(sales)).text
            replies.append(Reply(caption, attachment=Attachment("laporan.png", png, "photo")))
        titles = {m.id: self._title(turn, m) for m in milestones_for_sector(None)}
        titles.update({m.id: self._title(turn, m) for m in self._milestones(turn)})
        done_at: dict[str, datetime] = {}
        for event in turn.repos.milestones.events(user_id):
            if event.done:
                done_at[event.milestone_id] = event.at
            else:
                done_at.pop(event.milestone_id, None)
        done = [
            (at.astimezone(WIB).date(), titles.get(mid, mid))
            for mid, at in sorted(done_at.items(), key=lambda item: item[1])
        ]
        classes = [(row.as_of, row.umkm_class) for row in turn.repos.classes.history(user_id)]
        replies.append(
            turn.say(
                "laporan",
                latest=latest_other,
                done=done,
                classes=classes,
                has_sales=bool(sales),
                trainings=trainings,
            )
        )
        return replies

    # -- /ekspor and /hapus -------------------------------------------------------------------

    def _export(self, turn: Turn) -> list[Reply]:
        now = self.now()
        csv_bytes, counts = export_csv(turn.repos, turn.user)
        json_bytes = export_json(turn.repos, turn.user, now)
        stamp = now.astimezone(WIB).strftime("%Y%m%d")
        return [
            Reply(
                turn.say("ekspor_csv", counts=counts).text,
                attachment=Attachment(f"data-umkm-{stamp}.csv", csv_bytes, "document"),
            ),
            Reply(
                turn.say("ekspor_json").text,
                attachment=Attachment(f"data-umkm-{stamp}.json", json_bytes, "document"),
            ),
        ]

    def _delete_confirm(self, turn: Turn) -> Reply:
        stamp = int(self.now().timestamp())
        row = (
            Button(turn.label("delete_yes"), callbacks.encode("hp", "yes", stamp)),
            Button(turn.label("delete_no"), callbacks.encode("hp", "no", stamp)),
        )
        return turn.say("hapus_confirm", buttons=(row,))

    def _delete_answer(self, turn: Turn, answer: str, stamp: int) -> list[Reply]:
        if answer != "yes":
            return [turn.say("hapus_kept")]
        age = self.now() - datetime.fromtimestamp(stamp, UTC)
        if not timedelta(0) <= age <= timedelta(seconds=DELETE_CONFIRM_SECONDS):
            return [turn.say("hapus_expired")]
        locale = turn.locale  # read before the row is gone
        counts = delete_everything(turn.repos, turn.user)
        return [Reply(render(locale, "hapus_done", counts=counts))]
