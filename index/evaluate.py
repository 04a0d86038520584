"""Retrieval quality on held-out questions: Hit@1, Hit@3, MRR, answered and rejection rates."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from index.search import Mode, SearchIndex

SPLITS = ("dev", "test")


class DomainQuestion(BaseModel):
    """A question the knowledge base should answer, with the entries that answer it."""

    model_config = ConfigDict(extra="forbid")
    q: str = Field(min_length=1)
    ids: list[str] = Field(min_length=1)
    split: str = Field(pattern="^(dev|test)$")
    lang: str = "id"


class OffTopicQuestion(BaseModel):
    """A message the bot must not answer from the knowledge base."""

    model_config = ConfigDict(extra="forbid")
    q: str = Field(min_length=1)
    split: str = Field(pattern="^(dev|test)$")


class EvalSet(BaseModel):
    """The whole evaluation file."""

    model_config = ConfigDict(extra="forbid")
    domain: list[DomainQuestion]
    off_topic: list[OffTopicQuestion]

    def only(self, split: str | None) -> EvalSet:
        """The questions of one split (None or 'all': every question)."""
        if split in (None, "all"):
            return self
        return EvalSet(
            domain=[q for q in self.domain if q.split == split],
            off_topic=[q for q in self.off_topic if q.split == split],
        )


def load_eval_set(path: Path) -> EvalSet:
    """Read and validate the YAML evaluation file."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return EvalSet.model_validate(raw)
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ValueError(f"{path}: cannot read the evaluation set: {exc}") from exc


@dataclass(frozen=True)
class Metrics:
    """Scores of one search mode on one evaluation set."""

    mode: str
    hit1: float
    hit3: float
    mrr: float
    answered_rate: float
    rejection_rate: float
    n_domain: int
    n_off_topic: int


def evaluate(index: SearchIndex, eval_set: EvalSet, mode: Mode) -> Metrics:
    """Run every question through `index.search` in `mode` and score the rankings."""
    hit1 = hit3 = answered = rejected = 0
    reciprocal = 0.0
    for question in eval_set.domain:
        result = index.search(question.q, k=10, mode=mode)
        ranked = [h.entry.id for h in result.hits]
        rank = next((n for n, i in enumerate(ranked, start=1) if i in question.ids), None)
        hit1 += rank == 1
        hit3 += rank is not None and rank <= 3
        reciprocal += 1 / rank if rank else 0.0
        answered += result.answered
    for question in eval_set.off_topic:
        rejected += not index.search(question.q, k=3, mode=mode).answered
    n, m = len(eval_set.domain), len(eval_set.off_topic)
    return Metrics(
        mode=mode,
        hit1=hit1 / n if n else 0.0,
        hit3=hit3 / n if n else 0.0,
        mrr=reciprocal / n if n else 0.0,
        answered_rate=answered / n if n else 0.0,
        rejection_rate=rejected / m if m else 0.0,
        n_domain=n,
        n_off_topic=m,
    )
