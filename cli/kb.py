"""`doxa kb ...`: ingest documents, search them, report the knowledge base's state."""

from __future__ import annotations

import typer

from cli import kb_calibrate, kb_ingest, kb_search

app = typer.Typer(help="Knowledge base: ingest help-centre documents, search them, show status.", no_args_is_help=True)
app.command("ingest")(kb_ingest.ingest)
app.command("status")(kb_ingest.status)
app.command("search")(kb_search.search)
app.command("calibrate")(kb_calibrate.calibrate)
