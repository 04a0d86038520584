"""Quality on held-out questions: ranking (Hit@1, Hit@3, MRR) and the decisions a person sees."""

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
    part: str = ""  # "fresh": a test question written after the rest of the test half had been read
    lang: str = "id"


class OffTopicQuestion(BaseModel):
    """A message the bot must not answer from the knowledge base."""

    model_config = ConfigDict(extra="forbid")
    q: str = Field(min_length=1)
    split: str = Field(pattern="^(dev|test)$")
    part: str = ""


class EvalSet(BaseModel):
    """The whole evaluation file."""

    model_config = ConfigDict(extra="forbid")
    domain: list[DomainQuestion]
    off_topic: list[OffTopicQuestion]

    def only(self, split: str | None) -> EvalSet:
        """The questions of one split (None or 'all': every question); 'fresh': the test
        questions of the fresh held-out part only."""
        if split in (None, "all"):
            return self
        if split == "fresh":
            return EvalSet(
                domain=[q for q in self.domain if q.part == "fresh"],
                off_topic=[q for q in self.off_topic if q.part == "fresh"],
            )
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
    """Scores of one search mode on one evaluation set: ranking (Hit@1, Hit@3, MRR) and what a
    person sees (direct-correct answers, clarifications, wrong answers, wrong refusals, off-topic
    messages rejected). Rates are over domain questions, except `clarify_right` (over clarified
    questions) and `rejection_rate` (over off-topic messages)."""

    mode: str
    hit1: float
    hit3: float
    mrr: float
    direct_correct: float
    clarify_rate: float
    clarify_right: float
    wrong_answer: float
    wrong_refusal: float
    rejection_rate: float
    answered_rate: float
    n_domain: int
    n_off_topic: int


@dataclass(frozen=True)
class Outcome:
    """What search did with one question."""

    domain: bool
    rank: int | None  # 1-based rank of the first right entry among the hits; None if absent
    decision: str
    answer_right: bool  # decision answer and hits[0] is a right entry
    options_right: bool  # decision clarify and a right entry is among the options


def outcome(result: SearchResult, ids: list[str] | None) -> Outcome:
    """Score one search result against the right entry ids (None: an off-topic message)."""
    right = set(ids or ())
    ranked = [h.entry.id for h in result.hits]
    rank = next((n for n, i in enumerate(ranked, start=1) if i in right), None)
    return Outcome(
        domain=ids is not None,
        rank=rank,
        decision=result.decision,
        answer_right=result.decision == "answer" and bool(ranked) and ranked[0] in right,
        options_right=result.decision == "clarify" and any(h.entry.id in right for h in result.options),
    )


def collect(index: SearchIndex, eval_set: EvalSet, mode: Mode) -> list[Outcome]:
    """Search every question once in `mode`."""
    outcomes = [outcome(index.search(q.q, k=10, mode=mode), q.ids) for q in eval_set.domain]
    outcomes += [outcome(index.search(q.q, k=3, mode=mode), None) for q in eval_set.off_topic]
    return outcomes


def score(outcomes: list[Outcome], mode: str) -> Metrics:
    """Turn outcomes into rates."""
    domain = [o for o in outcomes if o.domain]
    off_topic = [o for o in outcomes if not o.domain]
    n, m = len(domain), len(off_topic)

    def rate(count: int, total: int) -> float:
        return count / total if total else 0.0

    clarified = [o for o in domain if o.decision == "clarify"]
    return Metrics(
        mode=mode,
        hit1=rate(sum(o.rank == 1 for o in domain), n),
        hit3=rate(sum(o.rank is not None and o.rank <= 3 for o in domain), n),
        mrr=rate(sum(1 / o.rank for o in domain if o.rank), n) if n else 0.0,  # type: ignore[arg-type]
        direct_correct=rate(sum(o.answer_right for o in domain), n),
        clarify_rate=rate(len(clarified), n),
        clarify_right=rate(sum(o.options_right for o in clarified), len(clarified)),
        wrong_answer=rate(sum(o.decision == "answer" and not o.answer_right for o in domain), n),
        wrong_refusal=rate(sum(o.decision == "none" for o in domain), n),
        rejection_rate=rate(sum(o.decision == "none" for o in off_topic), m),
        answered_rate=rate(sum(o.decision == "answer" for o in domain), n),
        n_domain=n,
        n_off_topic=m,
    )


def evaluate(index: SearchIndex, eval_set: EvalSet, mode: Mode) -> Metrics:
    """Run every question through `index.search` in `mode` and score what a person would see."""
    return score(collect(index, eval_set, mode), mode)
