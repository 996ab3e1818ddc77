"""Values entering a graph from outside: JSON validated into models, refused resume values wait again."""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command
from typing_extensions import TypedDict

from core.errors import InvalidInputError
from core.graph_runtime.edge import interrupt_until_valid, thread_id, validated
from faq_mining.state import MiningRequest
from state.ticket import CustomerFeedback


class _State(TypedDict, total=False):
    feedback: CustomerFeedback
    thread: str | None


def _wait(state: _State) -> dict[str, Any]:
    return {"feedback": interrupt_until_valid(CustomerFeedback, {"question": "solved?"}, "the feedback")}


def _remember_thread(state: _State) -> dict[str, Any]:
    return {"thread": thread_id()}


def _graph() -> Any:
    builder = StateGraph(_State)
    builder.add_node("remember_thread", _remember_thread)
    builder.add_node("wait", _wait)
    builder.add_edge(START, "remember_thread")
    builder.add_edge("remember_thread", "wait")
    builder.add_edge("wait", END)
    return builder.compile(checkpointer=InMemorySaver())


def test_json_is_validated_into_the_model_and_a_model_passes_unchanged() -> None:
    request = validated(MiningRequest, {"lookback_days": 30}, "the request")
    assert request == MiningRequest(lookback_days=30)
    assert validated(MiningRequest, request, "the request") is request


def test_a_bad_value_is_refused_with_each_field_named() -> None:
    with pytest.raises(InvalidInputError, match=r"lookback_days: .*; limit: "):
        validated(MiningRequest, {"lookback_days": "soon", "limit": 0}, "the mining request")


def test_a_refused_resume_value_waits_again_saying_why_then_a_valid_one_goes_on() -> None:
    graph, config = _graph(), {"configurable": {"thread_id": "t-1"}}
    graph.invoke({}, config)
    graph.invoke(Command(resume={"satisfied": "perhaps"}), config)
    waiting = graph.get_state(config)
    assert waiting.next == ("wait",)
    assert "satisfied" in waiting.interrupts[-1].value["refused"]

    graph.invoke(Command(resume={"satisfied": True, "comment": "works"}), config)
    done = graph.get_state(config)
    assert done.next == ()
    assert done.values["feedback"] == CustomerFeedback(satisfied=True, comment="works")
    assert done.values["thread"] == "t-1", "a node reads its run's id from the thread"


def test_thread_id_is_none_outside_a_run() -> None:
    assert thread_id() is None
