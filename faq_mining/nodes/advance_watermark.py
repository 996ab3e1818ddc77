"""advance_watermark: record where this run stopped, once its whole batch is staged."""

from __future__ import annotations

import logging
from typing import Any

from langgraph.runtime import Runtime

from core.errors import ConflictError
from faq_mining.nodes.context import MiningContext, mining_context
from faq_mining.state import MiningState

log = logging.getLogger(__name__)


def advance_watermark(state: MiningState, runtime: Runtime[MiningContext]) -> dict[str, Any]:
    """Move the source's watermark to the last fetched ticket (inline runs and empty runs leave it).

    Every fetched ticket has an outcome by now (staged, skipped or failed with a reason), so the next
    scheduled run starts after them. A concurrent run that already went further keeps its position.
    """
    context = mining_context(runtime)
    target = state.get("watermark_target")
    if target is None or context.source is None:
        return {"watermark_advanced": False}
    try:
        context.watermarks.advance(context.source.name, target, state["stats"].processed)
    except ConflictError as exc:
        log.info("watermark left where a concurrent run put it: %s", exc)
        return {"watermark_advanced": False}
    return {"watermark_advanced": True}
