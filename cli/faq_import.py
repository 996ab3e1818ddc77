"""`doxa faq import`: load curated FAQs, with the ways each is asked, straight into the production table."""

from __future__ import annotations

import getpass
import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from cli.output import EXIT_USAGE, fail
from cli.services import open_services
from core.errors import DoxaError


def import_file(
    path: Annotated[Path, typer.Argument(help="JSON Lines: {question, answer[, id][, tags][, variants]} per line.")],
    actor: Annotated[
        str | None, typer.Option("--actor", help="Who imports it, for the audit trail (default: your user name).")
    ] = None,
    keep_shared_answers: Annotated[
        bool,
        typer.Option(
            "--keep-shared-answers",
            help="Import rows that give the same answer as separate FAQs (default: one FAQ, asked each row's way).",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Import curated FAQs into production (no review: the file is the reviewed source).

    Every line is checked first and the import is one transaction: a bad line writes nothing. Re-running
    is safe: an FAQ whose question is already live is kept and only gains the variants it lacks. Each
    variant is a phrasing of its own, so customers who ask that way find the FAQ. Rows that give the same
    answer (an intent list exported one phrase per row) are one FAQ, asked each row's way, unless
    --keep-shared-answers (distinct questions with one generic answer keep their own titles).
    """
    from faq_mining.faq_import import import_faqs, read_faq_file
    from faq_mining.faq_store import FaqStore

    try:
        rows = read_faq_file(path, fold=not keep_shared_answers)
        with open_services() as services:
            result = import_faqs(
                FaqStore.from_services(services),
                services.embedder,
                rows,
                actor=actor or getpass.getuser(),
                source=path.name,
            )
    except DoxaError as exc:
        fail(str(exc), EXIT_USAGE)
    if as_json:
        typer.echo(json.dumps(asdict(result)))
        return
    folded = f" ({result.rows_folded} row(s) gave an earlier row's answer: imported as its variants)"
    typer.echo(
        f"{len(result.created)} FAQ(s) created, {len(result.existing)} already live;"
        f" {result.phrasings_added} phrasing(s) added{folded if result.rows_folded else ''}"
    )
