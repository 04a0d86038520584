"""Errors a caller of the index package handles, importable without loading the index code."""

from __future__ import annotations


class IndexUnavailable(RuntimeError):
    """The built index is missing, stale or unreadable; `fix` names the command that repairs it."""

    def __init__(self, problem: str, fix: str = "umkm-bot build-index") -> None:
        self.problem = problem
        self.fix = fix
        super().__init__(f"{problem} — run: {fix}")
