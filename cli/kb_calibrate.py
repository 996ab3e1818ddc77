"""`doxa kb calibrate`: fit the answer-confidence model on the knowledge base and show what it chose.

Without `--refit` the stored model is reused when the knowledge base has not changed since it was fitted.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cli.output import EXIT_USAGE, fail
from core.errors import DoxaError
from core.settings import get_settings

if TYPE_CHECKING:
    # The calibration stack (the engines, numpy, scipy) loads in the command, not for `doxa kb --help`.
    from core.services import Services
    from kb.calibration_store import StoredCalibration

_console = Console()


def calibrate(
    refit: Annotated[
        bool, typer.Option("--refit", help="Fit again even if the knowledge base did not change.")
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")] = False,
) -> None:
    """Fit (when the KB changed) and show the answer model: its curve, the chosen point and what it was fitted on."""
    from core.services import Services

    try:
        with Services.open(get_settings()) as services:
            stored = refit_now(services, force=refit)
    except DoxaError as exc:
        fail(str(exc), EXIT_USAGE)
    if json_output:
        typer.echo(json.dumps(stored.as_dict(), indent=2, default=str))
        return
    print_calibration(stored)


def refit_now(services: Services, *, force: bool = False) -> StoredCalibration:
    """The model for the KB as it is now: refitted when stale (or forced), else the stored one."""
    from kb.answer_feedback import AnswerFeedbackStore
    from kb.calibration_store import AnswerModelRefresher, CalibrationStore

    store = CalibrationStore(services.db, services.settings.embedding_model)
    refresher = AnswerModelRefresher(store, services.embedder, services.settings, AnswerFeedbackStore(services.db))
    refresher.refresh(force=force)
    latest = refresher.load()
    if latest is None:  # pragma: no cover - refresh stores a model whenever none exists
        raise DoxaError("no answer model could be stored")
    return latest


def print_calibration(stored: StoredCalibration) -> None:
    """The model, what it was fitted on, and its curve with the chosen threshold marked."""
    model = stored.model
    fitted_on: dict[str, Any] = model.fitted_on
    _console.print(
        f"answer model [bold]{model.kind}[/bold], threshold {model.threshold:.2f},"
        f" fitted {stored.fitted_at:%Y-%m-%d %H:%M} UTC in {stored.seconds:.1f} s"
        f" on KB revision {stored.state.kb_revision} (FAQs {stored.state.faq_fingerprint})"
    )
    _console.print(
        f"probes: {fitted_on.get('positives', 0)} held-out phrasings or titles (answerable),"
        f" {fitted_on.get('negatives', 0)} asked with their FAQ or document left out;"
        f" {fitted_on.get('units', 0)} FAQs and documents; {fitted_on.get('extra_labels', 0)} feedback labels used"
    )
    if model.kind == "fallback":
        _console.print(
            f"[yellow]fallback: {fitted_on.get('reason', '')} - kb_confident = best cosine >= "
            f"{model.threshold:.2f}[/yellow]"
        )
        return
    reached = fitted_on.get("reached", {})
    _console.print(
        f"chosen: the lowest threshold at which precision >= {fitted_on.get('target_precision')} and at most"
        f" {fitted_on.get('max_out_of_scope_confident')} of the left-out questions are confident (cautious 90% bounds);"
        f" there precision is {reached.get('precision')} (>= {reached.get('precision_lower')}), coverage"
        f" {reached.get('coverage')}, negatives rejected {reached.get('negatives_rejected')}"
        f" (confident <= {reached.get('negatives_confident_upper')})"
    )
    table = Table(
        "threshold", "precision", "lower bound", "coverage", "negatives rejected", "", title="calibration curve"
    )
    for point in stored.curve:
        mark = "chosen" if point.threshold == model.threshold else ""
        table.add_row(
            f"{point.threshold:.2f}",
            f"{point.precision:.3f}",
            f"{point.precision_lower:.3f}",
            f"{point.coverage:.3f}",
            f"{point.negatives_rejected:.3f}",
            mark,
        )
    _console.print(table)
