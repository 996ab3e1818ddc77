"""The plumbing both graphs share (core/graph_runtime/): default context, serializer, Studio schema."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import pytest
from langgraph.runtime import Runtime
from pydantic import BaseModel

from core.errors import ConfigurationError
from core.graph_runtime.checkpoints import checkpoint_serializer
from core.graph_runtime.context import DefaultContext
from core.graph_runtime.studio import dependency_fields, studio_context_schema
from faq_mining.nodes.context import MiningContext
from nodes.context import TicketContext


@dataclass(kw_only=True)
class Context:
    """A small graph context: two dependencies and two tunables."""

    store: list[str] = field(metadata={"description": "Where results go."})
    model: object | None = field(default=None, metadata={"description": "A model."})
    attempts: int = field(default=3, metadata={"description": "Attempts."})
    label: str = field(default="x", metadata={"description": "A label."})


# What a run that brought no context sees (LangGraph Studio passes none).
NO_CONTEXT: Runtime[Any] = Runtime(context=None)


class Allowed(BaseModel):
    x: int


class Foreign(BaseModel):
    y: int


def test_a_run_with_its_own_context_never_builds_the_default() -> None:
    default = DefaultContext("test graph", Context)
    default.register(lambda: pytest.fail("the default was built"))
    own = Context(store=[])
    assert default.of(Runtime(context=own)) is own


def test_the_default_context_is_built_once_and_shared() -> None:
    built: list[Context] = []

    def build() -> Context:
        built.append(Context(store=[]))
        return built[-1]

    default = DefaultContext("test graph", Context)
    default.register(build)
    first, second = default.of(NO_CONTEXT), default.of(NO_CONTEXT)
    assert first is second and len(built) == 1


def test_a_run_without_context_or_default_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="the test graph was run without a Context"):
        DefaultContext("test graph", Context).of(NO_CONTEXT)


def test_dependencies_are_every_field_but_the_plain_tunables() -> None:
    assert dependency_fields(Context) == {"store", "model"}
    tunables = {"llm_max_attempts", "llm_backoff_s"}
    assert dependency_fields(TicketContext) == {f.name for f in dataclasses.fields(TicketContext)} - tunables
    assert dependency_fields(MiningContext) == {f.name for f in dataclasses.fields(MiningContext)} - tunables


def test_the_studio_schema_reads_dependencies_from_the_settings_context_on_first_use() -> None:
    calls: list[int] = []
    settings = Context(store=["from settings"], model="m")

    def from_settings() -> Context:
        calls.append(1)
        return settings

    studio_type: Any = studio_context_schema(Context, from_settings)
    built = studio_type(attempts=5)  # what Studio does with a run's JSON
    assert calls == [], "building the context blocks nothing"
    assert built.store == ["from settings"] and built.model == "m" and built.attempts == 5
    assert isinstance(built, Context)
    with pytest.raises(TypeError):
        studio_type(store=["a run's JSON cannot pass objects"])
    described = {f.name: f.metadata["description"] for f in dataclasses.fields(studio_type)}
    assert described["store"] == "Where results go.", "Studio shows the context's descriptions"


def test_the_serializer_rebuilds_only_the_types_it_lists() -> None:
    serde = checkpoint_serializer([Allowed])
    assert serde.loads_typed(serde.dumps_typed(Allowed(x=1))) == Allowed(x=1)
    assert not isinstance(serde.loads_typed(serde.dumps_typed(Foreign(y=2))), Foreign)
