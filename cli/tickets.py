"""`doxa tickets ...` (being written)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Resolved tickets in ClickHouse, the FAQ miner's source.", no_args_is_help=True)
