"""`doxa classify ...` (being written)."""

from __future__ import annotations

import typer

app = typer.Typer(help="The offline ticket classifier: fit it on labelled examples, try it.", no_args_is_help=True)
