"""Values that cross into a graph from outside (a run's input, a resume value), validated into their models.

The CLI and the API hand the graphs pydantic models; LangGraph Studio and any JSON client hand them plain
JSON, and LangGraph coerces neither. A node that reads such a value passes it through `validated` first, so
both kinds of caller get the same model, and a wrong value fails the run with a message naming the field
instead of an AttributeError three nodes later. A wrong resume value does not fail the run: the thread waits
again (`interrupt_until_valid`), since a failed resume would leave the refused value in the thread for good.
"""

from __future__ import annotations

from typing import Any, TypeVar

from langgraph.config import get_config
from langgraph.types import interrupt
from pydantic import BaseModel, ValidationError

from core.errors import InvalidInputError

M = TypeVar("M", bound=BaseModel)


class GraphInputError(InvalidInputError, ValueError):
    """A value given to a graph is not what it expects.

    A ValueError too, so that LangGraph's server shows its message (it answers "An internal error occurred" for
    exception types it does not know).
    """


def validated(model: type[M], value: object, what: str) -> M:
    """`value` as a `model` (unchanged when it already is one); GraphInputError listing each bad field."""
    if isinstance(value, model):
        return value
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '(value)'}: {error['msg']}" for error in exc.errors()
        )
        raise GraphInputError(f"{what} is not a valid {model.__name__}: {problems}") from exc


def interrupt_until_valid(model: type[M], payload: dict[str, Any], what: str) -> M:
    """Wait for a resume value that is a valid `model`; a refused one waits again, `refused` saying why.

    Each refusal is a further `interrupt()` of the same node (LangGraph answers them in order on a re-run), so
    the caller resumes the same thread again with a corrected value, and the node never fails on one.
    """
    value = interrupt(payload)
    while True:
        try:
            return validated(model, value, what)
        except InvalidInputError as exc:
            value = interrupt(payload | {"refused": str(exc)})


def thread_id() -> str | None:
    """The thread the running node belongs to (a run's id is its thread's id), None outside a run or thread."""
    try:
        configurable = get_config().get("configurable", {})
    except RuntimeError:  # called outside a runnable context (a node function tested on its own)
        return None
    value = configurable.get("thread_id")
    return str(value) if value is not None else None
