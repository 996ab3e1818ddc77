"""A node's LLM path: one model call per attempt, LangGraph retries, the last attempt answers offline.

LLM faults (timeouts, rate limits, provider errors, empty or malformed replies, and schema-valid answers a
node's `check` refuses) are retried by LangGraph itself: the node raises `LLMFault`, and the graph gives every
LLM node `llm_retry_policy`, a `RetryPolicy` with exponential backoff that retries on nothing else.

A `RetryPolicy` that runs out re-raises, which would fail the run, so the node must stop raising on its own
last attempt. LangGraph 1.x tells a node which attempt it is on (`runtime.execution_info.node_attempt`,
1-based, public since the `ExecutionInfo` API), so no private config key is read: while attempts remain the
node raises, on the last one it answers with its offline path and records the fallback in the state
(`fallbacks`: the node's name; `llm_errors`: what went wrong). A thread is never lost to an LLM fault.

The context's `llm_max_attempts` sets the limit; it is capped at `MAX_LLM_ATTEMPTS`, the policy's own
`max_attempts`, so the policy can never give up before the node does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from langgraph.runtime import Runtime
from pydantic import BaseModel

from core.graph_runtime.retry import MAX_LLM_ATTEMPTS, LLMFault
from core.structured_llm import StructuredReplyError, ask_structured
from nodes.context import TicketContext, context_of
from nodes.prompts import Prompt

T = TypeVar("T", bound=BaseModel)


def attempt_limit(context: TicketContext) -> int:
    """How many attempts an LLM node makes before it answers offline."""
    return max(1, min(context.llm_max_attempts, MAX_LLM_ATTEMPTS))


def current_attempt(runtime: Runtime[TicketContext]) -> int:
    """The node's attempt number as LangGraph counts it (1 outside a retrying run)."""
    info = runtime.execution_info
    return info.node_attempt if info is not None else 1


def llm_or_offline(
    runtime: Runtime[TicketContext],
    node: str,
    prompt: Prompt,
    schema: type[T],
    offline: Callable[[], T],
    *,
    check: Callable[[T], str | None] | None = None,
    system_fields: dict[str, Any] | None = None,
    **user_fields: Any,
) -> tuple[T, dict[str, Any]]:
    """The node's answer and the state update that records a fallback (empty when there was none).

    `check` names what makes a schema-valid answer unusable (an unknown category, an unknown team...), or
    returns None; an unusable answer is a fault like a malformed one. Raises LLMFault while attempts remain.
    """
    context = context_of(runtime)
    if context.chat_model is None:
        return offline(), {}
    try:
        value = ask_structured(
            context.chat_model,
            schema,
            prompt.system.format(**(system_fields or {})),
            prompt.render(**user_fields),
            max_attempts=1,
        )
        problem = check(value) if check is not None else None
        if problem is not None:
            raise StructuredReplyError(f"unusable {schema.__name__}: {problem}")
    except StructuredReplyError as exc:
        attempt = current_attempt(runtime)
        if attempt < attempt_limit(context):
            raise LLMFault(node, attempt, str(exc)) from exc
        return offline(), {"fallbacks": [node], "llm_errors": [f"{node} ({prompt.name} v{prompt.version}): {exc}"]}
    return value, {}
