"""`umkm-bot admin …` and `kb drafts …`: the JSON contracts scripts depend on, on SQLite and
PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from bot.storage import Database, Repositories, utcnow
from bot.storage.migrate import upgrade


@pytest.fixture
def run(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    config = tmp_path / "config.toml"
    knowledge = Path(__file__).resolve().parents[2] / "knowledge"
    config.write_text(f'[data]\ndir = "var"\n[knowledge]\ndir = "{knowledge}"\n[telegram]\nbot_username = "umkm_test_bot"\n')
    monkeypatch.setenv("DATABASE_URL", database_url)

    def call(*args: str) -> dict:  # type: ignore[type-arg]
        assert main(["--config", str(config), *args, "--json"]) == 0
        return json.loads(capsys.readouterr().out)

    call.database_url = database_url  # type: ignore[attr-defined]
    return call


def test_admin_commands_print_the_documented_json(run) -> None:  # type: ignore[no-untyped-def]
    institution = run("admin", "institution", "add", "Dinas Koperasi Gresik", "--kind", "government")
    assert set(institution) == {"id", "name"} and institution["name"] == "Dinas Koperasi Gresik"
    coach = run("admin", "coach", "add", "--telegram-id", "7001", "--institution", str(institution["id"]), "--name", "Rina")
    assert coach == {"id": coach["id"], "telegram_id": 7001, "institution_id": institution["id"]}
    invite = run("admin", "coach", "invite", "--institution", str(institution["id"]))
    assert set(invite) == {"link", "payload", "expires_at"}
    assert invite["payload"].startswith("p_") and invite["link"] == f"https://t.me/umkm_test_bot?start={invite['payload']}"
    cohort = run("admin", "cohort", "create", "--coach-telegram-id", "7001", "--name", "Sentra Batik", "--kind", "sentra")
    assert set(cohort) == {"id", "code", "join_payload", "join_link"}
    assert cohort["join_payload"] == "k_" + cohort["code"]

    database = Database(run.database_url)
    try:
        with database.transaction() as session:
            repos = Repositories(session)
            member, _ = repos.users.get_or_create("telegram", "8001")
            repos.users.give_consent(member)
            repos.users.update_profile(member, name="Siti")
            repos.milestones.set_done(member.id, "nib", True)
            repos.cohorts.join(cohort["id"], member.id, None)
    finally:
        database.dispose()
    shown = run("admin", "cohort", "show", cohort["code"])
    assert shown["code"] == cohort["code"] and shown["name"] == "Sentra Batik" and shown["coach"] == "Rina"
    [row] = shown["members"]
    assert set(row) == {"telegram_id", "name", "joined_at", "umkm_class", "milestones_done", "last_active_at"}
    assert row["telegram_id"] == 8001 and row["name"] == "Siti" and row["milestones_done"] == 1

    outbox = run("admin", "outbox", "--failed")
    assert outbox["counts"] == {s: 0 for s in ("pending", "sending", "sent", "blocked", "failed", "uncertain")}
    assert outbox["rows"] == []


def test_cli_mistakes_exit_2_with_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[data]\ndir = "var"\n')
    assert main(["--config", str(config), "admin", "cohort", "create", "--coach-telegram-id", "1", "--name", "x"]) == 2
    assert "is not a coach" in capsys.readouterr().err
    assert main(["--config", str(config), "admin", "coach", "add", "--institution", "1"]) == 2
    assert "exactly one of" in capsys.readouterr().err


def test_kb_drafts_export_writes_entry_files_for_an_editor(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    upgrade(run.database_url)
    database = Database(run.database_url)
    try:
        with database.transaction() as session:
            repos = Repositories(session)
            institution = repos.coaches.add_institution("NGO")
            coach_user, _ = repos.users.get_or_create("telegram", "1")
            member, _ = repos.users.get_or_create("telegram", "2")
            coach = repos.coaches.add_coach(coach_user.id, institution.id, "Rina")
            thread = repos.handoffs.open_thread(member.id, coach.id, None, "Gmn izin jual sambal botol?", entry_id="spp-irt-pirt")
            repos.handoffs.add_message(thread, "coach", "Urus SPP-IRT lewat OSS, ikut PKP dulu.")
            repos.handoffs.add_draft(thread, "Gmn izin jual sambal botol?", "Urus SPP-IRT lewat OSS, ikut PKP dulu.", at=utcnow())
    finally:
        database.dispose()
    listed = run("kb", "drafts")
    assert [d["question"] for d in listed["drafts"]] == ["Gmn izin jual sambal botol?"]
    out = tmp_path / "drafts"
    written = run("kb", "drafts", "export", str(out))["written"]
    [path] = [Path(p) for p in written]
    text = path.read_text(encoding="utf-8")
    front = yaml.safe_load(text.split("---")[1])
    assert front["questions"] == ["Gmn izin jual sambal botol?"] and front["related"] == ["spp-irt-pirt"]
    assert front["topic"] == "legal" and front["sources"] == []  # sources are the editor's job
    assert "Urus SPP-IRT lewat OSS" in text
    assert run("kb", "drafts", "export", str(out))["written"] == []  # exported once
