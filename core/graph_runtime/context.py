"""The default context of a graph: what a run that brings no context gets (LangGraph Studio passes no objects).

Both graphs' nodes read their dependencies through `DefaultContext.of(runtime)`: the run's own context when it
brought one (the CLI, the API, the tests), else the one the registered factory builds, once per process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar

from langgraph.runtime import Runtime

from core.errors import ConfigurationError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

# Both graphs' contexts are dataclasses (LangGraph builds Studio's schema from their fields).
C = TypeVar("C", bound="DataclassInstance")


class DefaultContext(Generic[C]):
    """A registry of one graph's default context, built on first use and then shared by every such run."""

    def __init__(self, graph: str, context_type: type[C]) -> None:
        self.graph = graph
        self.context_type = context_type
        self._lock = threading.Lock()
        self._factory: Callable[[], C] | None = None
        self._instance: C | None = None

    def register(self, factory: Callable[[], C]) -> None:
        """Register how to build the context for runs that bring none (replaces any earlier one)."""
        with self._lock:
            self._factory, self._instance = factory, None

    def of(self, runtime: Runtime[C]) -> C:
        """The run's context, or the registered default one (built once) when the run brought none."""
        if runtime.context is not None:
            return runtime.context
        with self._lock:
            if self._instance is None:
                if self._factory is None:
                    raise ConfigurationError(f"the {self.graph} was run without a {self.context_type.__name__}")
                self._instance = self._factory()
            return self._instance
