"""The FAQ-mining graph as LangGraph Studio loads it (`langgraph dev`): compiled without a checkpointer.

Studio cannot pass Python objects as context, so runs it starts use the context built from the DOXA_*
settings (the same one the CLI builds), registered as the default and built on first use.
"""

from __future__ import annotations

import functools

from core.services import Services
from core.settings import get_settings
from faq_mining.graph import build_mining_graph
from faq_mining.nodes.context import MiningContext, use_default_mining_context


@functools.cache
def settings_context() -> MiningContext:
    """The context built from DOXA_* settings, once per process."""
    from faq_mining.service import mining_context_from_services

    return mining_context_from_services(Services.open(get_settings()))


use_default_mining_context(settings_context)

_builder = build_mining_graph()
# No context schema: Studio would try to build a MiningContext from the run's JSON, and its dependencies
# are objects. Without one, every Studio run gets the settings' context registered above.
_builder.context_schema = None
faq_mining = _builder.compile()
