"""Search benchmark: latency, build time, cold start and memory, with the encoder as the floor.

Run: .venv/bin/python bench/search_bench.py   (prints a Markdown table; takes a few minutes)

Scale copies: each real entry is cloned with a distinct synthetic word in its text (so BM25 sees
a bigger vocabulary) and its passage vectors jittered slightly (so FAISS searches distinct
vectors); only the real knowledge base is embedded, because embedding 120,000 passages on two
cores would measure the encoder, not the index.
"""

from __future__ import annotations

import dataclasses
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.config import load_settings  # noqa: E402
from index import Normalizer, SearchIndex, SentenceTransformerEmbedder, load_knowledge  # noqa: E402
from index.charngrams import CharNgramIndex  # noqa: E402
from index.dense import DenseIndex  # noqa: E402
from index.evaluate import load_eval_set  # noqa: E402
from index.lexical import LexicalIndex  # noqa: E402
from index.scope import ScopeModel  # noqa: E402
from index.store import build_index, dense_passages, lexical_text  # noqa: E402

SCALES = (100, 1_000, 10_000)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def timed(fn, items) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - start) * 1000)
    return out


def scaled_index(entries, vectors_by_entry, normalizer, embedder, n: int, settings, scope) -> SearchIndex:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(n)
    clones, vectors, owners, tokens = [], [], [], []
    fuzzy_texts, fuzzy_owners = [], []
    for number in range(n):
        base = entries[number % len(entries)]
        copy = number // len(entries)
        entry = base if copy == 0 else dataclasses.replace(base, id=f"{base.id}-{copy}")
        clones.append(entry)
        v = vectors_by_entry[number % len(entries)]
        if copy:
            v = v + rng.normal(scale=0.01, size=v.shape).astype(np.float32)
            v /= np.linalg.norm(v, axis=1, keepdims=True)
        vectors.append(v)
        owners.extend([number] * len(v))
        extra = [f"salin{copy}"] if copy else []
        tokens.append(normalizer.tokens(lexical_text(base)) + extra)
        for passage in dense_passages(base, "passages"):
            fuzzy_texts.append(" ".join([normalizer.content_text(passage), *extra]))
            fuzzy_owners.append(number)
    dense = DenseIndex.build(np.vstack(vectors), np.asarray(owners), n)
    lexical = LexicalIndex.build(tokens)
    charngrams = CharNgramIndex.build(fuzzy_texts, fuzzy_owners, n)
    return SearchIndex(clones, dense, lexical, embedder, normalizer, settings, scope, charngrams)


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
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, *args], check=True, capture_output=True, cwd=ROOT, text=True)
    seconds = time.perf_counter() - start
    rss_kb = int(done.stderr.rsplit("RSS_KB=", 1)[1])
    return seconds, rss_kb / 1024


def current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    embedder = SentenceTransformerEmbedder()
    normalizer = Normalizer.default()
    # The tuned settings of config.toml, so the benchmark times what the bot runs.
    settings = dataclasses.replace(load_settings(ROOT / "config.toml").search_settings(), cache_size=0)
    entries = load_knowledge(ROOT / "knowledge")
    questions = [q.q for q in load_eval_set(ROOT / "knowledge" / "eval" / "questions.yaml").domain][:200]

    start = time.perf_counter()
    build_index(ROOT / "knowledge", ROOT / "var" / "bench-index", embedder)
    build_seconds = time.perf_counter() - start
    scope = ScopeModel.load(ROOT / "var" / "bench-index")

    vectors_by_entry = [
        embedder.encode([normalizer.dense_text(t) for t in dense_passages(e, "passages")]) for e in entries
    ]
    for q in questions[:20]:  # warm up the model and the stemmer cache
        embedder.encode([normalizer.dense_text(q)])
        normalizer.tokens(q)

    print(f"Knowledge base: {len(entries)} entries; build-index {build_seconds:.1f} s (embedding included)\n")
    print("| entries | mode | p50 ms | p99 ms | p50 / encode p50 | p50 - encode p50 (ms) |")
    print("|---|---|---|---|---|---|")
    rss = {}
    for n in SCALES:
        index = scaled_index(entries, vectors_by_entry, normalizer, embedder, n, settings, scope)
        for q in questions[:5]:  # first calls import and allocate lazily; time the warm path
            index.search(q, k=3)
        rss[n] = current_rss_mb()
        encode = timed(lambda q: embedder.encode([normalizer.dense_text(q)]), questions)
        e50 = statistics.median(encode)
        print(f"| {n:,} | encode only | {e50:.2f} | {percentile(encode, 99):.2f} | 1.00 | 0.00 |")
        for mode in ("hybrid", "dense", "bm25"):
            lat = timed(lambda q, m=mode, i=index: i.search(q, k=3, mode=m), questions)
            p50 = statistics.median(lat)
            print(f"| {n:,} | {mode} | {p50:.2f} | {percentile(lat, 99):.2f} | {p50 / e50:.2f} | {p50 - e50:+.2f} |")

    cached = SearchIndex(index.entries, index.dense, index.lexical, embedder, normalizer,
                         dataclasses.replace(settings, cache_size=2048), scope, index.charngrams)
    for q in questions:
        cached.search(q)
    hits = timed(lambda q: cached.search(q.upper() + "  "), questions)
    print(f"\nRepeated question (normalised form cached): p50 {statistics.median(hits):.3f} ms, "
          f"p99 {percentile(hits, 99):.3f} ms")

    print("RSS of this process (model + that scale's index loaded): "
          + ", ".join(f"{n:,} entries {mb:.0f} MB" for n, mb in rss.items())
          + f"; peak over the whole benchmark {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")

    load_only = ["-c", "from index import SentenceTransformerEmbedder as E; E().encode(['x'])"]
    first_answer = ["bot.cli", "ask", "--json", "gmn cara daftar nib"]
    cold_start(first_answer)  # makes sure the real index exists, so only loading is timed
    base = [cold_start(load_only) for _ in range(3)]
    full = [cold_start(first_answer) for _ in range(3)]
    base_s = statistics.median(s for s, _ in base)
    full_s = statistics.median(s for s, _ in full)
    print(f"Cold start: import + load model {base_s:.2f} s; process start to first answer {full_s:.2f} s; "
          f"ratio {full_s / base_s:.2f}; peak RSS of a cold `ask` {max(m for _, m in full):.0f} MB "
          f"(model alone {max(m for _, m in base):.0f} MB)")


if __name__ == "__main__":
    main()
