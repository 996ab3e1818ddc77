"""Every graph langgraph.json exports loads the way `langgraph dev` loads it, without starting a server."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from langgraph.graph import StateGraph
from langgraph.pregel import Pregel

REPO = Path(__file__).resolve().parents[2]
SPEC = json.loads((REPO / "langgraph.json").read_text(encoding="utf-8"))
GRAPHS: dict[str, Any] = SPEC["graphs"]


def load_module(path_or_module: str) -> ModuleType:
    """A file path is executed as a fresh module (named as langgraph-api names it); a dotted name is imported."""
    if "/" not in path_or_module:
        return importlib.import_module(path_or_module)
    path = (REPO / path_or_module).resolve()
    name = path_or_module.replace("/", "__").replace(".py", "").replace(" ", "_").lstrip(".")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None, f"no python file at {path}"
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_graph(source: str | dict[str, Any]) -> Pregel[Any, Any, Any, Any]:
    """The compiled graph an entry names: a compiled graph, a builder (compiled here) or a factory (called)."""
    target = source["path"] if isinstance(source, dict) else source
    path_or_module, variable = target.rsplit(":", maxsplit=1)
    value = load_module(path_or_module).__dict__[variable]
    if isinstance(value, StateGraph):
        value = value.compile()
    elif not isinstance(value, Pregel) and callable(value):
        required = [p for p in inspect.signature(value).parameters.values() if p.default is p.empty]
        value = value({"configurable": {}}) if required else value()
    assert isinstance(value, Pregel), f"{target} is neither a graph, a builder nor a graph factory"
    return value


def test_langgraph_json_lists_the_ticket_graph() -> None:
    assert "ticket" in GRAPHS
    assert SPEC["dependencies"] == ["."]


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_every_exported_graph_loads_and_compiles_without_a_checkpointer(name: str) -> None:
    graph = load_graph(GRAPHS[name])
    assert graph.checkpointer is None, "Studio brings its own persistence and refuses a baked-in saver"
    drawn = graph.get_graph()
    assert len(drawn.nodes) > 2, "the graph has nodes besides its start and end"


def test_the_ticket_graph_studio_sees_is_the_flowchart() -> None:
    graph = load_graph(GRAPHS["ticket"])
    nodes = set(graph.get_graph().nodes)
    assert {"validate", "score", "analyze", "classify", "plan", "find_solution", "evaluate"} <= nodes
    assert {"compose_response", "send_email", "await_feedback", "handle_feedback", "escalate", "improve"} <= nodes
    assert graph.get_input_jsonschema()["required"] == ["ticket"]


def test_studio_reads_every_ticket_dependency_from_the_settings() -> None:
    """A dependency added to TicketContext but forgotten here would be None in every Studio run."""
    import dataclasses

    from graph.studio import _FROM_SETTINGS
    from nodes.context import TicketContext

    tunables = {f.name for f in dataclasses.fields(TicketContext) if f.name.startswith("llm_")}
    assert {f.name for f in dataclasses.fields(TicketContext)} - tunables == _FROM_SETTINGS
