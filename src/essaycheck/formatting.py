"""How numbers and text are shown to people, the same way on every page and in every file."""

from __future__ import annotations


def format_number(value: float | None) -> str:
    """A score or weight as a person writes it: ``2`` not ``2.0``, ``1.5``; ``""`` for None."""
    return "" if value is None else f"{value:g}"
