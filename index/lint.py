"""`kb lint`: problems in the knowledge base, each naming the file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.embedder import Embedder
from index.entries import Entry, KnowledgeError, knowledge_files, parse_entry
from index.scope import OUT_OF_SCOPE_FILE, in_scope_texts, read_out_of_scope


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one knowledge file."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def lint_knowledge(
    folder: Path, embedder: Embedder | None = None, near_duplicate: float = 0.9
) -> tuple[list[Entry], list[Problem]]:
    """Check every entry (schema, unique ids, related links, sources, length, near duplicates).

    Unlike `load_knowledge`, it keeps going after a bad file so one run lists every problem.
    """
    problems: list[Problem] = []
    entries: list[Entry] = []
    files = knowledge_files(folder)
    if not files:
        return [], [Problem(str(folder), "no entries found")]
    for path in files:
        try:
            entries.append(parse_entry(path, path.read_text(encoding="utf-8")))
        except KnowledgeError as exc:
            problems.append(Problem(exc.path, f"field '{exc.field}': {exc.problem}"))
    by_id: dict[str, Entry] = {}
    for entry in entries:
        if entry.id in by_id:
            problems.append(Problem(entry.path, f"id '{entry.id}' is also used by {by_id[entry.id].path}"))
        by_id.setdefault(entry.id, entry)
    for entry in entries:
        for rel in entry.related:
            if rel not in by_id:
                problems.append(Problem(entry.path, f"field 'related': unknown entry id '{rel}'"))
            elif rel == entry.id:
                problems.append(Problem(entry.path, "field 'related': links to itself"))
        if len(set(q.lower() for q in entry.questions)) < len(entry.questions):
            problems.append(Problem(entry.path, "field 'questions': the same question twice"))
    problems.extend(_contradicting_examples(folder, entries))
    if embedder is not None and len(entries) > 1:
        problems.extend(_near_duplicates(entries, embedder, near_duplicate))
    return entries, problems


def _contradicting_examples(folder: Path, entries: list[Entry]) -> list[Problem]:
    """An out-of-scope example that is also an entry's question would teach both answers."""
    asked = {text.strip().lower(): entry for entry in entries for text in in_scope_texts(entry)}
    return [
        Problem(str(folder / OUT_OF_SCOPE_FILE), f"'{line}' is also a question of {asked[line.lower()].path}")
        for line in read_out_of_scope(folder)
        if line.lower() in asked
    ]


def _near_duplicates(entries: list[Entry], embedder: Embedder, threshold: float) -> list[Problem]:
    vectors = embedder.encode([" ".join([e.title, *e.questions, e.summary]) for e in entries])
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -1.0)
    problems = []
    for i, j in zip(*np.nonzero(np.triu(similarity >= threshold)), strict=True):
        problems.append(
            Problem(
                entries[i].path,
                f"near-duplicate of {entries[j].path} (similarity {similarity[i, j]:.2f}); "
                "merge them or make each one's subject distinct",
            )
        )
    return problems
