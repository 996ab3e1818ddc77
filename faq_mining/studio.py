"""The FAQ-mining graph as LangGraph Studio loads it (`langgraph dev`); `core/graph_runtime/studio.py` says how.

Its dependencies come from one context built from the same DOXA_* settings as the CLI, with its writers swapped
for `faq_mining/sandbox.py`'s dry runs unless DOXA_STUDIO_SANDBOX is off. The run id is the thread id.
"""

from __future__ import annotations

from core.graph_runtime.studio import studio_graph
from core.services import Services
from faq_mining.graph import build_mining_graph
from faq_mining.nodes.context import DEFAULT_CONTEXT, MiningContext
from faq_mining.sandbox import sandboxed


def _settings_context(services: Services) -> MiningContext:
    """The CLI's mining context (imported late: the service module imports the graph's stores)."""
    from faq_mining.service import mining_context_from_services

    return mining_context_from_services(services)


# The watermark, staging and reviews are dry runs unless DOXA_STUDIO_SANDBOX is off.
faq_mining = studio_graph(build_mining_graph(), DEFAULT_CONTEXT, _settings_context, sandboxed)
