"""Every step of the engagement templates renders in Indonesian and English (undefined variables
are errors), and the button labels exist in both."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from bot.rendering import LOCALES, label, render

AT = datetime(2026, 12, 5, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
TZ = "Asia/Jakarta"
AUDIENCES = [{"kind": k, "milestone": "Punya NIB", "person": "Siti"} for k in ("cohort", "missing_milestone", "no_figures", "person")]  # fmt: skip
RECURRENCES = [
    {"kind": "once", "days": [], "day": None}, {"kind": "daily", "days": [], "day": None},
    {"kind": "weekly", "days": [0, 3], "day": None}, {"kind": "monthly", "days": [], "day": 31},
    {"kind": "last", "days": [], "day": None}, {"kind": "other", "days": [], "day": None},
]  # fmt: skip
FIGURES = {"sent": 1, "pending": 2, "sending": 0, "blocked": 1, "failed": 0, "uncertain": 1}
EVENT = SimpleNamespace(title="Kelas HPP", status="open", place="Balai Desa", online_link="https://x.id", quota=5)
VIEW = SimpleNamespace(
    event=EVENT, counts={"yes": 1, "waiting": 1, "no": 1, "maybe": 1, "none": 1, "attended": 1},
    coming=[(1, "Siti")], waiting=[(2, "Ani")], maybe=[(3, "Dewi")], declined=[], unanswered=[(4, "Eko")],
    attended={1}, ratings=[4, 5], comments=["Bagus"], average_rating=4.5,
    delivery={"sent": 2, "pending": 1, "sending": 0, "blocked": 1, "failed": 0, "uncertain": 0},
)  # fmt: skip

CASES: list[tuple[str, dict]] = [  # type: ignore[type-arg]
    *[("wizard", {"step": s, "purpose": p, "cohorts": ["A"], "variables": ("nama",)})
      for s in ("no_cohort", "cohort", "audience", "milestone", "person", "text", "use_buttons")
      for p in ("reminder", "event", "broadcast")],
    *[("wizard_text_problem", {"code": c, "name": "nma", "suggestion": "nama", "limit": 2000, "variables": ("nama",)})
      for c in ("empty", "too_long", "unknown", "syntax", "unsafe", "other")],
    *[("wizard_preview", {"purpose": p, "member": "Siti", "message": "<b>x</b>", "count": n, "blocked": 1,
                          "empty_ok": ok, "text_step": True})
      for p in ("reminder", "event", "broadcast") for n in (0, 2) for ok in (True, False)],
    *[("input_problem", {"code": c}) for c in ("date", "past", "far", "time", "end", "end_before_start",
                                                "month_day", "quota", "after_start", "?")],
    ("reminders", {"items": [{"n": 1, "cohort": "A", "audience": a, "text": "Halo", "next": AT, "timezone": TZ,
                              "recurrence": r, "status": st, "figures": FIGURES, "sent_once": sent, "missed": 2}
                             for a, r, st, sent in zip(AUDIENCES, RECURRENCES, ("active", "paused", "done", "active"),
                                                       (True, False, True, False), strict=False)],
                   "page": 1, "pages": 2, "notice": "p:paused"}),
    ("reminders", {"items": [], "page": 1, "pages": 1, "notice": None}),
    *[("reminder_step", {"step": s, "days": [1], "problem": True, "timezone": TZ, "day": 30, "time": "08:00",
                         "cohort": "A", "audience": AUDIENCES[1], "text": "Halo", "recurrence": RECURRENCES[3],
                         "first": AT})
      for s in ("when", "weekdays", "monthday", "time", "date", "confirm", "created", "delete")],
    ("events", {"items": [{"title": "Kelas", "cohort": "A", "starts": AT, "timezone": TZ, "past": p,
                           "counts": VIEW.counts, "quota": 5} for p in (True, False)], "page": 1, "pages": 2}),
    ("events", {"items": [], "page": 1, "pages": 1}),
    *[("event_view", {"view": VIEW, "cohort": "A", "starts": AT, "ends": AT, "closes": AT, "timezone": TZ,
                      "started": started, "notice": "marked:2"}) for started in (True, False)],
    *[("event_step", {"step": s, "problem": "past", "title": "Kelas", "timezone": TZ, "start": AT, "invited": 3,
                      "told": 3})
      for s in ("title", "date", "start", "end", "place", "description", "quota", "closes", "sent", "too_early",
                "cannot_cancel", "cancel_confirm", "cancelled")],
    *[("rsvp_result", {"outcome": o, "answer": "maybe", "waiting": 2, "title": "Kelas", "cancelled": c,
                       "starts": AT, "ends": AT, "closes": AT, "timezone": TZ, "place": "Balai", "online_link": None})
      for o in ("placed", "waitlisted", "answered", "unchanged", "closed") for c in (True, False)],
    *[("rating_reply", {"step": s, "stars": 4, "title": "Kelas"})
      for s in ("thanks", "comment_saved", "skipped", "refused")],
    *[("broadcast_step", {"step": s, "recipients": 3, "blocked": 1}) for s in ("scope", "institution", "sent")],
    ("broadcast_report", {"report": {"id": 1, "recipients": 3, "sent": 1, "pending": 1, "blocked": 1,
                                     "skipped_blocked": 1, "failed": 0, "uncertain": 1}, "text": "Halo"}),
    *[("checkin_reply", {"step": s, "title": "NIB", "already": a, "following": f, "off": a, "changed": not a,
                         "cohorts": ["A"]})
      for s in ("marked", "status") for a in (True, False) for f in (None, "QRIS")],
    *[("checkin_settings", {"step": s, "cohort": "A", "weekday": w, "time": "09:00", "next": AT, "timezone": TZ})
      for s in ("show", "saved", "time") for w in (0, None) if not (s == "time" and w is None)],
    *[("personal_step", {"step": s, "member": "Siti", "cohort": "A", "held_until": h, "timezone": TZ})
      for s in ("prompt", "empty", "blocked", "sent") for h in (None, AT)],
    ("personal_message", {"coach": None, "cohort": "A", "text": "<b>hai</b>"}),
    ("event_cancelled", {"title": "Kelas", "starts": AT, "ends": AT, "timezone": TZ, "place": None,
                         "online_link": None, "closes": AT, "description": None, "quota": None}),
]  # fmt: skip


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(("template", "context"), CASES)
def test_every_step_renders(locale: str, template: str, context: dict) -> None:  # type: ignore[type-arg]
    text = render(locale, template, **context)
    assert text.strip()
    assert "&lt;b&gt;hai" in text or template != "personal_message"  # a coach's text stays text


LABELS = [
    ("audience", "cohort", 3), ("audience", "person", None), ("milestone_missing", "NIB", 2), ("continue",),
    ("done",), ("refresh",), ("relative_day", 2), ("weekday", 6), ("weekday_toggle", 0, True), ("new_reminder",),
    ("reminder_toggle", "p", 1), ("reminder_toggle", "r", 1), ("reminder_delete", 1), ("reminder_delete_yes",),
    ("reminder_list",), *[("frequency", f) for f in ("once", "daily", "weekly", "monthly", "last")],
    ("save_reminder",), ("new_event",), ("event", "Kelas", AT), ("event_list",), ("open_event",), ("length", 120),
    ("no_quota",), ("closes", 0), ("closes", 2), ("send_invitations",), ("attendance", None, "Siti"),
    ("attendance", False, "Siti"), ("all_attended",), ("cancel_event",), ("cancel_event_yes",),
    ("scope", "institution"), ("send_broadcast",), ("report",), ("checkin_settings",), ("checkins_off_cohort",),
    ("checkins_switch", True), ("menu_command", "pengingat_saya"),
]  # fmt: skip


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name_and_args", LABELS)
def test_every_button_label_exists(locale: str, name_and_args: tuple) -> None:  # type: ignore[type-arg]
    name, *args = name_and_args
    assert label(locale, name, *args).strip()
