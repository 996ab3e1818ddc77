"""The shared shape of a node's LLM path: ask the model, or answer offline, and record a fallback."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from langgraph.runtime import Runtime
from pydantic import BaseModel

from core.structured_llm import structured_or_fallback
from nodes.context import TicketContext, context_of
from nodes.prompts import Prompt

T = TypeVar("T", bound=BaseModel)


def llm_or_offline(
    runtime: Runtime[TicketContext],
    node: str,
    prompt: Prompt,
    schema: type[T],
    offline: Callable[[], T],
    *,
    system_fields: dict[str, Any] | None = None,
    **user_fields: Any,
) -> tuple[T, dict[str, Any]]:
    """The node's answer and the state update that records a fallback (empty when there was none)."""
    context = context_of(runtime)
    outcome = structured_or_fallback(
        context.chat_model,
        schema,
        prompt.system.format(**(system_fields or {})),
        prompt.render(**user_fields),
        offline,
        max_attempts=context.llm_max_attempts,
        initial_backoff_s=context.llm_backoff_s,
    )
    return outcome.value, ({"fallbacks": [node]} if outcome.fell_back else {})
