"""Knowledge entries: parse `knowledge/<topic>/<id>.md` files and validate them."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

TOPICS: tuple[str, ...] = ("production", "finance", "packaging", "market", "legal", "organization")
SUMMARY_MAX_CHARS = 300
BODY_MAX_CHARS = 1500
MIN_QUESTIONS = 6
MIN_QUESTIONS_EN = 2
STEPS_HEADING = "## Langkah"
HELP_HEADING = "## Bantuan"

_ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n(.*)\Z", re.DOTALL)


class KnowledgeError(ValueError):
    """A knowledge file is malformed; the message names the file and the field."""

    def __init__(self, path: Path | str, field: str, problem: str) -> None:
        self.path = str(path)
        self.field = field
        self.problem = problem
        super().__init__(f"{self.path}: field '{field}': {problem}")


class Source(BaseModel):
    """A public source an entry is based on."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=3)
    url: str = Field(pattern=r"^https?://\S+$")


class FrontMatter(BaseModel):
    """The YAML header of an entry, validated."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=_ID_PATTERN.pattern)
    title: str = Field(min_length=5, max_length=120)
    title_en: str = Field(min_length=5, max_length=140)
    topic: str
    tags: list[str] = Field(min_length=1)
    questions: list[str] = Field(min_length=MIN_QUESTIONS)
    questions_en: list[str] = Field(min_length=MIN_QUESTIONS_EN)
    related: list[str] = Field(default_factory=list)
    sources: list[Source] = Field(min_length=1)
    updated: dt.date

    @field_validator("topic")
    @classmethod
    def _known_topic(cls, value: str) -> str:
        if value not in TOPICS:
            raise ValueError(f"must be one of {', '.join(TOPICS)}")
        return value

    @field_validator("tags", "questions", "questions_en")
    @classmethod
    def _non_blank_items(cls, values: list[str]) -> list[str]:
        cleaned = [str(v).strip() for v in values]
        if any(not v for v in cleaned):
            raise ValueError("has an empty item")
        return cleaned


@dataclass(frozen=True)
class Entry:
    """One validated knowledge entry."""

    id: str
    title: str
    title_en: str
    topic: str
    tags: tuple[str, ...]
    questions: tuple[str, ...]
    questions_en: tuple[str, ...]
    related: tuple[str, ...]
    sources: tuple[Source, ...]
    updated: dt.date
    summary: str
    steps: tuple[str, ...]
    help: str
    body: str
    path: str

    def plain_text(self) -> str:
        """The full answer as plain text (summary, numbered steps, where to get help)."""
        steps = "\n".join(f"{n}. {step}" for n, step in enumerate(self.steps, start=1))
        return f"{self.summary}\n\nLangkah:\n{steps}\n\nBantuan:\n{self.help}"


def _split_body(path: Path, body: str) -> tuple[str, tuple[str, ...], str]:
    body = body.strip()
    if STEPS_HEADING not in body:
        raise KnowledgeError(path, "body", f"missing the '{STEPS_HEADING}' section")
    if HELP_HEADING not in body:
        raise KnowledgeError(path, "body", f"missing the '{HELP_HEADING}' section")
    summary, rest = body.split(STEPS_HEADING, 1)
    steps_text, help_text = rest.split(HELP_HEADING, 1)
    summary = " ".join(summary.split())
    if not summary:
        raise KnowledgeError(path, "body", "the short answer before 'Langkah' is empty")
    if summary.startswith("#"):
        raise KnowledgeError(path, "body", "the short answer must be a paragraph, not a heading")
    if len(summary) > SUMMARY_MAX_CHARS:
        raise KnowledgeError(
            path, "body", f"short answer has {len(summary)} characters (at most {SUMMARY_MAX_CHARS})"
        )
    steps = tuple(
        m.group(1).strip() for m in re.finditer(r"^\s*\d+[.)]\s+(.+)$", steps_text, re.MULTILINE)
    )
    if not steps:
        raise KnowledgeError(path, "body", "'Langkah' has no numbered steps")
    help_text = help_text.strip()
    if not help_text:
        raise KnowledgeError(path, "body", "'Bantuan' is empty")
    if len(body) > BODY_MAX_CHARS:
        raise KnowledgeError(
            path, "body", f"body has {len(body)} characters (at most {BODY_MAX_CHARS}); split it"
        )
    return summary, steps, help_text


def parse_entry(path: Path, text: str) -> Entry:
    """Parse and validate one entry file's text. Raises KnowledgeError."""
    match = _FRONT_MATTER.match(text.replace("\r\n", "\n"))
    if not match:
        raise KnowledgeError(path, "front matter", "must start with a '---' YAML block closed by '---'")
    import yaml  # only when reading knowledge files, not when loading a built index

    try:
        raw = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        raise KnowledgeError(path, "front matter", f"invalid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise KnowledgeError(path, "front matter", "must be a mapping of fields")
    try:
        meta = FrontMatter.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "front matter"
        raise KnowledgeError(path, field, first["msg"]) from exc
    if meta.id != path.stem:
        raise KnowledgeError(path, "id", f"'{meta.id}' differs from the file name '{path.stem}'")
    if path.parent.name in TOPICS and meta.topic != path.parent.name:
        raise KnowledgeError(path, "topic", f"'{meta.topic}' differs from the folder '{path.parent.name}'")
    summary, steps, help_text = _split_body(path, match.group(2))
    return Entry(
        id=meta.id,
        title=meta.title,
        title_en=meta.title_en,
        topic=meta.topic,
        tags=tuple(meta.tags),
        questions=tuple(meta.questions),
        questions_en=tuple(meta.questions_en),
        related=tuple(meta.related),
        sources=tuple(meta.sources),
        updated=meta.updated,
        summary=summary,
        steps=steps,
        help=help_text,
        body=match.group(2).strip(),
        path=str(path),
    )


def knowledge_files(folder: Path) -> list[Path]:
    """Entry files under the topic folders, in a stable order."""
    return sorted(p for topic in TOPICS for p in (folder / topic).glob("*.md"))


def load_knowledge(folder: Path | str, *, check_related: bool = True) -> list[Entry]:
    """Load every entry under `folder/<topic>/*.md`, validated; raises KnowledgeError."""
    folder = Path(folder)
    if not folder.is_dir():
        raise KnowledgeError(folder, "folder", "knowledge folder not found")
    entries = [parse_entry(p, p.read_text(encoding="utf-8")) for p in knowledge_files(folder)]
    if not entries:
        raise KnowledgeError(folder, "folder", f"no entries found under {', '.join(TOPICS)}")
    seen: dict[str, str] = {}
    for entry in entries:
        if entry.id in seen:
            raise KnowledgeError(entry.path, "id", f"'{entry.id}' is also used by {seen[entry.id]}")
        seen[entry.id] = entry.path
    if check_related:
        for entry in entries:
            for rel in entry.related:
                if rel not in seen:
                    raise KnowledgeError(entry.path, "related", f"unknown entry id '{rel}'")
                if rel == entry.id:
                    raise KnowledgeError(entry.path, "related", "an entry cannot link to itself")
    return entries


def content_hash(files: Iterable[Path], root: Path) -> str:
    """A SHA-256 over file names and bytes, independent of the machine's paths."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def entry_to_dict(entry: Entry) -> dict[str, object]:
    """A JSON-ready form of an entry (what the built index stores for display)."""
    return {
        "id": entry.id,
        "title": entry.title,
        "title_en": entry.title_en,
        "topic": entry.topic,
        "tags": list(entry.tags),
        "questions": list(entry.questions),
        "questions_en": list(entry.questions_en),
        "related": list(entry.related),
        "sources": [s.model_dump() for s in entry.sources],
        "updated": entry.updated.isoformat(),
        "summary": entry.summary,
        "steps": list(entry.steps),
        "help": entry.help,
        "body": entry.body,
        # Relative, so a build on another machine writes the same bytes.
        "path": f"{entry.topic}/{entry.id}.md",
    }


def entry_from_dict(data: dict[str, object]) -> Entry:
    """Inverse of `entry_to_dict`."""
    return Entry(
        id=str(data["id"]),
        title=str(data["title"]),
        title_en=str(data["title_en"]),
        topic=str(data["topic"]),
        tags=tuple(data["tags"]),  # type: ignore[arg-type]
        questions=tuple(data["questions"]),  # type: ignore[arg-type]
        questions_en=tuple(data["questions_en"]),  # type: ignore[arg-type]
        related=tuple(data["related"]),  # type: ignore[arg-type]
        sources=tuple(Source.model_validate(s) for s in data["sources"]),  # type: ignore[attr-defined]
        updated=dt.date.fromisoformat(str(data["updated"])),
        summary=str(data["summary"]),
        steps=tuple(data["steps"]),  # type: ignore[arg-type]
        help=str(data["help"]),
        body=str(data["body"]),
        path=str(data["path"]),
    )
