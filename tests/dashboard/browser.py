"""One headless Chromium for the browser tests (Debian's /usr/bin/chromium driven by Playwright).

Module-scoped: all browser tests live in one module, so this is one browser per test session; it
is closed when that module ends, because Playwright's sync API keeps an event loop marked as
running in the main thread while it is started, which would break the asyncio tests after it.

Outside CI a missing browser or Playwright skips the browser tests with a message; with CI=true
it fails them. Playwright's own browser download (`playwright install`) is never used."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("UMKM_TEST_CHROMIUM", "/usr/bin/chromium"))
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}


def _missing(why: str) -> None:
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"CI=true but {why} (.ci/run installs chromium with apt)", pytrace=False)
    pytest.skip(f"browser tests skipped: {why}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium with a fresh temporary profile (each context is a fresh one too)."""
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed (pip install -e '.[test]')")
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
    except Exception as exc:  # noqa: BLE001 - a browser that cannot start is a setup problem
        playwright.stop()
        _missing(f"chromium did not start: {exc}")
    yield chromium
    chromium.close()
    playwright.stop()
