"""Structured LLM calls: a JSON reply validated by a pydantic model, retried, then handed to a fallback.

Every LLM call in Doxa goes through `ask_structured`. The model is asked for one JSON object that matches
the schema; the reply is parsed and validated by pydantic. Timeouts, rate limits, provider errors, empty or
malformed replies are retried with exponential backoff; when the retries are used up the caller's offline
path answers instead, and the outcome says so (`fell_back`, `error`), so the caller can record it.
The ticket graph's nodes ask once per attempt (`max_attempts=1`) and leave retries to LangGraph's
`RetryPolicy` (see `nodes/llm_step.py`); code outside a graph uses `structured_or_fallback`.
Parsing JSON from the message text (rather than provider-specific tool calling) keeps one code path for
Mistral and for LangChain's fake chat models in tests.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, ValidationError

from core.errors import DoxaError

log = logging.getLogger(__name__)

T = TypeVar("T", bound=BaseModel)

_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.IGNORECASE)


class StructuredReplyError(DoxaError):
    """The model's reply could not be turned into the expected structure."""


@dataclass(frozen=True)
class StructuredOutcome(Generic[T]):
    """What a structured call produced and whether the offline path had to answer."""

    value: T
    fell_back: bool
    error: str | None = None


def schema_instructions(schema: type[BaseModel]) -> str:
    """The system-prompt suffix that asks for one JSON object matching the schema."""
    return (
        "Reply with exactly one JSON object and nothing else (no prose, no code fence). "
        f"It must validate against this JSON schema:\n{json.dumps(schema.model_json_schema(), ensure_ascii=False)}"
    )


def parse_reply(text: str, schema: type[T]) -> T:
    """Validate a reply's text as the schema; tolerate a code fence or prose around one JSON object."""
    stripped = _FENCE.sub("", text.strip())
    if not stripped:
        raise StructuredReplyError("the model returned an empty reply")
    start, end = stripped.find("{"), stripped.rfind("}")
    if start == -1 or end < start:
        raise StructuredReplyError("the reply holds no JSON object")
    try:
        return schema.model_validate_json(stripped[start : end + 1])
    except ValidationError as exc:
        raise StructuredReplyError(f"the reply does not match {schema.__name__}: {exc.error_count()} errors") from exc


def _message_text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(part if isinstance(part, str) else str(part.get("text", "")) for part in content)


def ask_structured(
    model: BaseChatModel,
    schema: type[T],
    system: str,
    user: str,
    *,
    max_attempts: int = 3,
    initial_backoff_s: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Ask the model for one `schema` object; retry failures with backoff; raise StructuredReplyError at the end."""
    messages: Sequence[BaseMessage] = [
        SystemMessage(f"{system}\n\n{schema_instructions(schema)}"),
        HumanMessage(user),
    ]
    last_error = "no attempt was made"
    for attempt in range(1, max_attempts + 1):
        try:
            return parse_reply(_message_text(model.invoke(list(messages))), schema)
        except StructuredReplyError as exc:
            last_error = str(exc)
        # Provider SDKs raise their own types for timeouts, 429s and 5xx; all of them mean "try again".
        except Exception as exc:  # noqa: BLE001
            last_error = f"{exc.__class__.__name__}: {exc}"
        log.warning("LLM call for %s failed (attempt %d/%d): %s", schema.__name__, attempt, max_attempts, last_error)
        if attempt < max_attempts:
            sleep(initial_backoff_s * 2 ** (attempt - 1))
    raise StructuredReplyError(last_error)


def structured_or_fallback(
    model: BaseChatModel | None,
    schema: type[T],
    system: str,
    user: str,
    fallback: Callable[[], T],
    *,
    max_attempts: int = 3,
    initial_backoff_s: float = 0.5,
) -> StructuredOutcome[T]:
    """The LLM's answer when a model is configured and answers well, otherwise the offline answer."""
    if model is None:
        return StructuredOutcome(fallback(), fell_back=False)
    try:
        value = ask_structured(
            model, schema, system, user, max_attempts=max_attempts, initial_backoff_s=initial_backoff_s
        )
    except StructuredReplyError as exc:
        log.warning("falling back to the offline path for %s: %s", schema.__name__, exc)
        return StructuredOutcome(fallback(), fell_back=True, error=str(exc))
    return StructuredOutcome(value, fell_back=False)
