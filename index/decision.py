"""One decision per question — answer, clarify or none — from a model learned at build time.

Retrieval leaves a short list of candidate entries, each with the signals that placed it (its
rank and score in each ranking, cosine, word coverage, ...), and a few facts about the question
itself (how likely it is a business question at all, how English it is, how many of its words
no entry uses). A conditional logit turns them into probabilities that sum to one over
"candidate i answers the question" and "none of them does":

    P(i) = exp(w · x_i) / (exp(v · q) + sum_j exp(w · x_j))

so P(hits[0]) is the estimated probability that the top entry answers, two entries that share
the probability are genuinely ambiguous between them, and a question no candidate fits puts its
mass on "none". It is trained on domain questions only (the entries' own, held out, and the dev
half's), so it answers "which entry, if any of these?".

Whether the message is a business question at all is a second, separate model — the scope gate,
a logistic regression on the question's features and the top candidate's (with its probability)
trained on domain questions against off-topic ones. Two stages, two thresholds: off-topic
messages are refused by the gate, so the answer threshold no longer has to stay high to keep
them out and can be set by the wrong-answer budget alone.

Trained by maximum likelihood (L2-regularised) on held-out questions; the gate, answer and clarify
thresholds are then chosen on out-of-fold predictions for the dev questions (`choose_thresholds`).
Saved as plain JSON next to the index.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from index.settings import Targets  # noqa: F401 - re-exported

Decision = Literal["answer", "clarify", "none"]
DECISION_FILE = "decision.json"
# How far below a chosen threshold the targets must still hold (see choose_thresholds). 0.04 when
# the dev half had ~320 questions; ~830 now, so the noise it guards against is ~1.7 times smaller.
ROBUSTNESS = 0.02
# L2 penalty on the standardised weights, as strong as this many (weighted) questions' worth of
# prior at zero: keeps a tiny knowledge base from overfitting, negligible on the real one.
L2 = 5.0


@dataclass(frozen=True)
class Example:
    """One training question: candidate features, question features and which candidates answer
    it (empty: none does — an off-topic message, or the right entry was not retrieved)."""

    candidates: np.ndarray  # (n, d_candidate)
    question: np.ndarray  # (d_question,)
    positives: tuple[int, ...]
    weight: float = 1.0


@dataclass(frozen=True)
class Thresholds:
    """none when P(business question) < scope; else answer when P(top) >= answer; else clarify
    with the fewest (2-3) top entries whose probabilities add up to >= clarify, each at least
    option_floor; else none."""

    answer: float = 0.5
    clarify: float = 0.8
    option_floor: float = 0.15
    scope: float = 0.0


@dataclass(frozen=True)
class DecisionModel:
    """Weights of the conditional logit (on standardised features) and its thresholds."""

    candidate_features: tuple[str, ...]
    question_features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    question_mean: np.ndarray
    question_scale: np.ndarray
    weights: np.ndarray
    none_weights: np.ndarray  # last element: the bias of "none"
    thresholds: Thresholds = field(default_factory=Thresholds)
    # The scope gate (empty: none): standardisation and weights (last element: the bias) over
    # question features + the top candidate's features + the top candidate's probability.
    gate_mean: np.ndarray = field(default_factory=lambda: np.zeros(0))
    gate_scale: np.ndarray = field(default_factory=lambda: np.zeros(0))
    gate_weights: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def probabilities(self, candidates: np.ndarray, question: np.ndarray) -> tuple[np.ndarray, float]:
        """P(each candidate answers) and P(none does); they sum to one."""
        if len(candidates) == 0:
            return np.zeros(0), 1.0
        z = ((candidates - self.mean) / self.scale) @ self.weights
        q = (question - self.question_mean) / self.question_scale
        z_none = float(q @ self.none_weights[:-1] + self.none_weights[-1])
        top = max(float(z.max()), z_none)
        e = np.exp(z - top)
        e_none = math.exp(z_none - top)
        total = float(e.sum()) + e_none
        return e / total, e_none / total

    def gate(self, candidates: np.ndarray, question: np.ndarray, probabilities: np.ndarray) -> float:
        """P(the message is a question this knowledge base is about); 1 without a gate."""
        if not len(self.gate_weights):
            return 1.0
        x = (gate_features(candidates, question, probabilities, len(self.candidate_features)) - self.gate_mean)
        z = float((x / self.gate_scale) @ self.gate_weights[:-1] + self.gate_weights[-1])
        return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))

    def with_gate(self, mean: np.ndarray, scale: np.ndarray, weights: np.ndarray) -> DecisionModel:
        """The same model with a scope gate."""
        return DecisionModel(**{**self.__dict__, "gate_mean": mean, "gate_scale": scale, "gate_weights": weights})

    def with_thresholds(self, thresholds: Thresholds) -> DecisionModel:
        """The same model with other thresholds."""
        return DecisionModel(**{**self.__dict__, "thresholds": thresholds})

    def to_json(self) -> dict[str, object]:
        """Plain numbers, no pickle."""
        return {
            "candidate_features": list(self.candidate_features),
            "question_features": list(self.question_features),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "question_mean": self.question_mean.tolist(),
            "question_scale": self.question_scale.tolist(),
            "weights": self.weights.tolist(),
            "none_weights": self.none_weights.tolist(),
            "thresholds": self.thresholds.__dict__,
            "gate_mean": self.gate_mean.tolist(),
            "gate_scale": self.gate_scale.tolist(),
            "gate_weights": self.gate_weights.tolist(),
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> DecisionModel:
        """Read what `to_json` wrote."""
        arrays = {k: np.asarray(data[k], dtype=np.float64) for k in
                  ("mean", "scale", "question_mean", "question_scale", "weights", "none_weights")}
        arrays.update({k: np.asarray(data.get(k, []), dtype=np.float64)  # type: ignore[attr-defined]
                       for k in ("gate_mean", "gate_scale", "gate_weights")})
        return cls(
            candidate_features=tuple(data["candidate_features"]),  # type: ignore[arg-type]
            question_features=tuple(data["question_features"]),  # type: ignore[arg-type]
            thresholds=Thresholds(**data["thresholds"]),  # type: ignore[arg-type]
            **arrays,
        )


def gate_features(candidates: np.ndarray, question: np.ndarray, probabilities: np.ndarray, width: int) -> np.ndarray:
    """What the scope gate reads: the question's features, the most probable candidate's features
    and its probability (zeros without candidates)."""
    if len(candidates):
        top = int(np.argmax(probabilities))
        return np.concatenate([question, candidates[top], [float(probabilities[top])]])
    return np.concatenate([question, np.zeros(width), [0.0]])


# Inverse regularisation strength of the scope gate's logistic regression.
GATE_C = 1.0


def fit_gate(model: DecisionModel, examples: list[Example], domain: list[bool]) -> DecisionModel:
    """`model` with a scope gate trained on the examples (domain questions against off-topic
    messages, classes balanced); unchanged when one class is missing (build time only)."""
    from sklearn.linear_model import LogisticRegression

    if len(set(domain)) < 2:
        return model
    width = len(model.candidate_features)
    x = np.array([gate_features(e.candidates, e.question, model.probabilities(e.candidates, e.question)[0], width)
                  for e in examples])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    weights = np.array([e.weight for e in examples], dtype=np.float64)
    regression = LogisticRegression(C=GATE_C, class_weight="balanced", max_iter=3000)
    regression.fit((x - mean) / scale, np.array(domain), sample_weight=weights)
    return model.with_gate(mean, scale, np.concatenate([regression.coef_[0], regression.intercept_]))


def decide(probabilities: Sequence[float], thresholds: Thresholds, gate: float = 1.0) -> tuple[Decision, int]:
    """The decision for probabilities sorted best first (and the scope gate's probability), and
    how many options to offer."""
    if not len(probabilities) or gate < thresholds.scope:
        return "none", 0
    if probabilities[0] >= thresholds.answer:
        return "answer", 1
    total = 0.0
    for n, p in enumerate(probabilities[:3], start=1):
        if p < thresholds.option_floor:
            break
        total += p
        if n >= 2 and total >= thresholds.clarify:
            return "clarify", n
    return "none", 0


def fit(examples: list[Example], candidate_features: tuple[str, ...], question_features: tuple[str, ...],
        l2: float = L2) -> DecisionModel:
    """Maximum-likelihood weights for the examples (build time only: imports scipy)."""
    from scipy.optimize import minimize

    width = max((len(e.candidates) for e in examples), default=1) or 1
    d, m = len(candidate_features), len(question_features)
    n = len(examples)
    x = np.zeros((n, width, d))
    valid = np.zeros((n, width), dtype=bool)
    target = np.zeros((n, width + 1), dtype=bool)  # last column: none
    q = np.zeros((n, m))
    w = np.array([e.weight for e in examples], dtype=np.float64)
    for row, example in enumerate(examples):
        k = len(example.candidates)
        if k:
            x[row, :k] = example.candidates
        valid[row, :k] = True
        q[row] = example.question
        positives = [p for p in example.positives if p < k]
        if positives:
            target[row, positives] = True
        else:
            target[row, width] = True
    flat = x[valid]
    mean = flat.mean(axis=0) if len(flat) else np.zeros(d)
    scale = flat.std(axis=0) if len(flat) else np.ones(d)
    scale = np.where(scale > 1e-9, scale, 1.0)
    q_mean, q_scale = q.mean(axis=0), q.std(axis=0)
    q_scale = np.where(q_scale > 1e-9, q_scale, 1.0)
    xs = np.where(valid[..., None], (x - mean) / scale, 0.0)
    qs = (q - q_mean) / q_scale
    total_weight = float(w.sum()) or 1.0

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        weights, none_weights, bias = theta[:d], theta[d : d + m], theta[d + m]
        z = np.where(valid, xs @ weights, -np.inf)
        z = np.concatenate([z, (qs @ none_weights + bias)[:, None]], axis=1)
        top = z.max(axis=1, keepdims=True)
        e = np.exp(z - top)
        log_all = np.log(e.sum(axis=1)) + top[:, 0]
        e_target = np.where(target, e, 0.0)
        log_target = np.log(e_target.sum(axis=1)) + top[:, 0]
        nll = float(np.sum(w * (log_all - log_target))) / total_weight
        p = e / e.sum(axis=1, keepdims=True)
        t = e_target / e_target.sum(axis=1, keepdims=True)
        g = (p - t) * w[:, None] / total_weight
        grad_w = np.einsum("nk,nkd->d", g[:, :width], xs)
        grad_none = g[:, width] @ qs
        grad_bias = float(g[:, width].sum())
        strength = l2 / total_weight
        penalty = 0.5 * strength * (float(weights @ weights) + float(none_weights @ none_weights))
        grad = np.concatenate([grad_w + strength * weights, grad_none + strength * none_weights, [grad_bias]])
        return nll + penalty, grad

    result = minimize(loss, np.zeros(d + m + 1), jac=True, method="L-BFGS-B", options={"maxiter": 500})
    theta = result.x
    return DecisionModel(
        candidate_features, question_features, mean, scale, q_mean, q_scale,
        theta[:d], np.concatenate([theta[d : d + m], [theta[d + m]]]),
    )


@dataclass(frozen=True)
class Prediction:
    """A model's view of one tuning question: probabilities best first, whether each answers it,
    and whether the question is a domain question at all."""

    probabilities: tuple[float, ...]
    correct: tuple[bool, ...]
    domain: bool
    gate: float = 1.0


@dataclass(frozen=True)
class Tally:
    """What a set of thresholds does to a set of questions (rates over domain / off-topic)."""

    direct_correct: float
    wrong_answer: float
    clarify: float
    clarify_right: float  # among clarified domain questions, the right entry was offered
    wrong_refusal: float
    rejection: float


class _Table:
    """Predictions as arrays, so one set of thresholds is scored without a Python loop."""

    def __init__(self, predictions: list[Prediction]) -> None:
        n = len(predictions)
        self.p = np.zeros((n, 3))
        self.right = np.zeros((n, 3), dtype=bool)
        for row, pred in enumerate(predictions):
            k = min(3, len(pred.probabilities))
            self.p[row, :k] = pred.probabilities[:k]
            self.right[row, :k] = pred.correct[:k]
        self.domain = np.array([p.domain for p in predictions], dtype=bool)
        self.gate = np.array([p.gate for p in predictions], dtype=np.float64)

    def tally(self, t: Thresholds) -> Tally:
        p, right = self.p, self.right
        inside = self.gate >= t.scope
        answer = inside & (p[:, 0] >= t.answer)
        ok2 = inside & (p[:, 1] >= t.option_floor) & (p[:, 0] >= t.option_floor)
        two = ~answer & ok2 & (p[:, 0] + p[:, 1] >= t.clarify)
        three = ~answer & ~two & ok2 & (p[:, 2] >= t.option_floor) & (p[:, :3].sum(axis=1) >= t.clarify)
        clarify = two | three
        offered = np.where(two, right[:, :2].any(axis=1), right[:, :3].any(axis=1))
        dom, off = self.domain, ~self.domain
        nd = max(1, int(dom.sum()))
        n_clarify = int((clarify & dom).sum())
        return Tally(
            direct_correct=float((answer & right[:, 0] & dom).sum()) / nd,
            wrong_answer=float((answer & ~right[:, 0] & dom).sum()) / nd,
            clarify=n_clarify / nd,
            clarify_right=float((clarify & offered & dom).sum()) / n_clarify if n_clarify else 1.0,
            wrong_refusal=float((~answer & ~clarify & dom).sum()) / nd,
            rejection=float((~answer & ~clarify & off).sum()) / int(off.sum()) if off.any() else 1.0,
        )


def tally(predictions: list[Prediction], thresholds: Thresholds) -> Tally:
    """Outcome rates of `thresholds` on predictions (the metrics `umkm-bot eval` prints)."""
    return _Table(predictions).tally(thresholds)


def choose_thresholds(predictions: list[Prediction], targets: Targets) -> Thresholds:
    """The thresholds with the most direct-correct answers that keep every target; when none
    keeps them all, the one that misses them by the least.

    Two guards against the tuning half's noise (a few hundred questions): the answer threshold
    is at least 0.5 — never answer what the model itself thinks more likely wrong than right —
    and a setting must keep the targets also with its answer threshold ROBUSTNESS lower, so the
    choice does not sit on the edge of a cliff that unseen questions would fall over."""
    table = _Table(predictions)

    def miss(t: Tally) -> float:
        return (
            max(0.0, t.wrong_answer - targets.max_wrong_answer) * 4
            + max(0.0, t.clarify - targets.max_clarify)
            + max(0.0, targets.min_clarify_right - t.clarify_right) * 0.2
            + max(0.0, targets.min_rejection - t.rejection)
        )

    best: tuple[tuple[float, float], Thresholds] | None = None
    gated = bool((table.gate < 1.0).any())
    for scope, answer in itertools.product(
        (round(0.1 * i, 3) for i in range(10)) if gated else (0.0,),
        (round(0.5 + 0.02 * i, 3) for i in range(25)),  # 0.50 .. 0.98
    ):
        for clarify in (*(round(answer + 0.05 * i, 3) for i in range(1, 11) if answer + 0.05 * i <= 1.0), 2.0):
            for option_floor in (0.1, 0.15, 0.2, 0.25):
                thresholds = Thresholds(answer, clarify, option_floor, scope)
                t = table.tally(thresholds)
                looser = table.tally(Thresholds(answer - ROBUSTNESS, clarify - ROBUSTNESS, option_floor,
                                                max(0.0, scope - ROBUSTNESS)))
                # Among settings that keep the targets: most direct-correct, then clarifications
                # that offer the right entry, then fewest refusals of domain questions.
                gain = t.direct_correct + 0.25 * t.clarify * t.clarify_right - 0.05 * t.wrong_refusal
                key = (-max(miss(t), miss(looser)), gain)
                if best is None or key > best[0]:
                    best = (key, thresholds)
    assert best is not None
    return best[1]


def save(models: dict[str, DecisionModel], folder: Path) -> None:
    """All modes' models in one JSON file."""
    data = {mode: model.to_json() for mode, model in models.items()}
    (folder / DECISION_FILE).write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")


def load(folder: Path) -> dict[str, DecisionModel]:
    """Read what `save` wrote."""
    data = json.loads((folder / DECISION_FILE).read_text(encoding="utf-8"))
    return {mode: DecisionModel.from_json(model) for mode, model in data.items()}
