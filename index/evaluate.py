"""Retrieval quality on held-out questions: Hit@1, Hit@3, MRR, answered and rejection rates."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from index.search import Mode, SearchIndex, SearchResult

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


@dataclass(frozen=True)
class Outcome:
    """What search did with one question: where the right entry ranked, and the answer signals."""

    domain: bool
    rank: int | None  # 1-based rank of the first right entry among the hits; None if absent
    confidence: float  # the best hit's confidence (0 without hits)
    scope: float
    searched: bool  # False for small talk and messages without words: never answered


def collect(index: SearchIndex, eval_set: EvalSet, mode: Mode) -> list[Outcome]:
    """Search every question once; `score` turns the outcomes into metrics for any threshold."""
    outcomes = []
    for question in eval_set.domain:
        result = index.search(question.q, k=10, mode=mode)
        ranked = [h.entry.id for h in result.hits]
        rank = next((n for n, i in enumerate(ranked, start=1) if i in question.ids), None)
        outcomes.append(_outcome(True, rank, result))
    for off_topic in eval_set.off_topic:
        outcomes.append(_outcome(False, None, index.search(off_topic.q, k=3, mode=mode)))
    return outcomes


def _outcome(domain: bool, rank: int | None, result: SearchResult) -> Outcome:
    confidence = result.hits[0].score if result.hits else 0.0
    return Outcome(domain, rank, confidence, result.scope, result.reason not in ("empty", "small_talk"))


def score(outcomes: list[Outcome], mode: Mode, threshold: float) -> Metrics:
    """Hit@1, Hit@3, MRR, answered and rejection rates at one answer threshold
    (the rule of `SearchSettings.answers`)."""
    domain = [o for o in outcomes if o.domain]
    off_topic = [o for o in outcomes if not o.domain]

    def answered(o: Outcome) -> bool:
        return o.searched and o.confidence * o.scope >= threshold

    n, m = len(domain), len(off_topic)
    return Metrics(
        mode=mode,
        hit1=sum(o.rank == 1 for o in domain) / n if n else 0.0,
        hit3=sum(o.rank is not None and o.rank <= 3 for o in domain) / n if n else 0.0,
        mrr=sum(1 / o.rank for o in domain if o.rank) / n if n else 0.0,
        answered_rate=sum(answered(o) for o in domain) / n if n else 0.0,
        rejection_rate=sum(not answered(o) for o in off_topic) / m if m else 0.0,
        n_domain=n,
        n_off_topic=m,
    )


def evaluate(index: SearchIndex, eval_set: EvalSet, mode: Mode) -> Metrics:
    """Run every question through `index.search` in `mode` and score it at the index's settings."""
    return score(collect(index, eval_set, mode), mode, index.settings.threshold(mode))
