"""config.toml promises that every value it shows is the default: keep that true."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bot.config import Settings

CONFIG = Path(__file__).resolve().parents[1] / "config.toml"


def _sections() -> list[tuple[str, str, object]]:
    raw = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
    return [(section, key, value) for section, values in raw.items() for key, value in values.items()]


@pytest.mark.parametrize(("section", "key", "value"), _sections())
def test_config_file_shows_the_built_in_defaults(section: str, key: str, value: object) -> None:
    default = getattr(getattr(Settings(), section), key)
    assert (str(default) if isinstance(default, Path) else default) == value, (
        f"[{section}] {key} = {value!r} in config.toml, but the built-in default is {default!r}"
    )
