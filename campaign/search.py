"""The one rule for what a person typed into a search box (pages and API alike)."""

from __future__ import annotations


def search_words(raw: str | None) -> str:
    """The typed text as the database can compare it: trimmed, with NUL characters dropped (PostgreSQL refuses
    a NUL inside a text literal, so ``?q=%00`` would otherwise be a server error)."""
    return (raw or "").replace("\x00", "").strip()
