"""The graphs as LangGraph Studio loads them (`langgraph dev`): compiled without a checkpointer.

Studio brings its own persistence and cannot pass Python objects as context, so runs that bring no
context use one built from the same DOXA_* settings as the CLI and the API.
"""

from __future__ import annotations

from core.services import Services
from core.settings import get_settings
from graph.factory import ticket_context
from graph.ticket_graph import build_ticket_graph
from nodes.context import TicketContext, use_default_context


def _context_from_settings() -> TicketContext:
    return ticket_context(Services.open(get_settings()))


use_default_context(_context_from_settings)

ticket = build_ticket_graph().compile()
