"""Open the search index the configured way: load it, or rebuild it when missing or stale.

The encoder takes most of a cold start (seconds); it loads in a background thread while FAISS
and the index files are imported and read here, so a first answer costs little more than the
encoder itself. Index code is imported inside the functions for the same reason.
"""

from __future__ import annotations

import fcntl
import shutil
import sys
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.config import Settings
from index.embedder import Embedder
from index.embedder import load_embedder as load_encoder
from index.errors import IndexUnavailable

if TYPE_CHECKING:
    from index.entries import Entry
    from index.search import SearchIndex

# Beside the index link in the data folder; held while a build runs (see build_lock).
BUILD_LOCK_FILE = ".index-build.lock"


def load_embedder(settings: Settings) -> Embedder:
    """The configured encoder (raises ModelNotFoundError)."""
    return load_encoder(settings.search.model)


def _training(settings: Settings) -> str:
    from index.store import training_fingerprint

    return training_fingerprint(settings.search_settings(), settings.knowledge.eval_file, settings.decision_targets())


def build(settings: Settings, embedder: Embedder, *, progress: bool = True) -> int:
    """Build the index (and train the answer decision) into the data folder; returns the number
    of entries indexed. One build at a time per data folder; what a killed build left behind is
    removed first. Until the new index is complete, the old one stays in place and in use."""
    from index.entries import load_knowledge

    entries = load_knowledge(settings.knowledge.dir)
    with build_lock(settings.index_dir.parent):
        removed = remove_abandoned_builds(settings.index_dir)
        if removed:
            print(f"removed {len(removed)} unfinished index build(s) left by a stopped process", file=sys.stderr)
        _build(settings, embedder, entries, progress=progress)
    return len(entries)


@contextmanager
def build_lock(folder: Path) -> Iterator[None]:
    """One index build at a time in a data folder (a second waits for the first). The lock is a
    flock on a file beside the index, so the system drops it when its holder dies, even killed."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / BUILD_LOCK_FILE).open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def remove_abandoned_builds(index_dir: Path) -> list[Path]:
    """What a build killed midway left beside `index_dir`: its staging folder (index/store.py
    writes a new index into `.index-build-*`, then publishes it with one rename) and a swap link
    it had not renamed yet. Call it only under `build_lock`: no build is running then. The index
    that `index_dir` points to is never touched."""
    parent = index_dir.parent
    leftovers = [p for p in parent.glob(".index-build-*") if p.is_dir() and not p.is_symlink()]
    leftovers += [p for p in parent.glob(f".{index_dir.name}.swap-*") if p.is_symlink()]
    for path in leftovers:
        if path.is_symlink():
            path.unlink(missing_ok=True)
        else:
            shutil.rmtree(path, ignore_errors=True)
    return leftovers


def _build(settings: Settings, embedder: Embedder, entries: list[Entry], *, progress: bool) -> None:
    from tqdm import tqdm

    from index.store import build_index

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


def open_index(
    settings: Settings,
    embedder: Embedder | None = None,
    *,
    log: TextIO | None = None,
    auto_rebuild: bool | None = None,
) -> SearchIndex:
    """Load the index; rebuild a missing or stale one when allowed, else raise naming the fix."""
    log = log or sys.stderr
    rebuild = settings.search.auto_rebuild if auto_rebuild is None else auto_rebuild
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="load-encoder") as pool:
        loading = pool.submit(load_embedder, settings) if embedder is None else None
        from index.store import index_status, read_index, with_embedder

        # Every encoder's model_id is the configured name, so the check needs no loaded encoder.
        model_id = embedder.model_id if embedder is not None else settings.search.model
        status = index_status(settings.index_dir, settings.knowledge.dir, model_id, _training(settings))
        if status.state != "ok":
            if not rebuild:
                raise IndexUnavailable(status.reason)
            print(f"{status.reason}; rebuilding the search index…", file=log)
            embedder = embedder or loading.result()  # type: ignore[union-attr]
            build(settings, embedder, progress=log.isatty())
        files = read_index(settings.index_dir)
        embedder = embedder or loading.result()  # type: ignore[union-attr]
    return with_embedder(files, embedder, settings.search_settings())
