"""config.toml -> typed, validated settings. Secrets come from the environment only."""

from __future__ import annotations

import os
import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from index.embedder import DEFAULT_MODEL
from index.settings import SearchSettings, Targets

CONFIG_FILE = "config.toml"
DATA_DIR_ENV = "UMKM_DATA_DIR"
DATABASE_URL_ENV = "DATABASE_URL"
TOKEN_ENV = "TELEGRAM_BOT_TOKEN"
BASE_URL_ENV = "TELEGRAM_BASE_URL"
WEBHOOK_SECRET_ENV = "TELEGRAM_WEBHOOK_SECRET"


class ConfigError(ValueError):
    """config.toml is missing a value or has a wrong one; the message names the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataSection(_Section):
    dir: Path = Path("var")


class KnowledgeSection(_Section):
    dir: Path = Path("knowledge")
    eval_file: Path = Path("knowledge/eval/questions.yaml")
    near_duplicate_threshold: float = Field(0.93, gt=0, le=1)


_SEARCH = SearchSettings()  # one source of defaults: the index package's tuned values
_TARGETS = Targets()


class SearchSection(_Section):
    model: str = DEFAULT_MODEL
    k: int = Field(3, ge=1, le=20)
    auto_rebuild: bool = True
    rrf_k: int = Field(_SEARCH.rrf_k, ge=1)
    dense_weight: float = Field(_SEARCH.dense_weight, ge=0)
    lexical_weight: float = Field(_SEARCH.lexical_weight, ge=0)
    charngram_weight: float = Field(_SEARCH.charngram_weight, ge=0)
    candidates: int = Field(_SEARCH.candidates, ge=1)
    typo_max_edits: int = Field(_SEARCH.typo_max_edits, ge=0, le=3)
    cache_size: int = Field(_SEARCH.cache_size, ge=0)
    max_wrong_answer: float = Field(_TARGETS.max_wrong_answer, ge=0, le=1)
    max_clarify: float = Field(_TARGETS.max_clarify, ge=0, le=1)
    min_clarify_right: float = Field(_TARGETS.min_clarify_right, ge=0, le=1)
    min_rejection: float = Field(_TARGETS.min_rejection, ge=0, le=1)
    # COMPATIBILITY: read by the conversation core's "did you mean" rule of before the decision;
    # remove once the core uses SearchResult.decision / options.
    close_margin: float = Field(0.03, ge=0, le=1)


class DatabaseSection(_Section):
    url: str = ""


class TelegramSection(_Section):
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    mode: Literal["polling", "webhook"] = "polling"
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(8443, ge=1, le=65535)
    webhook_path: str = "telegram"
    webhook_public_url: str = ""
    concurrent_updates: int = Field(64, ge=1)


class BotSection(_Section):
    default_locale: Literal["id", "en"] = "id"
    topic_page_size: int = Field(6, ge=1, le=10)


class Settings(_Section):
    """Everything the program reads from config.toml, with paths made absolute."""

    data: DataSection = DataSection()
    knowledge: KnowledgeSection = KnowledgeSection()
    search: SearchSection = SearchSection()
    database: DatabaseSection = DatabaseSection()
    telegram: TelegramSection = TelegramSection()
    bot: BotSection = BotSection()
    source: Path | None = None

    @property
    def data_dir(self) -> Path:
        return self.data.dir

    @property
    def index_dir(self) -> Path:
        return self.data.dir / "index"

    @property
    def database_url(self) -> str:
        url = os.environ.get(DATABASE_URL_ENV) or self.database.url
        return url or f"sqlite:///{self.data.dir / 'umkm.db'}"

    @property
    def telegram_base_url(self) -> str:
        return os.environ.get(BASE_URL_ENV) or self.telegram.base_url

    @property
    def telegram_base_file_url(self) -> str:
        base = os.environ.get(BASE_URL_ENV)
        if base and base.endswith("/bot"):
            return base[: -len("/bot")] + "/file/bot"
        return self.telegram.base_file_url

    def search_settings(self) -> SearchSettings:
        """The index package's knobs, from the [search] section."""
        # SearchSection repeats every SearchSettings field (with validation), so copy them by name.
        return SearchSettings(**{f.name: getattr(self.search, f.name) for f in fields(SearchSettings)})

    def decision_targets(self) -> Targets:
        """What the answer decision's thresholds must keep on the dev questions at build time."""
        return Targets(**{f.name: getattr(self.search, f.name) for f in fields(Targets)})


def load_settings(path: Path | str | None = None) -> Settings:
    """Read `path`, else ./config.toml, else built-in defaults; relative paths resolve against
    the config file's folder (the working folder when there is none)."""
    if path is None and Path(CONFIG_FILE).is_file():
        path = CONFIG_FILE
    raw: dict[str, object] = {}
    base = Path.cwd()
    if path is not None:
        file = Path(path)
        if not file.is_file():
            raise ConfigError(f"config file not found: {file}")
        try:
            raw = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: invalid TOML: {exc}") from exc
        base = file.resolve().parent
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{path or 'defaults'}: [{key}] {first['msg']}") from exc
    data_dir = Path(os.environ.get(DATA_DIR_ENV) or settings.data.dir)
    settings.data.dir = _absolute(data_dir, base)
    settings.knowledge.dir = _absolute(settings.knowledge.dir, base)
    settings.knowledge.eval_file = _absolute(settings.knowledge.eval_file, base)
    settings.source = Path(path).resolve() if path else None
    return settings


def _absolute(path: Path, base: Path) -> Path:
    path = path.expanduser()
    return path if path.is_absolute() else (base / path).resolve()
