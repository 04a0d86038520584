"""Milestone checklist, kept as data in milestones.toml and validated on load."""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Collection, Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from bot.progress.sectors import Sector

__all__ = [
    "Milestone",
    "load_milestones",
    "milestones_for_sector",
    "next_suggested",
]

MilestoneId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")]
KnowledgeId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def _known_sector(sector: str | None) -> Sector | None:
    # Profiles may hold a sector id this version does not know (older or newer data).
    try:
        return None if sector is None else Sector(sector)
    except ValueError:
        return None


class Milestone(BaseModel):
    """One step on the checklist; immutable so cached copies can be shared."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: MilestoneId
    order: int
    title_id: Title
    title_en: Title
    knowledge_id: KnowledgeId
    knowledge_by_sector: dict[Sector, KnowledgeId] = Field(default_factory=dict)
    sectors: Literal["all"] | tuple[Sector, ...]
    optional: bool = False

    @model_validator(mode="after")
    def _check_sectors(self) -> Milestone:
        if self.sectors != "all":
            if not self.sectors:
                raise ValueError(f'milestone {self.id!r}: sectors is empty, use "all"')
            stray = set(self.knowledge_by_sector) - set(self.sectors)
            if stray:
                raise ValueError(
                    f"milestone {self.id!r}: knowledge_by_sector names sectors it does not "
                    f"apply to: {sorted(stray)}"
                )
        return self

    def applies_to(self, sector: str | None) -> bool:
        """True for "all" milestones, and for `sector`'s own ones when it is known."""
        known = _known_sector(sector)
        return self.sectors == "all" or (known is not None and known in self.sectors)

    def knowledge_for(self, sector: str | None) -> str:
        """Knowledge entry for this sector (a per-sector override or the default)."""
        known = _known_sector(sector)
        if known is not None and known in self.knowledge_by_sector:
            return self.knowledge_by_sector[known]
        return self.knowledge_id

    @property
    def knowledge_ids(self) -> frozenset[str]:
        """Every knowledge entry this milestone can point to."""
        return frozenset({self.knowledge_id, *self.knowledge_by_sector.values()})


class _MilestoneFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    milestones: list[Milestone]

    @model_validator(mode="after")
    def _check_unique(self) -> _MilestoneFile:
        for field in ("id", "order"):
            counts = Counter(getattr(m, field) for m in self.milestones)
            duplicates = sorted(str(value) for value, n in counts.items() if n > 1)
            if duplicates:
                raise ValueError(f"duplicate milestone {field}: {', '.join(duplicates)}")
        return self


def _parse(text: str) -> tuple[Milestone, ...]:
    parsed = _MilestoneFile.model_validate(tomllib.loads(text))
    return tuple(sorted(parsed.milestones, key=lambda m: m.order))


@cache
def _packaged() -> tuple[Milestone, ...]:
    # The packaged file never changes while the bot runs, so parse it once.
    text = resources.files("bot.progress").joinpath("milestones.toml").read_text("utf-8")
    return _parse(text)


def load_milestones(path: Path | None = None) -> list[Milestone]:
    """All milestones sorted by `order`, from the packaged TOML unless `path` is given.

    Raises pydantic.ValidationError (a ValueError) naming the problem: unknown sector,
    duplicate id or order, malformed id, missing field.
    """
    return list(_packaged() if path is None else _parse(path.read_text("utf-8")))


def milestones_for_sector(
    sector: str | None, milestones: Iterable[Milestone] | None = None
) -> list[Milestone]:
    """Milestones that apply to `sector`, sorted by order.

    A None or unrecognised sector gets only the "all" milestones: asking a tailor about
    food permits is worse than leaving out a sector-specific step.
    """
    source = load_milestones() if milestones is None else milestones
    return sorted((m for m in source if m.applies_to(sector)), key=lambda m: m.order)


def next_suggested(milestones: Iterable[Milestone], done_ids: Collection[str]) -> Milestone | None:
    """The first milestone by order that is not done and not optional, or None."""
    for milestone in sorted(milestones, key=lambda m: m.order):
        if not milestone.optional and milestone.id not in done_ids:
            return milestone
    return None
