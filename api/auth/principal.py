"""The authenticated caller and the roles Doxa knows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Role = Literal["reviewer", "agent", "service", "admin"]
ROLES: frozenset[str] = frozenset(get_args(Role))


@dataclass(frozen=True)
class Principal:
    """A caller: its subject (token `sub` or API-key name), its roles and how it proved them."""

    subject: str
    roles: frozenset[str]
    method: Literal["jwt", "api_key", "auth_disabled"]

    def has_any(self, roles: frozenset[str]) -> bool:
        """Whether the caller holds one of `roles`; admin holds every role."""
        return "admin" in self.roles or bool(self.roles & roles)


def known_roles(claimed: object) -> frozenset[str]:
    """The Doxa roles in a claim value (a list, or a space-separated string); unknown roles are ignored."""
    if isinstance(claimed, str):
        names = claimed.split()
    elif isinstance(claimed, list | tuple):
        names = [name for name in claimed if isinstance(name, str)]
    else:
        names = []
    return frozenset(name for name in names if name in ROLES)
