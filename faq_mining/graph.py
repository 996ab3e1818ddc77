"""The FAQ-mining graph, in the order of its pipeline (docs/design.md §8).

fetch -> prefilter -> skip_staged -> redact_pii -> cluster -> compare -> analyze -> validate -> stage
-> advance_watermark -> (a review per staged candidate | done). Steps with nothing left to work on pass
straight through; each review branch waits in an `interrupt()` until a person decides.
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph
from langgraph.types import Send

from core.graph_runtime.retry import STORAGE_RETRY
from faq_mining.nodes.advance_watermark import advance_watermark
from faq_mining.nodes.analyze import analyze
from faq_mining.nodes.cluster import cluster
from faq_mining.nodes.compare import compare
from faq_mining.nodes.context import MiningContext
from faq_mining.nodes.fetch import fetch
from faq_mining.nodes.prefilter import prefilter
from faq_mining.nodes.redact_pii import redact_pii
from faq_mining.nodes.request_review import request_review
from faq_mining.nodes.skip_staged import skip_staged
from faq_mining.nodes.stage import stage
from faq_mining.nodes.validate import validate
from faq_mining.state import MiningInput, MiningOutput, MiningState, ReviewTask

# Storage steps retry database hiccups (STORAGE_RETRY). `stage` is not retried as a whole: a retry would
# stage again the drafts that had already been staged (their claims would then count them as duplicates of
# themselves).


def route_after_watermark(state: MiningState) -> list[Send] | str:
    """One review branch per staged candidate, or the end when nothing was staged."""
    staged = state.get("staged", [])
    if not staged:
        return "done"
    return [Send("request_review", ReviewTask(request=request, run_id=state["run_id"])) for request in staged]


def build_mining_graph() -> StateGraph[MiningState, MiningContext, MiningInput, MiningOutput]:
    """The uncompiled builder; callers compile it with the checkpointer they own."""
    builder = StateGraph(
        MiningState, context_schema=MiningContext, input_schema=MiningInput, output_schema=MiningOutput
    )
    builder.add_node(fetch, retry_policy=STORAGE_RETRY)
    builder.add_node(prefilter)
    builder.add_node(skip_staged, retry_policy=STORAGE_RETRY)
    builder.add_node(redact_pii)
    builder.add_node(cluster)
    builder.add_node(compare, retry_policy=STORAGE_RETRY)
    builder.add_node(analyze)
    builder.add_node(validate, retry_policy=STORAGE_RETRY)
    builder.add_node(stage)
    builder.add_node(advance_watermark, retry_policy=STORAGE_RETRY)
    builder.add_node(request_review, input_schema=ReviewTask)

    builder.add_edge(START, "fetch")
    builder.add_edge("fetch", "prefilter")
    builder.add_edge("prefilter", "skip_staged")
    builder.add_edge("skip_staged", "redact_pii")
    builder.add_edge("redact_pii", "cluster")
    builder.add_edge("cluster", "compare")
    builder.add_edge("compare", "analyze")
    builder.add_edge("analyze", "validate")
    builder.add_edge("validate", "stage")
    builder.add_edge("stage", "advance_watermark")
    builder.add_conditional_edges(
        "advance_watermark", route_after_watermark, {"done": END, "request_review": "request_review"}
    )
    builder.add_edge("request_review", END)
    return builder
