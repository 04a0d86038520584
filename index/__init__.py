"""Search over the knowledge base: load entries, normalise Indonesian, embed, BM25, fuse, decide.

This package knows nothing of Telegram or the database (it never imports `bot`), and importing it
imports no encoder library: the configured encoder is loaded by `load_embedder`.
"""

from index.decision import Decision, Targets
from index.embedder import DEFAULT_MODEL, Embedder, ModelNotFoundError, load_embedder
from index.entries import TOPICS, Entry, KnowledgeError, load_knowledge
from index.normalize import Normalizer
from index.search import MODES, Hit, Mode, SearchIndex, SearchResult, SearchSettings
from index.store import IndexStatus, IndexUnavailable, build_index, index_status, load_index

__all__ = [
    "DEFAULT_MODEL",
    "MODES",
    "TOPICS",
    "Decision",
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
    "Targets",
    "build_index",
    "index_status",
    "load_embedder",
    "load_index",
    "load_knowledge",
]


def __getattr__(name: str) -> object:
    # The sentence-transformers adapter imports torch when used; resolve it only on request.
    if name == "SentenceTransformerEmbedder":
        from index.encoders.sentence_transformers import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder
    raise AttributeError(name)
