"""The answer decision: the rule, the fitted model's calibration, threshold choice, saving."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from index.decision import (
    DecisionModel,
    Example,
    Prediction,
    Targets,
    Thresholds,
    choose_thresholds,
    decide,
    fit,
    fit_gate,
    load,
    save,
    tally,
)

RULE = Thresholds(answer=0.6, clarify=0.8, option_floor=0.15)


@pytest.mark.parametrize(
    ("probabilities", "expected"),
    [
        ((0.7, 0.2, 0.05), ("answer", 1)),
        ((0.45, 0.4, 0.1), ("clarify", 2)),  # two plausible entries that together are likely right
        ((0.4, 0.25, 0.2), ("clarify", 3)),  # needs the third to reach the clarify mass
        ((0.4, 0.25, 0.1), ("none", 0)),  # the third is too unlikely to offer, two are not enough
        ((0.5, 0.1, 0.1), ("none", 0)),  # one plausible entry but not enough to answer
        ((0.3, 0.2, 0.1), ("none", 0)),
        ((), ("none", 0)),
    ],
)
def test_decide_answers_clarifies_or_refuses(probabilities: tuple[float, ...], expected: tuple[str, int]) -> None:
    assert decide(probabilities, RULE) == expected


def _simulate(n: int, seed: int) -> tuple[list[Example], np.ndarray, float]:
    """Questions drawn from a known conditional logit: 5 candidates, 2 features, a 'none' score."""
    rng = np.random.default_rng(seed)
    true_w, true_none = np.array([2.0, -1.0]), np.array([-1.5, 0.5])  # (scope feature, bias)
    examples = []
    for _ in range(n):
        x = rng.normal(size=(5, 2))
        q = rng.normal(size=1)
        z = np.append(x @ true_w, q[0] * true_none[0] + true_none[1])
        p = np.exp(z - z.max())
        p /= p.sum()
        pick = rng.choice(6, p=p)
        examples.append(Example(x, q, () if pick == 5 else (int(pick),)))
    return examples, true_w, true_none[0]


def test_fit_recovers_a_known_model_and_is_calibrated() -> None:
    examples, true_w, true_scope = _simulate(4000, seed=1)
    model = fit(examples, ("a", "b"), ("scope",))
    w = model.weights / model.scale  # back to raw feature units
    assert w == pytest.approx(true_w, abs=0.25)
    assert model.none_weights[0] / model.question_scale[0] == pytest.approx(true_scope, abs=0.3)
    # calibration on fresh data: predicted top probability vs how often the top is right
    fresh, _, _ = _simulate(3000, seed=2)
    tops = [model.probabilities(e.candidates, e.question)[0] for e in fresh]
    predicted = np.array([p.max() for p in tops])
    right = np.array([int(np.argmax(p)) in e.positives for p, e in zip(tops, fresh, strict=True)])
    for low, high in ((0.0, 0.4), (0.4, 0.7), (0.7, 1.01)):
        band = (predicted >= low) & (predicted < high)
        assert band.sum() > 100
        assert right[band].mean() == pytest.approx(predicted[band].mean(), abs=0.06)


def test_probabilities_sum_to_one_and_survive_saving(tmp_path: Path) -> None:
    examples, _, _ = _simulate(300, seed=3)
    model = fit(examples, ("a", "b"), ("scope",)).with_thresholds(RULE)
    save({"hybrid": model}, tmp_path)
    loaded = load(tmp_path)["hybrid"]
    assert loaded.thresholds == RULE
    for example in examples[:20]:
        p, none = model.probabilities(example.candidates, example.question)
        q, none_loaded = loaded.probabilities(example.candidates, example.question)
        assert p.sum() + none == pytest.approx(1.0)
        assert q == pytest.approx(p) and none_loaded == pytest.approx(none)
    assert isinstance(loaded, DecisionModel)
    assert "pickle" not in (tmp_path / "decision.json").read_text()


def _predictions(seed: int) -> list[Prediction]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(600):
        domain = rng.random() < 0.75
        top = rng.beta(5, 2) if domain else rng.beta(2, 5)
        rest = (1 - top) * rng.dirichlet([2, 1, 1])
        probabilities = tuple(sorted([top, *rest[:2]], reverse=True))
        correct = tuple(bool(domain and rng.random() < p / sum(probabilities)) for p in probabilities)
        out.append(Prediction(probabilities, correct, domain))
    return out


def test_vectorised_tally_equals_the_decision_rule() -> None:
    predictions = _predictions(4)
    t = tally(predictions, RULE)
    domain = [p for p in predictions if p.domain]
    decisions = [decide(p.probabilities, RULE) for p in domain]
    assert t.direct_correct == pytest.approx(
        sum(d == "answer" and p.correct[0] for (d, _), p in zip(decisions, domain, strict=True)) / len(domain))
    assert t.clarify == pytest.approx(sum(d == "clarify" for d, _ in decisions) / len(domain))
    off = [p for p in predictions if not p.domain]
    assert t.rejection == pytest.approx(sum(decide(p.probabilities, RULE)[0] == "none" for p in off) / len(off))


def test_chosen_thresholds_keep_the_targets() -> None:
    predictions = _predictions(5)
    targets = Targets(max_wrong_answer=0.08, max_clarify=0.1, min_clarify_right=0.5, min_rejection=0.9)
    chosen = choose_thresholds(predictions, targets)
    t = tally(predictions, chosen)
    assert chosen.answer >= 0.5
    assert t.wrong_answer <= targets.max_wrong_answer and t.clarify <= targets.max_clarify
    assert t.rejection >= targets.min_rejection
    # a stricter wrong-answer target can only cost direct answers
    strict = tally(predictions, choose_thresholds(predictions, Targets(0.02, 0.1, 0.5, 0.9)))
    assert strict.wrong_answer <= 0.02 and strict.direct_correct <= t.direct_correct


def test_the_scope_gate_refuses_below_its_threshold_whatever_the_candidates_say() -> None:
    gated = Thresholds(answer=0.6, clarify=0.8, option_floor=0.15, scope=0.5)
    assert decide((0.9, 0.05), gated, gate=0.4) == ("none", 0)
    assert decide((0.45, 0.4, 0.1), gated, gate=0.4) == ("none", 0)
    assert decide((0.9, 0.05), gated, gate=0.6) == ("answer", 1)
    assert decide((0.9, 0.05), RULE) == ("answer", 1)  # no gate: as before


def test_gate_learns_domain_from_off_topic_and_survives_saving(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    examples, domain = [], []
    for _ in range(400):
        inside = bool(rng.random() < 0.7)
        q = np.array([rng.normal(2.0 if inside else -2.0)])  # the scope feature separates them
        x = rng.normal(size=(4, 2))
        examples.append(Example(x, q, (0,) if inside else ()))
        domain.append(inside)
    model = fit_gate(fit([e for e, d in zip(examples, domain, strict=True) if d], ("a", "b"), ("scope",)),
                     examples, domain).with_thresholds(RULE)
    gates = np.array([model.gate(e.candidates, e.question, model.probabilities(e.candidates, e.question)[0])
                      for e in examples])
    assert ((gates >= 0.5) == np.array(domain)).mean() > 0.95
    save({"hybrid": model}, tmp_path)
    loaded = load(tmp_path)["hybrid"]
    e = examples[0]
    p = loaded.probabilities(e.candidates, e.question)[0]
    assert loaded.gate(e.candidates, e.question, p) == pytest.approx(gates[0])
    # a model without a gate (an index built before the gate, or no off-topic examples) lets all through
    assert fit_gate(model, examples[:10], [True] * 10).gate(e.candidates, e.question, p) == pytest.approx(gates[0])
    assert fit(examples, ("a", "b"), ("scope",)).gate(e.candidates, e.question, p) == 1.0


def test_tally_applies_the_gate_like_the_rule() -> None:
    rng = np.random.default_rng(7)
    predictions = [dataclasses.replace(p, gate=float(rng.random())) for p in _predictions(8)]
    gated = Thresholds(answer=0.6, clarify=0.8, option_floor=0.15, scope=0.3)
    t = tally(predictions, gated)
    domain = [p for p in predictions if p.domain]
    decisions = [decide(p.probabilities, gated, p.gate)[0] for p in domain]
    assert t.direct_correct == pytest.approx(
        sum(d == "answer" and p.correct[0] for d, p in zip(decisions, domain, strict=True)) / len(domain))
    off = [p for p in predictions if not p.domain]
    assert t.rejection == pytest.approx(sum(decide(p.probabilities, gated, p.gate)[0] == "none" for p in off) / len(off))
