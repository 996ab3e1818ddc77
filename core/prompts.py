"""A named, versioned prompt; each graph keeps its own prompts in one module that builds these."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Prompt:
    """A named, versioned prompt: a system message and a user template with named fields."""

    name: str
    version: int
    system: str
    user: str

    def render(self, **fields: object) -> str:
        """The user message with its fields filled in."""
        return self.user.format(**fields)
