"""Counts in words, for every message taskkit prints: ``1 task``, ``2,001 tasks``."""

from typing import Any

__all__ = ["plural"]


def plural(n: Any, one: str, many: str | None = None) -> str:
    """``n`` with thousands separators and the word that goes with it: ``1 task``,
    ``2,001 tasks``, ``1 status change``; ``many`` where adding an ``s`` is wrong."""
    return f"{int(n):,} {one if int(n) == 1 else (many or one + 's')}"
