"""Open the search index the configured way: load it, or rebuild it when missing or stale."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TextIO

from tqdm import tqdm

from bot.config import Settings
from index import (
    SearchIndex,
    SentenceTransformerEmbedder,
    build_index,
    index_status,
    load_index,
    load_knowledge,
)
from index.embedder import Embedder
from index.store import IndexUnavailable


def load_embedder(settings: Settings) -> Embedder:
    """The configured sentence-transformers model (raises ModelNotFoundError)."""
    return SentenceTransformerEmbedder(settings.search.model)


def build(settings: Settings, embedder: Embedder, *, progress: bool = True) -> int:
    """Build the index into the data folder; returns the number of entries indexed."""
    entries = load_knowledge(settings.knowledge.dir)

    def bar(batches: Iterable[list[str]], total: int) -> Iterable[list[str]]:
        return tqdm(batches, total=total, desc="Embedding passages", unit="batch", disable=not progress)

    build_index(
        settings.knowledge.dir,
        settings.index_dir,
        embedder,
        granularity=settings.search.granularity,
        entries=entries,
        progress=bar,
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
    status = index_status(settings.index_dir, settings.knowledge.dir, embedder.model_id)
    rebuild = settings.search.auto_rebuild if auto_rebuild is None else auto_rebuild
    if status.state != "ok":
        if not rebuild:
            raise IndexUnavailable(status.reason)
        print(f"{status.reason}; rebuilding the search index…", file=log)
        build(settings, embedder, progress=log.isatty())
    return load_index(settings.index_dir, embedder, settings.search_settings())
