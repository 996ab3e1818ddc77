"""The ticket graph as LangGraph Studio loads it (`langgraph dev`); `core/graph_runtime/studio.py` says how.

Its dependencies come from one context built from the same DOXA_* settings as the CLI and the API, with its
writers swapped for `graph/sandbox.py`'s dry runs unless DOXA_STUDIO_SANDBOX is off.
"""

from __future__ import annotations

from core.graph_runtime.studio import dependency_fields, studio_graph
from graph.factory import ticket_context
from graph.sandbox import sandboxed
from graph.ticket_graph import build_ticket_graph
from nodes.context import DEFAULT_CONTEXT, TicketContext

# The TicketContext fields Studio reads from the settings' context: all but the plain tunables.
_FROM_SETTINGS = dependency_fields(TicketContext)

# The outbox, escalations, KB gaps and answer verdicts are dry runs unless DOXA_STUDIO_SANDBOX is off.
ticket = studio_graph(build_ticket_graph(), DEFAULT_CONTEXT, ticket_context, sandboxed)
