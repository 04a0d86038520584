"""How long to wait before the next attempt after a passing failure."""

from __future__ import annotations

import random

__all__ = ["backoff_delay"]


def backoff_delay(attempt: int, base: float, cap: float, rand: random.Random | None = None) -> float:
    """Seconds before attempt `attempt + 1`: base * 2^(attempt-1), at most `cap`, with jitter
    in [half, full] of it so that rows that failed together do not come back together."""
    full = min(cap, base * 2 ** max(0, attempt - 1))
    r = (rand or random).random()
    return full * (0.5 + 0.5 * r)
