"""The graphs as LangGraph Studio loads them (`langgraph dev`): compiled without a checkpointer.

Studio brings its own persistence and cannot pass Python objects as context: it builds the context schema
from the JSON the run carries (`{}` when none) and renders that schema as JSON. So Studio's graph uses
`StudioContext`, a TicketContext whose dependencies are no constructor arguments: they come from one context
built from the same DOXA_* settings as the CLI and the API, and show in the schema untyped.
"""

from __future__ import annotations

import functools
from dataclasses import Field, dataclass, field
from typing import Any

from core.services import Services
from core.settings import get_settings
from graph.factory import ticket_context
from graph.ticket_graph import build_ticket_graph
from nodes.context import TicketContext, use_default_context


@functools.cache
def settings_context() -> TicketContext:
    """The context built from DOXA_* settings, once per process."""
    return ticket_context(Services.open(get_settings()))


_FROM_SETTINGS = frozenset(
    (
        "chat_model",
        "embedder",
        "retriever",
        "classifier",
        "categories",
        "sections",
        "faqs",
        "outbox",
        "tickets",
        "policy",
    )
)


def _from_settings(name: str) -> Any:
    """A field that is no constructor argument, described as in TicketContext (Studio shows it)."""
    described: Field[Any] = TicketContext.__dataclass_fields__[name]
    return field(default=None, init=False, metadata=described.metadata)


@dataclass(kw_only=True)
class StudioContext(TicketContext):
    """TicketContext as Studio builds it from a run's JSON; its dependencies come from the settings.

    They are read on first use, in the node's worker thread: building them (the embedded Postgres, the
    model) blocks, and Studio builds the context on its event loop, where blocking calls are refused.
    """

    chat_model: Any = _from_settings("chat_model")
    embedder: Any = _from_settings("embedder")
    retriever: Any = _from_settings("retriever")
    classifier: Any = _from_settings("classifier")
    categories: Any = _from_settings("categories")
    sections: Any = _from_settings("sections")
    faqs: Any = _from_settings("faqs")
    outbox: Any = _from_settings("outbox")
    tickets: Any = _from_settings("tickets")
    policy: Any = _from_settings("policy")

    def __getattribute__(self, name: str) -> Any:
        if name in _FROM_SETTINGS:
            return getattr(settings_context(), name)
        return super().__getattribute__(name)


use_default_context(settings_context)

_builder = build_ticket_graph()
_builder.context_schema = StudioContext
ticket = _builder.compile()
