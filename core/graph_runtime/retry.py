"""The retry policies graph nodes are registered with; nodes never retry by themselves.

Storage nodes retry database hiccups (a restarted server, a dropped pooled connection) a few times, quickly.
LLM nodes raise `LLMFault` while they have attempts left and LangGraph retries them with backoff
(`nodes/llm_step.py` explains why the last attempt answers offline instead).
"""

from __future__ import annotations

from langgraph.types import RetryPolicy
from psycopg import OperationalError

from core.errors import DoxaError

# Database hiccups (a restarted server, a dropped pooled connection) are worth a few quick retries.
STORAGE_RETRY = RetryPolicy(max_attempts=3, initial_interval=0.2, retry_on=OperationalError)

# The LLM policy's own limit: a context may ask for fewer attempts, never for more than the policy makes.
MAX_LLM_ATTEMPTS = 5
DEFAULT_LLM_BACKOFF_S = 0.5


class LLMFault(DoxaError):
    """An LLM call of a node failed and the node has attempts left: LangGraph's retry policy runs it again."""

    def __init__(self, node: str, attempt: int, error: str) -> None:
        super().__init__(f"{node}: LLM attempt {attempt} failed: {error}")
        self.node = node
        self.attempt = attempt
        self.error = error


def llm_retry_policy(initial_interval_s: float) -> RetryPolicy:
    """Retry LLM faults only, with doubling backoff (and jitter, unless the backoff is switched off)."""
    return RetryPolicy(
        max_attempts=MAX_LLM_ATTEMPTS,
        initial_interval=initial_interval_s,
        backoff_factor=2.0,
        jitter=initial_interval_s > 0,
        retry_on=LLMFault,
    )
