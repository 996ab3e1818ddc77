"""Unit-tier tests whose checkpoints matter, collected again by an integration module on the Postgres saver.

A unit test marks itself `@pytest.mark.checkpoints` when what it checks passes through a checkpoint (an
interrupt and its resume); a `*_on_postgres` module binds `checkpoints_tests(unit_module)` into its own
namespace and parametrizes `checkpointer` with "postgres", so the list of such tests lives at the tests.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any


def checkpoints_tests(module: ModuleType) -> dict[str, Any]:
    """`module`'s tests marked `checkpoints`, with the `checkpoint_serde` fixture they need, by name."""
    marked = {
        name: test
        for name, test in vars(module).items()
        if name.startswith("test_") and any(mark.name == "checkpoints" for mark in getattr(test, "pytestmark", ()))
    }
    if not marked:
        raise LookupError(f"{module.__name__} marks no test with @pytest.mark.checkpoints")
    return {"checkpoint_serde": module.checkpoint_serde, **marked}
