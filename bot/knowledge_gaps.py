"""What to write next: questions the bot could not answer, answers rated 👎 and questions members
handed to their coaches, grouped by meaning with counts and examples, most frequent first."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from sklearn.cluster import AgglomerativeClustering
from sqlalchemy import select

from bot.storage import HandoffMessage, HandoffThread, QuestionLog, Repositories
from index.embedder import Embedder
from index.normalize import Normalizer

__all__ = ["Gap", "GapItem", "collect_gaps", "group_gaps"]

# Two questions closer than this (cosine distance, average linkage) are the same gap.
DISTANCE_THRESHOLD = 0.35


@dataclass(frozen=True)
class GapItem:
    """One message that shows a hole: kind is "unanswered", "thumbs_down" or "handoff"."""

    kind: str
    text: str
    at: datetime
    entry_id: str | None = None  # what the bot answered with, if anything


@dataclass
class Gap:
    """Similar messages grouped together."""

    items: list[GapItem] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.items)

    @property
    def kinds(self) -> Counter[str]:
        return Counter(item.kind for item in self.items)

    @property
    def examples(self) -> list[str]:
        seen: dict[str, None] = {}
        for item in self.items:
            seen.setdefault(item.text.strip(), None)
        return list(seen)[:3]

    @property
    def entries(self) -> Counter[str]:
        return Counter(item.entry_id for item in self.items if item.entry_id)


def collect_gaps(repos: Repositories, since: datetime) -> list[GapItem]:
    """Every unanswered question, 👎-rated answer and coach hand-off question since `since`."""
    items: list[GapItem] = []
    rows = repos.session.scalars(
        select(QuestionLog).where(
            QuestionLog.created_at >= since,
            QuestionLog.text != "",
            (QuestionLog.answered.is_(False)) | (QuestionLog.feedback == "down"),
        )
    )
    for row in rows:
        kind = "thumbs_down" if row.feedback == "down" else "unanswered"
        entry = row.top_ids[0] if row.answered and row.top_ids else None
        items.append(GapItem(kind, row.text, row.created_at, entry))
    handed = repos.session.execute(
        select(HandoffMessage.text, HandoffMessage.created_at, HandoffThread.entry_id)
        .join(HandoffThread, HandoffThread.id == HandoffMessage.thread_id)
        .where(HandoffMessage.author == "member", HandoffMessage.created_at >= since)
    )
    items.extend(GapItem("handoff", text, at, entry) for text, at, entry in handed)
    return items


def group_gaps(items: list[GapItem], embedder: Embedder, normalizer: Normalizer | None = None) -> list[Gap]:
    """Group items by meaning (the search's own encoder), biggest groups first."""
    if not items:
        return []
    if len(items) == 1:
        return [Gap([items[0]])]
    normalizer = normalizer or Normalizer.default()
    vectors = embedder.encode([normalizer.dense_text(item.text) for item in items])
    labels = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=DISTANCE_THRESHOLD
    ).fit_predict(np.asarray(vectors))
    groups: dict[int, Gap] = {}
    for label, item in zip(labels, items, strict=True):
        groups.setdefault(int(label), Gap()).items.append(item)
    return sorted(groups.values(), key=lambda g: (-g.count, -max(i.at for i in g.items).timestamp()))
