"""`doxa kb search`: ranked passages with their cosine, fused score and keyword signals."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from cli.output import EXIT_USAGE, fail
from core.errors import DoxaError
from core.settings import get_settings

if TYPE_CHECKING:
    from kb.retrieval import KbContext, RetrievalMetadata


def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    category: Annotated[str | None, typer.Option("--category", help="Only passages of this category.")] = None,
    top_k: Annotated[int | None, typer.Option("--top-k", min=1, help="Passages to return.")] = None,
    keywords: Annotated[
        str | None, typer.Option("--keywords", help="Comma-separated keywords that boost matching passages.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the retrieve_kb_context result as JSON.")] = False,
) -> None:
    """Search the knowledge base (dense + BM25 hybrid) and show why each passage ranks where it does."""
    # The retriever and the engines (numpy, scipy, psycopg, the model) load here, not for `doxa kb --help`.
    from core.services import Services
    from kb.retrieval import HybridRetriever

    settings = get_settings()
    try:
        with Services.open(settings) as services:
            retriever = HybridRetriever.from_services(services)
            context = retriever.retrieve(
                query,
                keywords,
                category,
                top_k=top_k or settings.retrieval_top_k,
                score_threshold=settings.retrieval_score_threshold,
                kb_confidence_threshold=settings.kb_confidence_threshold,
            )
    except DoxaError as exc:
        fail(str(exc), EXIT_USAGE)
    if as_json:
        typer.echo(json.dumps(context, ensure_ascii=False, indent=2))
        return
    _print_context(context)


def _print_context(context: KbContext) -> None:
    meta = context["metadata"]
    if not context["results"]:
        typer.echo(f"No passage reaches cosine {meta['score_threshold']:.2f}.")
    for result in context["results"]:
        where = result["metadata"]
        signals = result["signals"]
        typer.secho(
            f"#{where['rank']}  cosine {result['similarity_score']:.3f}  fused {result['fused_score']:.3f}"
            f"  {where['section']}",
            bold=True,
        )
        typer.echo(
            f"    source {where['source']}"
            + (f" p.{where['page']}" if where["page"] else "")
            + f" | title BM25 {signals['title_bm25']:.2f}, body BM25 {signals['body_bm25']:.2f},"
            f" identifiers {signals['identifier_coverage']:.0%}, dense rank {signals['dense_rank'] or '-'},"
            f" keyword rank {signals['keyword_rank'] or '-'}"
        )
        text = " ".join(result["chunk_text"].split())
        typer.echo(f"    {text[:300]}{'…' if len(text) > 300 else ''}")
    typer.echo(
        f"\n{meta['chunk_count']} passage{'' if meta['chunk_count'] == 1 else 's'};"
        f" best cosine {meta['max_similarity']:.3f}; {confidence_line(meta)}"
    )


def confidence_line(meta: RetrievalMetadata) -> str:
    """What decided kb_confident: the calibrated probability against its threshold, or the cosine fallback."""
    confident = "yes" if meta["kb_confident"] else "no"
    threshold = meta["answer_threshold"]
    if meta["answer_model"] == "fallback":
        return f"kb_confident {confident} (best cosine against the uncalibrated threshold {threshold:.2f})"
    return f"answer probability {meta['answer_probability']:.2f}; kb_confident {confident} (threshold {threshold:.2f})"
