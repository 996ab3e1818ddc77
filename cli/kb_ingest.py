"""`doxa kb ingest` and `doxa kb status` (being written)."""

from __future__ import annotations

import typer


def ingest() -> None:
    """Ingest files or directories into the knowledge base."""
    raise typer.Exit(1)


def status() -> None:
    """Show the knowledge base's documents, chunks and vector store health."""
    raise typer.Exit(1)
