"""Events and reminders on the dashboard: the lists, attendance, pause/resume/cancel — done by
`bot.coaching.events` and `bot.coaching.reminders`, behind the same role, ownership and CSRF
checks as every page."""

from __future__ import annotations

import pytest

from bot.storage import Reminder, Rsvp
from tests.dashboard.conftest import csrf_of, make_event, make_reminder, session_for_user, signed_in


def _rsvp(world, event_id: int, name: str) -> Rsvp:  # type: ignore[no-untyped-def]
    with world.database.transaction() as session:
        return session.query(Rsvp).filter_by(event_id=event_id, user_id=world.ids[name]).one()


def _status(world, reminder_id: int) -> str:  # type: ignore[no-untyped-def]
    with world.database.transaction() as session:
        return session.get(Reminder, reminder_id).status


def test_event_lists_show_places_and_the_waiting_list_in_order(server, world, clock) -> None:  # type: ignore[no-untyped-def]
    event_id = make_event(world, clock)
    http = signed_in(server, world.rina)
    listing = http.get(f"/dashboard/cohorts/{world.ids['rina_cohort']}/events")
    assert listing.status_code == 200 and "Pelatihan foto produk" in listing.text
    page = http.get(f"/dashboard/events/{event_id}")
    assert page.status_code == 200
    coming = page.text.split('id="list-coming"')[1].split("</table>")[0]
    waiting = page.text.split('id="list-waiting"')[1].split("</table>")[0]
    assert "Siti" in coming and "Joko" not in coming
    assert "1. Joko" in waiting


def test_marking_attendance(server, world, clock) -> None:  # type: ignore[no-untyped-def]
    event_id = make_event(world, clock, quota=None)
    http = signed_in(server, world.rina)
    csrf = csrf_of(http, f"/dashboard/events/{event_id}")
    one = http.post(f"/dashboard/events/{event_id}/attendance", data={"csrf": csrf, "user": world.ids["siti"], "attended": "yes"})
    assert one.status_code == 303
    assert _rsvp(world, event_id, "siti").attended is True and _rsvp(world, event_id, "joko").attended is None
    everyone = http.post(f"/dashboard/events/{event_id}/attendance-all", data={"csrf": csrf})
    assert everyone.status_code == 303 and _rsvp(world, event_id, "joko").attended is True
    absent = http.post(f"/dashboard/events/{event_id}/attendance", data={"csrf": csrf, "user": world.ids["joko"], "attended": "no"})
    assert absent.status_code == 303 and _rsvp(world, event_id, "joko").attended is False
    assert "Kehadiran dicatat" in http.get(absent.headers["location"]).text


def test_a_member_who_left_is_hidden_from_the_event_and_cannot_be_marked(server, world, clock) -> None:  # type: ignore[no-untyped-def]
    event_id = make_event(world, clock, quota=None)
    world.joko.say("/kelompok_saya")
    world.joko.press("Keluar dari")
    http = signed_in(server, world.rina)
    page = http.get(f"/dashboard/events/{event_id}")
    assert "Joko" not in page.text and "sudah tidak menjadi anggota" in page.text
    refused = http.post(
        f"/dashboard/events/{event_id}/attendance",
        data={"csrf": csrf_of(http), "user": world.ids["joko"], "attended": "yes"},
    )
    assert refused.status_code == 403 and _rsvp(world, event_id, "joko").attended is None


def test_pause_resume_and_cancel_a_reminder_with_its_delivery_figures(server, world, clock) -> None:  # type: ignore[no-untyped-def]
    reminder_id = make_reminder(world, clock)
    http = signed_in(server, world.rina)
    page = http.get(f"/dashboard/cohorts/{world.ids['rina_cohort']}/reminders")
    assert page.status_code == 200 and "Jangan lupa catat omzet" in page.text and "Aktif" in page.text
    csrf = csrf_of(http)
    for action, status in (("pause", "paused"), ("resume", "active"), ("cancel", "cancelled")):
        response = http.post(f"/dashboard/reminders/{reminder_id}/{action}", data={"csrf": csrf})
        assert response.status_code == 303, action
        assert _status(world, reminder_id) == status
    assert "Dibatalkan" in http.get(f"/dashboard/cohorts/{world.ids['rina_cohort']}/reminders").text


@pytest.mark.parametrize("intruder", ["budi", "siti"])
def test_events_and_reminders_refuse_other_coaches_and_entrepreneurs(server, world, clock, intruder) -> None:  # type: ignore[no-untyped-def]
    event_id, reminder_id = make_event(world, clock), make_reminder(world, clock)
    if intruder == "budi":
        http = signed_in(server, world.budi)
        csrf = csrf_of(http)
    else:
        from bot.storage import WebSession

        http = session_for_user(server, world.database, world.ids["siti"], clock)
        with world.database.transaction() as session:
            csrf = session.query(WebSession).filter_by(user_id=world.ids["siti"]).one().csrf_token
    assert http.get(f"/dashboard/events/{event_id}").status_code == 403
    posts = [
        (f"/dashboard/events/{event_id}/attendance", {"user": world.ids["siti"], "attended": "yes"}),
        (f"/dashboard/events/{event_id}/attendance-all", {}),
        (f"/dashboard/reminders/{reminder_id}/pause", {}),
        (f"/dashboard/reminders/{reminder_id}/cancel", {}),
    ]
    for path, data in posts:
        assert http.post(path, data={"csrf": csrf, **data}).status_code == 403, path
    assert _rsvp(world, event_id, "siti").attended is None
    assert _status(world, reminder_id) == "active"


def test_reminder_actions_need_the_csrf_token(server, world, clock) -> None:  # type: ignore[no-untyped-def]
    reminder_id = make_reminder(world, clock)
    http = signed_in(server, world.rina)
    assert http.post(f"/dashboard/reminders/{reminder_id}/cancel", data={}).status_code == 403
    assert _status(world, reminder_id) == "active"
