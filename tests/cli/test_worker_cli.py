"""`umkm-bot worker` starts in a fresh interpreter (its first import used to be a circular one)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_worker_without_a_token_is_a_usage_error_not_an_import_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("TELEGRAM_BOT_TOKEN", "DATABASE_URL")}
    env["UMKM_DATA_DIR"] = str(tmp_path / "var")
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "worker"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2, done.stderr
    assert "TELEGRAM_BOT_TOKEN" in done.stderr and "Traceback" not in done.stderr
