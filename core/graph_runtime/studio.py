"""How both graphs are handed to LangGraph Studio (`langgraph dev`): compiled without a checkpointer.

Studio brings its own persistence and cannot pass Python objects as context: it builds the context schema
from the JSON the run carries (`{}` when none) and renders that schema as JSON. So Studio's graph gets a
subclass of the graph's context whose dependencies are no constructor arguments: they are read from one
context built from the same DOXA_* settings as the CLI and the API, and show in the schema untyped. Only the
plain tunables (numbers, strings, booleans such as `llm_max_attempts`) stay settable from Studio.

The dependencies are read on first use, in the node's worker thread: building them (the embedded Postgres, the
model) blocks, and Studio builds the context on its event loop, where blocking calls are refused.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from langgraph.graph import StateGraph
from langgraph.graph.state import CompiledStateGraph

from core.graph_runtime.context import DefaultContext
from core.services import Services
from core.settings import get_settings

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

log = logging.getLogger(__name__)

# Both graphs' contexts are dataclasses (LangGraph builds Studio's schema from their fields).
C = TypeVar("C", bound="DataclassInstance")

# Field types Studio can render and a run's JSON can set: everything else is a dependency read from the settings.
_TUNABLE_TYPES = (bool, int, float, str)


def dependency_fields(context_type: type[Any]) -> frozenset[str]:
    """The context's fields that hold objects (stores, models, policies...): every field but the plain tunables."""
    hints = typing.get_type_hints(context_type)
    return frozenset(f.name for f in dataclasses.fields(context_type) if hints[f.name] not in _TUNABLE_TYPES)


def settings_context(build: Callable[[Services], C], sandbox: Callable[[C], C] | None = None) -> Callable[[], C]:
    """A function returning the context `build` makes from the DOXA_* settings' services, once per process.

    With `sandbox`, the context's writers are swapped for its dry-run ones unless DOXA_STUDIO_SANDBOX is off.
    """

    @functools.cache
    def from_settings() -> C:
        settings = get_settings()
        context = build(Services.open(settings))
        if sandbox is None:
            return context
        if settings.studio_sandbox:
            log.info("Studio sandbox on: %s writes go to dry-run stores", type(context).__name__)
            return sandbox(context)
        log.warning(
            "DOXA_STUDIO_SANDBOX is off: Studio runs of %s act FOR REAL (e-mails to customers, escalations, "
            "watermarks, FAQ promotion)",
            type(context).__name__,
        )
        return context

    return from_settings


def studio_context_schema(context_type: type[C], from_settings: Callable[[], C]) -> type[C]:
    """`context_type` as Studio builds it from a run's JSON: its dependencies come from `from_settings()`."""
    dependencies = dependency_fields(context_type)
    described = {f.name: f for f in dataclasses.fields(context_type)}

    def __getattribute__(self: Any, name: str) -> Any:
        if name in dependencies:
            return getattr(from_settings(), name)
        return super(studio_type, self).__getattribute__(name)

    def __get_pydantic_json_schema__(cls: Any, core_schema: Any, handler: Any) -> Any:
        # Studio's context panel shows only what a run's JSON can set: the dependencies come from the settings.
        schema = handler(core_schema)
        properties = handler.resolve_ref_schema(schema).get("properties", {})
        for name in dependencies:
            properties.pop(name, None)
        return schema

    studio_type: type[C] = dataclasses.make_dataclass(
        f"Studio{context_type.__name__}",
        [
            (name, Any, dataclasses.field(default=None, init=False, metadata=described[name].metadata))
            for name in sorted(dependencies)
        ],
        bases=(context_type,),
        namespace={
            "__getattribute__": __getattribute__,
            "__get_pydantic_json_schema__": classmethod(__get_pydantic_json_schema__),
            "__doc__": context_type.__doc__,
            "__module__": context_type.__module__,
        },
        kw_only=True,
    )
    return studio_type


def studio_graph(
    builder: StateGraph[Any, Any, Any, Any],
    default: DefaultContext[C],
    build: Callable[[Services], C],
    sandbox: Callable[[C], C] | None = None,
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The graph Studio loads: the settings' context is the default one, the Studio schema stands in for the context.

    `sandbox` makes the settings' context a dry run (see `settings_context`).
    """
    from_settings = settings_context(build, sandbox)
    default.register(from_settings)
    builder.context_schema = studio_context_schema(default.context_type, from_settings)
    return builder.compile()
