"""llm_or_offline: one call per attempt, LLMFault while attempts remain, the offline answer on the last one."""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import ExecutionInfo, Runtime
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from core.graph_runtime.retry import MAX_LLM_ATTEMPTS, LLMFault, llm_retry_policy
from nodes.context import TicketContext
from nodes.llm_step import attempt_limit, llm_or_offline
from nodes.prompts import SCORE
from tests.fakes import replies as fake


class Verdict(BaseModel):
    score: int = Field(ge=0, le=100)


OFFLINE = Verdict(score=1)


def context(model: Any, attempts: int = 3) -> TicketContext:
    # Only the LLM fields are read by llm_or_offline; the other dependencies are never touched.
    return TicketContext(
        chat_model=model,
        embedder=None,  # type: ignore[arg-type]
        retriever=None,  # type: ignore[arg-type]
        classifier=None,  # type: ignore[arg-type]
        categories=[],
        outbox=None,  # type: ignore[arg-type]
        tickets=None,  # type: ignore[arg-type]
        llm_max_attempts=attempts,
    )


def runtime(model: Any, attempt: int, attempts: int = 3) -> Runtime[TicketContext]:
    info = ExecutionInfo(checkpoint_id="c", checkpoint_ns="", task_id="t", node_attempt=attempt)
    return Runtime(context=context(model, attempts), execution_info=info)


def ask(rt: Runtime[TicketContext], **kwargs: Any) -> tuple[Verdict, dict[str, Any]]:
    return llm_or_offline(rt, "score", SCORE, Verdict, lambda: OFFLINE, subject="s", body="b", **kwargs)


def test_no_model_answers_offline_without_a_fallback_mark() -> None:
    assert ask(runtime(None, 1)) == (OFFLINE, {})


def test_a_good_reply_is_used() -> None:
    assert ask(runtime(fake('{"score": 70}'), 1)) == (Verdict(score=70), {})


@pytest.mark.parametrize("reply", ["", "not json", '{"score": 700}'])
def test_a_fault_before_the_last_attempt_raises_for_the_retry_policy(reply: str) -> None:
    with pytest.raises(LLMFault) as raised:
        ask(runtime(fake(reply), 2))
    assert raised.value.node == "score" and raised.value.attempt == 2


def test_the_last_attempt_falls_back_and_records_it() -> None:
    value, update = ask(runtime(fake('{"score": 700}'), 3))
    assert value == OFFLINE
    assert update["fallbacks"] == ["score"]
    assert "score_priority v1" in update["llm_errors"][0] and "does not match Verdict" in update["llm_errors"][0]


def test_a_check_refuses_a_schema_valid_answer() -> None:
    value, update = ask(runtime(fake('{"score": 13}'), 3), check=lambda v: "unlucky" if v.score == 13 else None)
    assert value == OFFLINE and "unlucky" in update["llm_errors"][0]


def test_the_attempt_limit_never_exceeds_the_retry_policy() -> None:
    assert attempt_limit(context(None, attempts=50)) == MAX_LLM_ATTEMPTS == llm_retry_policy(0).max_attempts
    assert attempt_limit(context(None, attempts=0)) == 1


class Counted(TypedDict, total=False):
    verdict: Verdict
    fallbacks: list[str]


def test_langgraph_retries_the_node_with_the_policy_and_the_last_attempt_falls_back() -> None:
    calls: list[int] = []

    def node(state: Counted, runtime: Runtime[TicketContext]) -> dict[str, Any]:
        calls.append(runtime.execution_info.node_attempt if runtime.execution_info else 0)
        verdict, update = ask(runtime)
        return {"verdict": verdict, **update}

    builder = StateGraph(Counted, context_schema=TicketContext)
    builder.add_node("score", node, retry_policy=llm_retry_policy(0))
    builder.add_edge(START, "score")
    builder.add_edge("score", END)
    result = builder.compile().invoke({}, context=context(fake("x", "y", "z", "w"), attempts=4))
    assert calls == [1, 2, 3, 4]
    assert result == {"verdict": OFFLINE, "fallbacks": ["score"]}
