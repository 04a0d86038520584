"""Fixtures for the search package tests (the model and the built index are in tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixture_knowledge import write_knowledge


@pytest.fixture
def knowledge_dir(tmp_path: Path) -> Path:
    return write_knowledge(tmp_path / "knowledge")
