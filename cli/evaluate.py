"""`doxa eval ...` (being written)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Measure retrieval and classification quality on labelled data.", no_args_is_help=True)
