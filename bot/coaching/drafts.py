"""Knowledge drafts as entry files: what a coach answered, in the knowledge format, for an editor
to review, source and commit (drafts never reach the index by themselves)."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from pathlib import Path

import yaml

from bot.storage import KnowledgeDraft, Repositories

__all__ = ["draft_file_text", "export_drafts", "slug"]

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str, limit: int = 40) -> str:
    """A lower-case kebab id from a question ("Gmn izin PIRT?" -> "gmn-izin-pirt")."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = _NOT_SLUG.sub("-", ascii_text).strip("-")
    return words[:limit].rstrip("-") or "draf"


def draft_file_text(draft: KnowledgeDraft, topic: str | None, today: str) -> str:
    """An entry file filled as far as known; `sources`, English texts and steps are left for the
    editor (the loader rejects the file until they are filled, on purpose)."""
    entry_id = f"draf-{draft.id}-{slug(draft.question)}"
    front = {
        "id": entry_id,
        "title": draft.question.strip()[:120],
        "title_en": "",
        "topic": topic or "",
        "tags": [],
        "questions": [draft.question.strip()],
        "questions_en": [],
        "related": [draft.entry_id] if draft.entry_id else [],
        "sources": [],
        "updated": today,
    }
    header = yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=100).strip()
    answer = " ".join(draft.answer.split())
    return (
        f"---\n{header}\n---\n"
        f"<!-- Draft #{draft.id} from a coach's answer. Before committing: shorten the answer below to\n"
        f"at most 300 characters, write the steps and where to get help, add at least 6 phone-style\n"
        f"questions and 2 English ones, an English title, and at least one official source. -->\n"
        f"{answer}\n\n## Langkah\n1. \n\n## Bantuan\n- \n"
    )


def export_drafts(
    repos: Repositories,
    folder: Path,
    now: datetime,
    *,
    include_exported: bool = False,
    knowledge_dir: Path | None = None,
) -> list[Path]:
    """Write each (new) draft to `folder` and mark it exported; the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    exported = []
    today = now.date().isoformat()
    for draft in repos.handoffs.drafts(unexported_only=not include_exported):
        topic = _topic_of(draft.entry_id, knowledge_dir) if knowledge_dir else None
        path = folder / f"draf-{draft.id}-{slug(draft.question)}.md"
        path.write_text(draft_file_text(draft, topic, today), encoding="utf-8")
        written.append(path)
        exported.append(draft.id)
    repos.handoffs.mark_exported(exported, at=now)
    return written


def _topic_of(entry_id: str | None, knowledge_dir: Path) -> str | None:
    """The topic folder of the entry the bot had answered with: the draft's likely topic."""
    if not entry_id:
        return None
    found = list(knowledge_dir.glob(f"*/{entry_id}.md"))
    return found[0].parent.name if found else None
