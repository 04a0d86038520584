"""Search over the knowledge base: load entries, normalise Indonesian, embed, BM25, fuse, decide.

This package knows nothing of Telegram or the database (it never imports `bot`). Its names are
imported on first use, so that a program can start loading the encoder (index.embedder) while
the rest — FAISS, the index files — is still being imported and read; and importing it imports
no encoder library: the configured encoder is loaded by `load_embedder`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

_WHERE = {
    "Decision": "index.decision",
    "Targets": "index.settings",
    "SearchSettings": "index.settings",
    "DEFAULT_MODEL": "index.embedder",
    "Embedder": "index.embedder",
    "ModelNotFoundError": "index.embedder",
    "load_embedder": "index.embedder",
    "TOPICS": "index.entries",
    "Entry": "index.entries",
    "KnowledgeError": "index.entries",
    "load_knowledge": "index.entries",
    "Normalizer": "index.normalize",
    "MODES": "index.search",
    "Hit": "index.search",
    "Mode": "index.search",
    "SearchIndex": "index.search",
    "SearchResult": "index.search",
    "IndexUnavailable": "index.errors",
    "IndexStatus": "index.store",
    "build_index": "index.store",
    "index_status": "index.store",
    "load_index": "index.store",
    # The sentence-transformers adapter imports torch when used.
    "SentenceTransformerEmbedder": "index.encoders.sentence_transformers",
}
__all__ = [
    "DEFAULT_MODEL",
    "Decision",
    "Embedder",
    "Entry",
    "Hit",
    "IndexStatus",
    "IndexUnavailable",
    "KnowledgeError",
    "MODES",
    "Mode",
    "ModelNotFoundError",
    "Normalizer",
    "SearchIndex",
    "SearchResult",
    "SearchSettings",
    "SentenceTransformerEmbedder",
    "TOPICS",
    "Targets",
    "build_index",
    "index_status",
    "load_embedder",
    "load_index",
    "load_knowledge",
]

if TYPE_CHECKING:
    from index.decision import Decision
    from index.embedder import DEFAULT_MODEL, Embedder, ModelNotFoundError, load_embedder
    from index.encoders.sentence_transformers import SentenceTransformerEmbedder
    from index.entries import TOPICS, Entry, KnowledgeError, load_knowledge
    from index.errors import IndexUnavailable
    from index.normalize import Normalizer
    from index.search import MODES, Hit, Mode, SearchIndex, SearchResult
    from index.settings import SearchSettings, Targets
    from index.store import IndexStatus, build_index, index_status, load_index


def __getattr__(name: str) -> object:
    if name not in _WHERE:
        raise AttributeError(f"module 'index' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value
