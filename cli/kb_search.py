"""`doxa kb search` (being written)."""

from __future__ import annotations

import typer


def search() -> None:
    """Search the knowledge base."""
    raise typer.Exit(1)
