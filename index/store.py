"""Build a search index from the knowledge folder, save it as plain files, load it, check staleness."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from index import decision as decision_file
from index.charngrams import CharNgramIndex
from index.decision import DecisionModel, Targets
from index.dense import DenseIndex
from index.embedder import Embedder
from index.entries import (
    Entry,
    content_hash,
    entry_from_dict,
    entry_to_dict,
    knowledge_files,
    load_knowledge,
)
from index.errors import IndexUnavailable
from index.lexical import LexicalIndex
from index.normalize import Normalizer, normalizer_data_hash
from index.scope import OUT_OF_SCOPE_FILE, ScopeModel, read_out_of_scope
from index.search import SearchIndex, SearchSettings

FORMAT_VERSION = 7
MANIFEST_FILE = "manifest.json"
BUILD_BATCH = 128
ENTRIES_FILE = "entries.json"
# Vectors of the written off-topic messages (a signal for the scope gate, see SearchIndex.off_topic_cosine).
OFF_TOPIC_FILE = "off_topic.npy"
# Settings that shape the candidates the decision was trained on: changing one makes the index stale.
TRAINED_SETTINGS = ("rrf_k", "dense_weight", "lexical_weight", "charngram_weight", "candidates", "typo_max_edits")


@dataclass(frozen=True)
class IndexStatus:
    """Whether the index on disk matches the knowledge and the model."""

    state: Literal["ok", "missing", "stale", "corrupt"]
    reason: str


def dense_passages(entry: Entry) -> list[str]:
    """Texts embedded for an entry, each way of asking on its own; the best one speaks for the entry.
    Positions 2 .. 2 + len(questions) + len(questions_en) - 1 are the entry's questions."""
    return [entry.title, entry.title_en, *entry.questions, *entry.questions_en, entry.summary]


def question_positions(entry: Entry) -> range:
    """Positions of the entry's own questions among its `dense_passages`."""
    return range(2, 2 + len(entry.questions) + len(entry.questions_en))


def lexical_text(entry: Entry, skip: frozenset[int] = frozenset()) -> str:
    """Text BM25 sees for an entry (without the `dense_passages` positions in `skip`); the title
    counts twice because it names the subject, and the English title and questions let English
    questions match words, too."""
    asked = [t for position, t in enumerate(dense_passages(entry)) if position in question_positions(entry)
             and position not in skip]
    return " ".join([entry.title, entry.title, entry.title_en, *entry.tags, *asked, entry.summary, *entry.steps])


def knowledge_fingerprint(knowledge_dir: Path) -> str:
    """Hash of everything that shapes the index's content except the model."""
    files = knowledge_files(knowledge_dir)
    out_of_scope = knowledge_dir / OUT_OF_SCOPE_FILE
    if out_of_scope.is_file():
        files.append(out_of_scope)
    return f"{content_hash(files, knowledge_dir)}:{normalizer_data_hash()}"


def training_fingerprint(settings: SearchSettings, eval_file: Path | None, targets: Targets) -> str:
    """Hash of what the decision was trained with besides the knowledge: the retrieval settings,
    the decision targets and the evaluation file (whose dev half it trains on)."""
    data = {
        "settings": {name: getattr(settings, name) for name in TRAINED_SETTINGS},
        "targets": targets.__dict__,
        "eval": _file_hash(eval_file),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def build_index(
    knowledge_dir: Path,
    out_dir: Path,
    embedder: Embedder,
    *,
    entries: list[Entry] | None = None,
    progress: Callable[[Iterable[list[str]], int], Iterable[list[str]]] | None = None,
    settings: SearchSettings | None = None,
    eval_file: Path | None = None,
    targets: Targets | None = None,
) -> Path:
    """Embed and index the knowledge base into `out_dir` (replaced atomically), and train the
    answer decision (index/training.py) with the dev half of `eval_file` when given. Reproducible."""
    from index.training import train_decisions

    entries = entries if entries is not None else load_knowledge(knowledge_dir)
    settings = settings or SearchSettings()
    targets = targets or Targets()
    normalizer = Normalizer.default()
    texts: list[str] = []
    owners_list: list[int] = []
    for number, entry in enumerate(entries):
        for passage in dense_passages(entry):
            texts.append(normalizer.dense_text(passage))
            owners_list.append(number)
    # Fixed-size chunks in a fixed order keep the build reproducible and the progress bar honest.
    chunks = [texts[i : i + BUILD_BATCH] for i in range(0, len(texts), BUILD_BATCH)]
    batches: Iterable[list[str]] = chunks
    if progress is not None:
        batches = progress(chunks, len(chunks))
    dimension = embedder.dimension
    vectors = np.vstack([embedder.encode(chunk) for chunk in batches]) if chunks else np.zeros((0, dimension))
    owners = np.asarray(owners_list, dtype=np.int64)
    dense = DenseIndex.build(vectors, owners, len(entries))
    corpus_tokens = [normalizer.tokens(lexical_text(e)) for e in entries]
    lexical = LexicalIndex.build(corpus_tokens)
    charngrams = CharNgramIndex.build([normalizer.content_text(p) for e in entries for p in dense_passages(e)],
                                      owners_list, len(entries))
    out_of_scope = read_out_of_scope(knowledge_dir)
    scope = _scope_model(entries, out_of_scope, normalizer, eval_file)
    off_topic = _off_topic_vectors(embedder, normalizer, off_topic_texts(entries, out_of_scope, eval_file))
    decisions = train_decisions(entries, vectors, owners, out_of_scope, embedder, normalizer, settings,
                                eval_file, targets)

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".index-build-", dir=out_dir.parent))
    try:
        dense.save(staging)
        lexical.save(staging)
        charngrams.save(staging)
        if scope is not None:
            scope.save(staging)
        decision_file.save(decisions, staging)
        np.save(staging / OFF_TOPIC_FILE, off_topic, allow_pickle=False)
        _write_json(
            staging / ENTRIES_FILE,
            [{"entry": entry_to_dict(e), "tokens": t} for e, t in zip(entries, corpus_tokens, strict=True)],
        )
        _write_json(
            staging / MANIFEST_FILE,
            {
                "format": FORMAT_VERSION,
                "model": embedder.model_id,
                "dimension": embedder.dimension,
                "knowledge": knowledge_fingerprint(knowledge_dir),
                "training": training_fingerprint(settings, eval_file, targets),
                "entries": len(entries),
                "vectors": dense.n_vectors,
                "dense_index": dense.kind,
            },
        )
        publish(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir


def publish(built: Path, out_dir: Path) -> None:
    """Make the complete index in `built` the one at `out_dir`, atomically.

    `out_dir` is a symbolic link to a versioned folder; a new version is swapped in with one
    rename of a new link over the old, so a process that starts loading sees either the old
    index or the new one, whole, never a mix or nothing (and a build killed midway leaves the
    old one serving). The version before the previous one is removed; the previous one stays
    for processes that were still reading it."""
    _sync(built)
    version = built.with_name(".index-v-" + built.name.removeprefix(".index-build-"))
    built.rename(version)  # other builds running at the same time never remove a ".index-v-"
    previous = out_dir.resolve() if out_dir.is_symlink() else None
    if out_dir.exists() and not out_dir.is_symlink():
        # An index from before versioned folders: move it aside once.
        legacy = version.with_name(version.name + "-legacy")
        out_dir.rename(legacy)
        previous = legacy
    link = out_dir.parent / f".{out_dir.name}.swap-{os.getpid()}"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(version.name)
    os.replace(link, out_dir)
    keep = {version.resolve(), previous}
    for old in out_dir.parent.glob(".index-v-*"):
        if old.is_dir() and old.resolve() not in keep:
            shutil.rmtree(old, ignore_errors=True)


def _sync(folder: Path) -> None:
    """Flush the new index's files to disk before it is published (a crash right after the
    swap must not find a link to half-written files)."""
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def off_topic_texts(entries: list[Entry], out_of_scope: list[str], eval_file: Path | None) -> list[str]:
    """The off-topic messages the index keeps as vectors: the written examples and the dev half's
    off-topic messages (the same ones index/training.py leaves out fold by fold)."""
    from index.training import dev_scope_examples

    return out_of_scope + dev_scope_examples(eval_file, entries)[1]


def _off_topic_vectors(embedder: Embedder, normalizer: Normalizer, texts: list[str]) -> np.ndarray:
    if not texts:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    return np.asarray(embedder.encode_queries([normalizer.dense_text(t) for t in texts]), dtype=np.float32)


def _scope_model(
    entries: list[Entry], out_of_scope: list[str], normalizer: Normalizer, eval_file: Path | None = None
) -> ScopeModel | None:
    # Without written out-of-scope examples there is nothing to learn from: no scope check.
    if not out_of_scope:
        return None
    from index.scope import in_scope_texts
    from index.training import SCOPE_TAGS, dev_scope_examples

    in_scope = [normalizer.normalized(text) for entry in entries for text in in_scope_texts(entry)]
    if SCOPE_TAGS:
        in_scope += [normalizer.normalized(tag) for entry in entries for tag in entry.tags]
    dev_in, dev_out = dev_scope_examples(eval_file, entries)
    in_scope += [normalizer.normalized(text) for text in dev_in]
    out = [normalizer.normalized(text) for text in out_of_scope + dev_out]
    return ScopeModel.train(in_scope, out)


def read_manifest(index_dir: Path) -> dict[str, object]:
    """The manifest of a built index; raises IndexUnavailable when missing or unreadable."""
    path = index_dir / MANIFEST_FILE
    if not path.is_file():
        raise IndexUnavailable(f"no search index in {index_dir}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise IndexUnavailable(f"search index manifest {path} is unreadable ({exc})") from exc
    if not isinstance(manifest, dict):
        raise IndexUnavailable(f"search index manifest {path} is not an object")
    return manifest


def index_status(index_dir: Path, knowledge_dir: Path, model_id: str, training: str | None = None) -> IndexStatus:
    """Compare the index on disk with the knowledge folder, the configured model and (when given)
    the `training_fingerprint` of the configured search settings and evaluation file."""
    try:
        manifest = read_manifest(index_dir)
    except IndexUnavailable as exc:
        missing = not (index_dir / MANIFEST_FILE).exists()
        return IndexStatus("missing" if missing else "corrupt", exc.problem)
    if manifest.get("format") != FORMAT_VERSION:
        return IndexStatus("stale", "index was built by another version of this program")
    if manifest.get("model") != model_id:
        return IndexStatus("stale", f"index was built with model {manifest.get('model')}, config says {model_id}")
    if manifest.get("knowledge") != knowledge_fingerprint(knowledge_dir):
        return IndexStatus("stale", "the knowledge base changed since the index was built")
    if training is not None and manifest.get("training") != training:
        return IndexStatus("stale", "search settings or the dev questions changed since the index was built")
    return IndexStatus("ok", "index is up to date")


@dataclass(frozen=True)
class IndexFiles:
    """A built index read from disk, not yet joined to an encoder."""

    folder: Path
    manifest: dict[str, object]
    entries: list[Entry]
    dense: DenseIndex
    lexical: LexicalIndex
    charngrams: CharNgramIndex
    scope: ScopeModel | None
    decisions: dict[str, DecisionModel]
    off_topic: np.ndarray | None = None


def read_index(index_dir: Path) -> IndexFiles:
    """Read every part of a built index; raises IndexUnavailable naming the fix on any problem.
    Needs no encoder, so it can run while the encoder is still loading."""
    index_dir = index_dir.resolve()  # one version throughout, even if a rebuild swaps the link
    manifest = read_manifest(index_dir)
    try:
        rows = json.loads((index_dir / ENTRIES_FILE).read_text(encoding="utf-8"))
        entries = [entry_from_dict(r["entry"]) for r in rows]
        tokens = [list(r["tokens"]) for r in rows]
        dense = DenseIndex.load(index_dir, len(entries))
        lexical = LexicalIndex.load(index_dir, tokens)
        charngrams = CharNgramIndex.load(index_dir, len(entries))
        scope = ScopeModel.load(index_dir)
        decisions = decision_file.load(index_dir)
        off_topic = np.load(index_dir / OFF_TOPIC_FILE, allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - any unreadable part means: rebuild
        raise IndexUnavailable(f"search index in {index_dir} is corrupt ({type(exc).__name__}: {exc})") from exc
    if dense.n_vectors != manifest.get("vectors") or len(entries) != manifest.get("entries"):
        raise IndexUnavailable(f"search index in {index_dir} is incomplete")
    return IndexFiles(index_dir, manifest, entries, dense, lexical, charngrams, scope, decisions, off_topic)


def with_embedder(files: IndexFiles, embedder: Embedder, settings: SearchSettings | None = None) -> SearchIndex:
    """The searchable index: `files` joined to the encoder they were built with."""
    if files.manifest.get("model") != embedder.model_id:
        raise IndexUnavailable(
            f"index was built with model {files.manifest.get('model')}, but {embedder.model_id} is loaded"
        )
    if int(files.manifest.get("dimension", -1)) != embedder.dimension:  # type: ignore[call-overload]
        raise IndexUnavailable("index vectors and the model differ in dimension")
    return SearchIndex(files.entries, files.dense, files.lexical, embedder, Normalizer.default(), settings,
                       files.scope, files.charngrams, files.decisions, files.off_topic)


def load_index(
    index_dir: Path, embedder: Embedder, settings: SearchSettings | None = None
) -> SearchIndex:
    """Load a built index for searching; raises IndexUnavailable naming the fix on any problem."""
    manifest = read_manifest(index_dir)
    if manifest.get("model") != embedder.model_id:
        raise IndexUnavailable(
            f"index was built with model {manifest.get('model')}, but {embedder.model_id} is loaded"
        )
    return with_embedder(read_index(index_dir), embedder, settings)


def _file_hash(path: Path | None) -> str:
    # The raw bytes: parsing the evaluation YAML would cost every cold start ~0.1 s.
    if path is None or not path.is_file():
        return ""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
