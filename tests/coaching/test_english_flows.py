"""The engagement dialogues in English, end to end: every step's template renders (a coach and a
member who chose English), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core import callbacks
from tests.coaching.conftest import join, make_coach, make_cohort, press_data


def _english(chat):  # type: ignore[no-untyped-def]
    chat.say("/bahasa")
    chat.press("English")
    return chat


def test_a_coach_and_a_member_in_english(talk, clock) -> None:  # type: ignore[no-untyped-def]
    rina = make_coach(talk, "rina")
    payload = make_cohort(rina)
    make_cohort(rina, "KUB Melati")
    siti = _english(join(talk, "siti", payload))
    join(talk, "ani", payload)
    _english(rina)

    assert "No reminders yet" in rina.say("/pengingat")[0].text
    assert "for which group" in rina.press("New reminder")[0].text
    assert "All members (2)" in [b.label for row in rina.press("Sentra Batik")[0].buttons for b in row][0]
    milestones = rina.press("Missing a milestone")[0]
    assert "not</b> done which step" in milestones.text
    assert "Has a business ID number (NIB) (2 not yet)" in [b.label for row in milestones.buttons for b in row]
    rina.press("Back")
    assert "Choose one member" in rina.press("One person")[0].text
    rina.press("Siti")
    assert "is unknown" in rina.say("Hi {{ name }}")[0].text
    preview = rina.say("Hi {{ nama }}, record your sales")[0].text
    assert "Preview for Siti" in preview and "Reminder from Rina" in preview and "Hi Siti" in preview
    rina.press("Continue")
    rina.press("Every month")
    assert "shorter months" in rina.say("30")[0].text
    assert "every month on day 30" in rina.say("08:00")[0].text
    assert "Reminder saved" in rina.press("Save reminder")[0].text
    assert "⏸ Pause 1" in [b.label for row in rina.say("/pengingat")[0].buttons for b in row]

    rina.say("/undangan")
    rina.press("New invitation")
    rina.press("Sentra Batik")
    assert "On which date" in rina.say("Photo class")[0].text
    assert "could not read the date" in rina.say("someday")[0].text
    assert "How long" in rina.say("5/12 09:00")[0].text
    assert "Where?" in rina.press("2 h")[0].text
    rina.say("https://meet.google.com/abc")
    rina.press("Skip")
    rina.say("1")
    rina.press("When it starts")
    assert "Preview for Siti" in rina.press("All members")[0].text  # Siti reads English
    assert "queued for 2 people" in rina.press("Send invitations")[0].text
    event_id = int(rina.last[0].buttons[0][0].data.split("|")[2])
    placed = press_data(siti, callbacks.encode("rv", event_id, "yes"))[0]
    assert "Your place at <b>Photo class</b> is booked" in placed.text and placed.attachment is not None
    assert "You can change it" in press_data(siti, callbacks.encode("rv", event_id, "maybe"))[0].text
    clock.now = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)
    view = press_data(rina, callbacks.encode("ev", event_id))[0].text
    assert "Attendance" in view and "🤔 Maybe (1): Siti" in view
    rina.press("Siti")
    assert "Thank you for the ⭐5" in press_data(siti, callbacks.encode("rr", event_id, 5))[0].text
    assert "passed on" in siti.say("Great")[0].text
    assert "Average 5.0 from 1 rating" in press_data(rina, callbacks.encode("ev", event_id))[0].text
    assert "cannot be cancelled" in press_data(rina, callbacks.encode("ex", event_id))[0].text  # it has started

    rina.say("/siaran")
    rina.press("Sentra Batik")
    rina.press("All members")
    assert "Recipients: <b>2</b>" in rina.say("Exhibition tomorrow, {{ nama }}!")[0].text
    assert "Broadcast queued" in rina.press("Send broadcast")[0].text
    assert "Waiting: 2" in rina.press("Report")[0].text

    rina.say("/kelompok")
    rina.press("Sentra Batik")
    assert "Choose the day" in rina.press("Weekly check-in")[0].text
    rina.press("Friday")
    assert "Every Friday at 16:00 WIB" in rina.press("16.00")[0].text
    assert "Weekly check-ins: <b>on 🔔</b>" in siti.say("/pengingat_saya")[0].text
    assert "off." in siti.press("Turn weekly check-ins off")[0].text
    assert "marked done" in press_data(siti, callbacks.encode("ci", "m", "nib"))[0].text
