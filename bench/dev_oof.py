"""Dev-only diagnostics: the decision's out-of-fold figures on the dev half, and its failures.

Searches the training questions exactly as build-index does (index/training.py), fits the hybrid
decision on the other folds for each dev fold, and reports what the dev questions would see.
The test half of the eval file is never read (index/training.py loads only the dev split).

    .venv/bin/python bench/dev_oof.py [--failures FILE]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.config import load_settings  # noqa: E402
from index import load_embedder  # noqa: E402
from index.decision import choose_thresholds, decide, tally  # noqa: E402
from index.normalize import Normalizer  # noqa: E402
from index.search import CANDIDATE_FEATURES, QUESTION_FEATURES  # noqa: E402
from index.training import (  # noqa: E402
    DEV_FOLDS,
    FOLDS,
    collect,
    fit_two_stage,
    predict,
    prepared_training,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("config", nargs="?", default=str(ROOT / "config.toml"))
    parser.add_argument("--failures", help="write the dev failures (tab-separated) to this file")
    args = parser.parse_args()
    settings = load_settings(args.config)
    started = time.perf_counter()
    embedder = load_embedder(settings.search.model)
    normalizer = Normalizer.default()
    _, parts, questions, held = prepared_training(embedder, normalizer, settings.knowledge.dir,
                                                     settings.knowledge.eval_file)
    search = dataclasses.replace(settings.search_settings(), cache_size=0)
    rows = collect(parts, questions, embedder, normalizer, search, lambda f: held.get(f, set()), ("hybrid",))["hybrid"]
    features, qfeatures = CANDIDATE_FEATURES["hybrid"], QUESTION_FEATURES["hybrid"]
    dev = [n for n, (q, _, _) in enumerate(rows) if q.source == "dev"]
    preds = {}
    for fold in range(DEV_FOLDS):
        out = {n for n in dev if rows[n][0].fold - FOLDS == fold}
        model = fit_two_stage([r for n, r in enumerate(rows) if n not in out], features, qfeatures)
        for n in out:
            preds[n] = (predict(model, rows[n][0], rows[n][1]), model)
    order = sorted(preds)
    predictions = [preds[n][0] for n in order]
    thresholds = choose_thresholds(predictions, settings.decision_targets())
    t = tally(predictions, thresholds)
    domain = [n for n in order if rows[n][0].answers]
    hit1 = hit3 = mrr = fused1 = pool = 0.0
    failures = []
    for n in order:
        q, example, ids = rows[n]
        p = preds[n][0]
        if not q.answers:
            decision, _ = decide(p.probabilities, thresholds, p.gate)
            if decision != "none":
                probs, _ = preds[n][1].probabilities(example.candidates, example.question)
                top = ids[int(np.argmax(probs))]
                failures.append(("offtopic-" + decision, q.text, "-", top, f"{p.probabilities[0]:.2f}",
                                 f"{p.gate:.2f}"))
            continue
        rank = next((r for r, c in enumerate(p.correct, start=1) if c), None)
        hit1 += rank == 1
        hit3 += rank is not None and rank <= 3
        mrr += 1 / rank if rank else 0
        fused1 += bool(ids) and ids[0] in q.answers
        pool += any(i in q.answers for i in ids)
        decision, _ = decide(p.probabilities, thresholds, p.gate)
        probs, _ = preds[n][1].probabilities(example.candidates, example.question)
        ranked = [ids[i] for i in np.argsort(-probs, kind="stable")]
        if decision == "answer" and rank == 1:
            continue
        kind = {"answer": "wrong", "clarify": "clarify", "none": "refused"}[decision]
        if decision == "clarify" and rank is not None and rank <= 3:
            kind = "clarify-ok"
        failures.append((f"{kind}-rank{rank}", q.text, ",".join(q.answers), ",".join(ranked[:3]),
                         f"{p.probabilities[0]:.2f}", f"{p.gate:.2f}"))
    nd = len(domain)
    print(f"hybrid {dict(dataclasses.asdict(search))}")
    print(f"dev out-of-fold ({nd} domain, {len(order) - nd} off-topic; {time.perf_counter() - started:.0f} s)")
    print(f"Hit@1 {hit1 / nd:.3f}  Hit@3 {hit3 / nd:.3f}  MRR {mrr / nd:.3f}  fused-top1 {fused1 / nd:.3f}  "
          f"in-pool {pool / nd:.3f}")
    print(f"direct {t.direct_correct:.3f}  clarify {t.clarify:.3f}  right-among-options {t.clarify_right:.3f}  "
          f"wrong {t.wrong_answer:.3f}  refused {t.wrong_refusal:.3f}  off-topic rejected {t.rejection:.3f}")
    print(f"thresholds {thresholds}")
    if args.failures:
        Path(args.failures).write_text("\n".join("\t".join(f) for f in sorted(failures)) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
