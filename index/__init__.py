"""Search over the knowledge base: load entries, normalise Indonesian, embed, BM25, fuse, decide.

This package knows nothing of Telegram or the database (it never imports `bot`).
"""

from index.embedder import DEFAULT_MODEL, Embedder, ModelNotFoundError, SentenceTransformerEmbedder
from index.entries import TOPICS, Entry, KnowledgeError, load_knowledge
from index.normalize import Normalizer
from index.search import MODES, Hit, Mode, SearchIndex, SearchResult, SearchSettings
from index.store import IndexStatus, IndexUnavailable, build_index, index_status, load_index

__all__ = [
    "DEFAULT_MODEL",
    "MODES",
    "TOPICS",
    "Embedder",
    "Entry",
    "Hit",
    "IndexStatus",
    "IndexUnavailable",
    "KnowledgeError",
    "Mode",
    "ModelNotFoundError",
    "Normalizer",
    "SearchIndex",
    "SearchResult",
    "SearchSettings",
    "SentenceTransformerEmbedder",
    "build_index",
    "index_status",
    "load_index",
    "load_knowledge",
]
