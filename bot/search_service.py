"""Open the search index the configured way: load it, or rebuild it when missing or stale."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TextIO

from bot.config import Settings
from index import SearchIndex, build_index, index_status, load_index, load_knowledge
from index import load_embedder as load_encoder
from index.embedder import Embedder
from index.store import IndexUnavailable, training_fingerprint


def load_embedder(settings: Settings) -> Embedder:
    """The configured encoder (raises ModelNotFoundError)."""
    return load_encoder(settings.search.model)


def _training(settings: Settings) -> str:
    return training_fingerprint(settings.search_settings(), settings.knowledge.eval_file, settings.decision_targets())


def build(settings: Settings, embedder: Embedder, *, progress: bool = True) -> int:
    """Build the index (and train the answer decision) into the data folder; returns the number
    of entries indexed."""
    from tqdm import tqdm  # only when building

    entries = load_knowledge(settings.knowledge.dir)

    def bar(batches: Iterable[list[str]], total: int) -> Iterable[list[str]]:
        return tqdm(batches, total=total, desc="Embedding passages", unit="batch", disable=not progress)

    build_index(
        settings.knowledge.dir,
        settings.index_dir,
        embedder,
        entries=entries,
        progress=bar,
        settings=settings.search_settings(),
        eval_file=settings.knowledge.eval_file,
        targets=settings.decision_targets(),
    )
    return len(entries)


def open_index(
    settings: Settings,
    embedder: Embedder | None = None,
    *,
    log: TextIO | None = None,
    auto_rebuild: bool | None = None,
) -> SearchIndex:
    """Load the index; rebuild a missing or stale one when allowed, else raise naming the fix."""
    log = log or sys.stderr
    embedder = embedder or load_embedder(settings)
    status = index_status(settings.index_dir, settings.knowledge.dir, embedder.model_id, _training(settings))
    rebuild = settings.search.auto_rebuild if auto_rebuild is None else auto_rebuild
    if status.state != "ok":
        if not rebuild:
            raise IndexUnavailable(status.reason)
        print(f"{status.reason}; rebuilding the search index…", file=log)
        build(settings, embedder, progress=log.isatty())
    return load_index(settings.index_dir, embedder, settings.search_settings())
