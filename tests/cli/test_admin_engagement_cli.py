"""`umkm-bot admin broadcast|reminder|event …`: the JSON contracts scripts depend on, on SQLite and
PostgreSQL. Times on the command line are the cohort's local time. Codes are passed as
`--cohort=CODE`: a join code may begin with "-"."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.cli import main
from bot.coaching.events import answer_rsvp
from bot.storage import Database, Repositories

WITA = ZoneInfo("Asia/Makassar")
REPORT_FIELDS = {"id", "recipients", "sent", "blocked", "failed", "uncertain", "pending"}
REMINDER_FIELDS = {
    "id", "cohort", "text", "audience", "milestone", "start_local", "timezone", "rrule", "status", "next_at",
    "last_at", "missed", "last_delivery",
}  # fmt: skip


@pytest.fixture
def cli(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """`cli(*args)` runs `umkm-bot … --json` and returns the JSON; `cli.fails(*args)` the error."""
    config = tmp_path / "config.toml"
    config.write_text('[data]\ndir = "var"\n[telegram]\nbot_username = "umkm_test_bot"\n')
    monkeypatch.setenv("DATABASE_URL", database_url)

    def call(*args: str) -> dict:  # type: ignore[type-arg]
        assert main(["--config", str(config), *args, "--json"]) == 0
        return json.loads(capsys.readouterr().out)

    def fails(*args: str) -> str:
        assert main(["--config", str(config), *args, "--json"]) == 2
        return capsys.readouterr().err

    call.fails = fails  # type: ignore[attr-defined]
    call.database_url = database_url  # type: ignore[attr-defined]
    return call


@pytest.fixture
def cohort(cli) -> str:  # type: ignore[no-untyped-def]
    """A WITA cohort (made through the CLI) with three consented members; Ani has her NIB."""
    institution = cli("admin", "institution", "add", "Dinas Koperasi Makassar")
    cli("admin", "coach", "add", "--telegram-id", "7001", "--institution", str(institution["id"]), "--name", "Rina")
    code = cli("admin", "cohort", "create", "--coach-telegram-id", "7001", "--name", "KUB Anggrek", "--tz", "Asia/Makassar")[
        "code"
    ]
    database = Database(cli.database_url)
    try:
        with database.transaction() as session:
            repos = Repositories(session)
            cohort_id = repos.cohorts.by_code(code).id
            for n, name in enumerate(("Ani", "Budi", "Citra")):
                user, _ = repos.users.get_or_create("telegram", str(8001 + n))
                repos.users.give_consent(user)
                repos.users.update_profile(user, name=name)
                repos.cohorts.join(cohort_id, user.id, None)
            repos.milestones.set_done(repos.users.get("telegram", "8001").id, "nib", True)
    finally:
        database.dispose()
    return code


def _local(days: int, clock: str) -> datetime:
    day = (datetime.now(WITA) + timedelta(days=days)).date()
    return datetime.combine(day, datetime.strptime(clock, "%H:%M").time(), tzinfo=WITA)


def test_broadcast_send_and_status(cli, cohort: str) -> None:  # type: ignore[no-untyped-def]
    sent = cli("admin", "broadcast", "send", f"--cohort={cohort}", "--text", "Halo {{ nama }}, besok pameran!")
    assert set(sent) == {"id", "recipients"} and sent["recipients"] == 3
    narrowed = cli(
        "admin", "broadcast", "send", f"--cohort={cohort}", "--text", "Urus NIB yuk", "--audience", "missing_milestone",
        "--milestone", "nib",
    )  # fmt: skip
    assert narrowed["recipients"] == 2  # Ani has her NIB
    status = cli("admin", "broadcast", "status", str(sent["id"]))
    assert set(status) >= REPORT_FIELDS and status["id"] == sent["id"]
    assert (status["recipients"], status["pending"], status["sent"], status["blocked"]) == (3, 3, 0, 0)
    assert "placeholders" in cli.fails("admin", "broadcast", "send", f"--cohort={cohort}", "--text", "Halo {{ nma }}")
    assert "--milestone" in cli.fails(
        "admin", "broadcast", "send", f"--cohort={cohort}", "--text", "x", "--audience", "missing_milestone"
    )
    assert "no active cohort" in cli.fails("admin", "broadcast", "send", "--cohort", "nope", "--text", "x")
    assert "no broadcast" in cli.fails("admin", "broadcast", "status", "999")


def test_reminder_add_list_pause_resume_cancel(cli, cohort: str) -> None:  # type: ignore[no-untyped-def]
    once_at = _local(3, "08:30")
    once = cli("admin", "reminder", "add", f"--cohort={cohort}", "--text", "Catat omzet, {{ nama }}",
               "--at", once_at.strftime("%Y-%m-%d %H:%M"))  # fmt: skip
    assert set(once) == {"id", "next_at"}
    assert datetime.fromisoformat(once["next_at"]) == once_at  # 08:30 WITA, stored in UTC
    weekly = cli("admin", "reminder", "add", f"--cohort={cohort}", "--text", "Rapat", "--weekly", "MO,TH",
                 "--at", _local(1, "07:00").strftime("%Y-%m-%d %H:%M"))  # fmt: skip
    following = datetime.fromisoformat(weekly["next_at"]).astimezone(WITA)
    assert following.weekday() in (0, 3) and following.strftime("%H:%M") == "07:00"
    monthly = cli("admin", "reminder", "add", f"--cohort={cohort}", "--text", "Tutup buku", "--monthly", "31",
                  "--at", _local(0, "20:00").strftime("%Y-%m-%d %H:%M"), "--audience", "no_figures")  # fmt: skip
    last = cli("admin", "reminder", "add", f"--cohort={cohort}", "--text", "Akhir bulan", "--monthly-last",
               "--at", _local(0, "20:00").strftime("%Y-%m-%d %H:%M"))  # fmt: skip
    for made in (monthly, last):  # the 31st or a shorter month's last day: always the last day
        local = datetime.fromisoformat(made["next_at"]).astimezone(WITA)
        assert (local + timedelta(days=1)).day == 1 and local.strftime("%H:%M") == "20:00"
    past = (datetime.now(WITA) - timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    assert "in the past" in cli.fails("admin", "reminder", "add", f"--cohort={cohort}", "--text", "x", "--at", past)
    assert "weekday codes" in cli.fails(
        "admin", "reminder", "add", f"--cohort={cohort}", "--text", "x", "--at", past, "--weekly", "SENIN"
    )
    assert "must look like" in cli.fails("admin", "reminder", "add", f"--cohort={cohort}", "--text", "x", "--at", "besok")

    listed = cli("admin", "reminder", "list", f"--cohort={cohort}")["reminders"]
    assert len(listed) == 4 and all(set(r) == REMINDER_FIELDS for r in listed)
    by_id = {r["id"]: r for r in listed}
    assert by_id[weekly["id"]]["rrule"] == "FREQ=WEEKLY;BYDAY=MO,TH"
    assert by_id[monthly["id"]]["rrule"] == "FREQ=MONTHLY;BYMONTHDAY=31,-1;BYSETPOS=1"
    assert by_id[monthly["id"]]["audience"] == "no_figures" and by_id[once["id"]]["timezone"] == "Asia/Makassar"
    assert by_id[once["id"]]["last_delivery"]["pending"] == 0 and by_id[once["id"]]["missed"] == 0

    paused = cli("admin", "reminder", "pause", str(weekly["id"]))
    assert paused == {"id": weekly["id"], "status": "paused", "next_at": weekly["next_at"]}
    resumed = cli("admin", "reminder", "resume", str(weekly["id"]))
    assert resumed["status"] == "active" and resumed["next_at"] is not None
    cancelled = cli("admin", "reminder", "cancel", str(weekly["id"]))
    assert cancelled == {"id": weekly["id"], "status": "cancelled", "next_at": None}
    assert weekly["id"] not in [r["id"] for r in cli("admin", "reminder", "list")["reminders"]]
    assert weekly["id"] in [r["id"] for r in cli("admin", "reminder", "list", "--all")["reminders"]]
    assert "no reminder" in cli.fails("admin", "reminder", "pause", "999")


def test_event_add_and_show(cli, cohort: str) -> None:  # type: ignore[no-untyped-def]
    start = _local(7, "09:00")
    added = cli(
        "admin", "event", "add", f"--cohort={cohort}", "--title", "Pelatihan foto produk",
        "--start", start.strftime("%Y-%m-%d %H:%M"), "--end", "12:00", "--place", "Balai Desa",
        "--link", "https://meet.google.com/abc", "--quota", "1",
        "--closes", (start - timedelta(days=1)).strftime("%Y-%m-%d %H:%M"),
    )  # fmt: skip
    assert set(added) == {"id", "invited"} and added["invited"] == 3
    database = Database(cli.database_url)
    try:
        with database.transaction() as session:
            repos = Repositories(session)
            now = datetime.now(WITA)
            for external, answer in (("8002", "yes"), ("8003", "yes"), ("8001", "maybe")):
                answer_rsvp(repos, added["id"], repos.users.get("telegram", external), answer, now)
    finally:
        database.dispose()
    shown = cli("admin", "event", "show", str(added["id"]))
    assert {
        "id", "title", "cohort", "status", "starts_at", "ends_at", "rsvp_closes_at", "timezone", "place", "online_link",
        "quota", "counts", "coming", "waiting", "maybe", "declined", "unanswered", "attended", "average_rating",
        "ratings", "comments",
    } == set(shown)  # fmt: skip
    assert datetime.fromisoformat(shown["starts_at"]) == start and shown["cohort"] == cohort
    assert datetime.fromisoformat(shown["ends_at"]) == start.replace(hour=12)
    assert shown["counts"] == {"yes": 1, "waiting": 1, "no": 0, "maybe": 1, "none": 0, "attended": 0}
    assert shown["coming"] == [{"telegram_id": 8002, "name": "Budi"}]
    assert shown["waiting"] == [{"telegram_id": 8003, "name": "Citra"}]
    assert shown["maybe"] == [{"telegram_id": 8001, "name": "Ani"}] and shown["attended"] == []
    assert "--end" in cli.fails(
        "admin", "event", "add", f"--cohort={cohort}", "--title", "x", "--start", start.strftime("%Y-%m-%d %H:%M"),
        "--end", "8.00.00",
    )  # fmt: skip
    assert "after it" in cli.fails(
        "admin", "event", "add", f"--cohort={cohort}", "--title", "x", "--start", start.strftime("%Y-%m-%d %H:%M"),
        "--end", "08:00",
    )  # fmt: skip
    assert "no event" in cli.fails("admin", "event", "show", "999")
