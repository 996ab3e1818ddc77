"""`doxa eval ...`: measure retrieval quality, latency and confidence on labelled data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.output import EXIT_USAGE, fail
from core.errors import DoxaError
from core.settings import get_settings

if TYPE_CHECKING:
    # The evaluators pull the engines, numpy and scipy: the commands load them, `doxa eval --help` does not.
    from kb.confidence_evaluation import ConfidenceReport
    from kb.evaluation import Mode

app = typer.Typer(help="Measure retrieval and classification quality on labelled data.", no_args_is_help=True)

FaqsOption = Annotated[
    Path, typer.Option("--faqs", help="JSON Lines of {id, question, answer[, variants: [other phrasings]]}.")
]
QueriesOption = Annotated[Path, typer.Option("--queries", help="JSON Lines of {query, gold_faq_ids}.")]


@app.command("retrieval")
def retrieval(
    faqs: FaqsOption,
    queries: QueriesOption,
    mode: Annotated[str, typer.Option("--mode", help="bm25, dense or hybrid.")] = "hybrid",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object, nothing else.")] = False,
) -> None:
    """Index FAQs into a temporary collection, run the queries, print MRR@10, recall and latency."""
    from core.services import Services
    from kb.evaluation import MODES, evaluate_retrieval, load_faqs, load_queries

    if mode not in MODES:
        fail(f"--mode must be one of {', '.join(MODES)}, not {mode!r}", EXIT_USAGE)
    try:
        faq_items = load_faqs(faqs)
        labelled = load_queries(queries)
        with (
            Services.open(get_settings()) as services,
            typer.progressbar(
                length=len(faq_items), label="indexing FAQs", file=typer.get_text_stream("stderr")
            ) as bar,
        ):
            report = evaluate_retrieval(services, faq_items, labelled, _mode(mode), progress=bar.update)
    except DoxaError as exc:
        fail(str(exc), EXIT_USAGE)
    if as_json:
        typer.echo(json.dumps(report.as_dict()))
        return
    typer.echo(f"mode        {report.mode}")
    typer.echo(f"queries     {report.n_queries}")
    typer.echo(f"MRR@10      {report.mrr_at_10:.4f}")
    typer.echo(f"Recall@1    {report.recall_at_1:.4f}")
    typer.echo(f"Recall@5    {report.recall_at_5:.4f}")
    typer.echo(f"latency     p50 {report.latency_p50_ms:.1f} ms, p95 {report.latency_p95_ms:.1f} ms")


@app.command("confidence")
def confidence(
    faqs: FaqsOption,
    queries: Annotated[Path, typer.Option("--queries", help="JSON Lines of {query, gold_faq_ids, in_scope}.")],
    thresholds: Annotated[
        str, typer.Option("--thresholds", help="Comma-separated thresholds of the signal, for the curve.")
    ] = "0.10,0.20,0.30,0.40,0.50,0.60,0.70,0.80,0.90",
    signal: Annotated[
        str,
        typer.Option(
            "--signal",
            help="probability: calibrate the answer model on the FAQs given (as the service does) and report its "
            "chosen point; cosine: the plain best-cosine threshold (DOXA_KB_CONFIDENCE_THRESHOLD), the old signal.",
        ),
    ] = "probability",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object, nothing else.")] = False,
) -> None:
    """Precision, coverage, out-of-scope rejection and full accuracy of kb_confident: chosen point and curve."""
    try:
        values = [float(item) for item in thresholds.split(",") if item.strip()]
    except ValueError as exc:
        fail(f"--thresholds must be numbers separated by commas: {exc}", EXIT_USAGE)
    if signal not in ("probability", "cosine"):
        fail(f"--signal must be probability or cosine, not {signal!r}", EXIT_USAGE)
    from core.services import Services
    from kb.confidence_evaluation import evaluate_confidence
    from kb.evaluation import load_faqs, load_queries

    try:
        faq_items = load_faqs(faqs)
        labelled = load_queries(queries)
        with Services.open(get_settings()) as services:
            report = evaluate_confidence(
                services, faq_items, labelled, values, signal="cosine" if signal == "cosine" else "probability"
            )
    except DoxaError as exc:
        fail(str(exc), EXIT_USAGE)
    if as_json:
        typer.echo(json.dumps(report.as_dict()))
        return
    _print_confidence(report)


def _print_confidence(report: ConfidenceReport) -> None:
    model = report.calibration["model"]
    fitted_on = model.get("fitted_on", {})
    typer.echo(f"signal {report.signal}; model {model['kind']}, threshold {model['threshold']:.2f}")
    if "reason" in fitted_on:
        typer.echo(f"  fallback: {fitted_on['reason']}")
    typer.echo(
        f"  calibrated on {fitted_on.get('positives', 0)} held-out phrasings and {fitted_on.get('negatives', 0)}"
        " left-out FAQs' phrasings"
    )
    typer.echo("threshold  precision  coverage  out-of-scope rejected  full accuracy  precision@5  coverage@5")
    for label, p in [("chosen", report.operating_point), *(("", point) for point in report.curve)]:
        typer.echo(
            f"{p.threshold:9.2f}  {p.precision:9.3f}  {p.coverage:8.3f}  {p.out_of_scope_rejected:21.3f}"
            f"  {p.full_accuracy:13.3f}  {p.precision_top5:11.3f}  {p.coverage_top5:10.3f}  {label}"
        )


def _mode(value: str) -> Mode:
    from kb.evaluation import MODES

    for mode in MODES:
        if mode == value:
            return mode
    raise DoxaError(f"unknown mode {value!r}")
