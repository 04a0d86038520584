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
ADMIN_IDS_ENV = "UMKM_ADMIN_TELEGRAM_IDS"
BOT_USERNAME_ENV = "TELEGRAM_BOT_USERNAME"


class ConfigError(ValueError):
    """config.toml is missing a value or has a wrong one; the message names the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataSection(_Section):
    dir: Path = Path("var")


class KnowledgeSection(_Section):
    dir: Path = Path("knowledge")
    eval_file: Path = Path("knowledge/eval/questions.yaml")
    near_duplicate_threshold: float = Field(0.9, gt=0, le=1)


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
    bot_username: str = ""
    connect_timeout: float = Field(5.0, gt=0)
    read_timeout: float = Field(5.0, gt=0)
    typing_after: float = Field(0.5, ge=0)
    connection_pool_size: int = Field(16, ge=1, le=256)


class DeliverySection(_Section):
    """The outbox worker: Telegram's limits, retries and claims."""

    global_rate: float = Field(25, gt=0)
    per_chat_interval: float = Field(1.0, ge=0)
    batch_size: int = Field(50, ge=1, le=1000)
    max_in_flight: int = Field(16, ge=1, le=256)
    max_attempts: int = Field(6, ge=1)
    backoff_base: float = Field(2.0, gt=0)
    backoff_max: float = Field(600.0, gt=0)
    claim_seconds: float = Field(60.0, gt=0)
    poll_interval: float = Field(1.0, gt=0)
    connect_timeout: float = Field(5.0, gt=0)
    read_timeout: float = Field(15.0, gt=0)
    paid_broadcast: bool = False
    paid_broadcast_rate: float = Field(1000, gt=0)
    in_process: bool = True


class CoachingSection(_Section):
    """Roles and links for coaches."""

    admin_telegram_ids: list[int] = Field(default_factory=list)
    admin_terminal_users: list[str] = Field(default_factory=list)
    invite_days: int = Field(7, ge=1, le=90)
    silent_days: int = Field(30, ge=1, le=365)


class EngagementSection(_Section):
    """Reminders, invitations, check-ins, digests and the scheduler that queues them."""

    grace_minutes: int = Field(60, ge=0)
    quiet_start: str = Field("21:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    quiet_end: str = Field("06:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    event_reminder_hours: list[int] = Field(default_factory=lambda: [24, 2])
    rating_time: str = Field("08:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    nudge_weeks: int = Field(4, ge=1)
    digest_weekday: int = Field(0, ge=0, le=6)
    digest_time: str = Field("07:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    scheduler_interval: float = Field(30.0, gt=0)
    scheduler_lease_seconds: float = Field(90.0, gt=0)
    in_process: bool = True


class DashboardSection(_Section):
    """The coach dashboard: web pages served by the bot (Mini App and desktop browser)."""

    enabled: bool = False
    public_url: str = ""
    listen: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    session_hours: float = Field(12, gt=0, le=24 * 30)
    login_link_minutes: float = Field(10, gt=0, le=24 * 60)
    initdata_max_age_seconds: int = Field(3600, ge=10, le=7 * 24 * 3600)
    chart_months: int = Field(12, ge=2, le=36)


class RetentionSection(_Section):
    """How long records that are only needed for a while are kept."""

    processed_update_days: int = Field(2, ge=1)
    state_days: int = Field(30, ge=1)
    outbox_days: int = Field(90, ge=1)


class BotSection(_Section):
    default_locale: Literal["id", "en"] = "id"
    topic_page_size: int = Field(6, ge=1, le=10)
    flow_minutes: int = Field(30, ge=1)


class Settings(_Section):
    """Everything the program reads from config.toml, with paths made absolute."""

    data: DataSection = DataSection()
    knowledge: KnowledgeSection = KnowledgeSection()
    search: SearchSection = SearchSection()
    database: DatabaseSection = DatabaseSection()
    telegram: TelegramSection = TelegramSection()
    bot: BotSection = BotSection()
    delivery: DeliverySection = DeliverySection()
    coaching: CoachingSection = CoachingSection()
    engagement: EngagementSection = EngagementSection()
    dashboard: DashboardSection = DashboardSection()
    retention: RetentionSection = RetentionSection()
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

    @property
    def bot_username(self) -> str:
        """The bot's @username for t.me links (environment first; `run` learns it from getMe)."""
        return (os.environ.get(BOT_USERNAME_ENV) or self.telegram.bot_username).lstrip("@")

    def admin_ids(self) -> frozenset[tuple[str, str]]:
        """(channel, external id) of every admin: config.toml plus UMKM_ADMIN_TELEGRAM_IDS."""
        ids = {("telegram", str(i)) for i in self.coaching.admin_telegram_ids}
        ids |= {("terminal", name) for name in self.coaching.admin_terminal_users}
        for part in os.environ.get(ADMIN_IDS_ENV, "").replace(";", ",").split(","):
            if part.strip().isascii() and part.strip().isdigit():
                ids.add(("telegram", part.strip()))
        return frozenset(ids)

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
