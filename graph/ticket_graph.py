"""The ticket-resolution graph, in the order of its flowchart (docs/design.md §2).

validate -> (invalid: reject) -> score -> analyze -> classify -> plan -> (escalation | KB path)
-> find_solution -> evaluate -> (escalate | compose_response) -> (send_email | escalate: nothing new)
-> await_feedback -> handle_feedback -> (close | retry from analyze | escalate) -> improve.
"""

from __future__ import annotations

from typing import Literal

from langgraph.graph import END, START, StateGraph

from core.graph_runtime.retry import DEFAULT_LLM_BACKOFF_S, STORAGE_RETRY, llm_retry_policy
from nodes.analyze import analyze
from nodes.await_feedback import await_feedback
from nodes.classify import classify
from nodes.close import close
from nodes.compose_response import compose_response
from nodes.context import TicketContext
from nodes.escalate import escalate
from nodes.evaluate import evaluate
from nodes.find_solution import find_solution
from nodes.handle_feedback import handle_feedback
from nodes.improve import improve
from nodes.plan import plan
from nodes.reject import reject
from nodes.score import score
from nodes.send_email import send_email
from nodes.validate import validate
from state.ticket import TicketGraphInput, TicketState

# Storage nodes retry database hiccups; LLM nodes retry LLM faults with backoff, and their last attempt answers
# offline (nodes/llm_step.py). The policies are the graphs' shared ones (core/graph_runtime/retry.py).


def route_after_validate(state: TicketState) -> Literal["score", "reject"]:
    """Valid tickets are worked on; the others are answered with what is missing."""
    return "score" if state["validation"].valid else "reject"


def route_after_plan(state: TicketState) -> Literal["find_solution", "escalate"]:
    """The KB path, or straight to a person (escalation and feature-queue plans)."""
    return "find_solution" if state["plan"].resolution_path == "kb_retrieval" else "escalate"


def route_after_evaluate(state: TicketState) -> Literal["compose_response", "escalate"]:
    """Answer when the evaluator is confident, escalate otherwise."""
    return "escalate" if state["evaluation"].escalate else "compose_response"


def route_after_compose(state: TicketState) -> Literal["send_email", "escalate"]:
    """Send the answer, or escalate when it would only repeat one the customer already has."""
    return "escalate" if state.get("repeats_earlier_answer") else "send_email"


def route_after_feedback(state: TicketState) -> Literal["close", "analyze", "escalate"]:
    """Close when solved, retry from the analysis with the clarification, or escalate."""
    action = state["feedback_decision"].action
    if action == "close":
        return "close"
    if action == "retry":
        return "analyze"
    return "escalate"


def build_ticket_graph(
    *, llm_backoff_s: float = DEFAULT_LLM_BACKOFF_S
) -> StateGraph[TicketState, TicketContext, TicketGraphInput, TicketState]:
    """The uncompiled builder; callers compile it with the checkpointer they own.

    `llm_backoff_s` is the first wait before an LLM node is retried (then doubled); 0 retries at once.
    """
    llm = llm_retry_policy(llm_backoff_s)
    builder = StateGraph(TicketState, context_schema=TicketContext, input_schema=TicketGraphInput)
    builder.add_node(validate, retry_policy=llm)
    builder.add_node(reject, retry_policy=STORAGE_RETRY)
    builder.add_node(score, retry_policy=llm)
    builder.add_node(analyze, retry_policy=llm)
    builder.add_node(classify, retry_policy=llm)
    builder.add_node(plan, retry_policy=llm)
    builder.add_node(find_solution, retry_policy=STORAGE_RETRY)
    builder.add_node(evaluate, retry_policy=llm)
    builder.add_node(compose_response, retry_policy=llm)
    builder.add_node(send_email, retry_policy=STORAGE_RETRY)
    builder.add_node(await_feedback)
    builder.add_node(handle_feedback, retry_policy=llm)
    builder.add_node(escalate, retry_policy=[llm, STORAGE_RETRY])
    builder.add_node(close)
    builder.add_node(improve, retry_policy=[llm, STORAGE_RETRY])

    builder.add_edge(START, "validate")
    builder.add_conditional_edges("validate", route_after_validate)
    builder.add_edge("reject", END)
    builder.add_edge("score", "analyze")
    builder.add_edge("analyze", "classify")
    builder.add_edge("classify", "plan")
    builder.add_conditional_edges("plan", route_after_plan)
    builder.add_edge("find_solution", "evaluate")
    builder.add_conditional_edges("evaluate", route_after_evaluate)
    builder.add_conditional_edges("compose_response", route_after_compose)
    builder.add_edge("send_email", "await_feedback")
    builder.add_edge("await_feedback", "handle_feedback")
    builder.add_conditional_edges("handle_feedback", route_after_feedback)
    builder.add_edge("escalate", "improve")
    builder.add_edge("close", "improve")
    builder.add_edge("improve", END)
    return builder
