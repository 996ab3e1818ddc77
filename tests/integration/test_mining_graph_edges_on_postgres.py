"""The mining-graph edge tests whose checkpoints matter, again on the product's Postgres saver.

Each of them waits in review interrupts and resumes them, so the review branches are read back from what
the saver wrote (through the allow-listed serializer, from a fresh database); the others stay in the unit
tier (tests/unit/test_mining_graph_edges.py, where these are marked `checkpoints`).
"""

from __future__ import annotations

import pytest

from tests.integration.rerun_on_postgres import checkpoints_tests
from tests.unit import test_mining_graph_edges

pytestmark = pytest.mark.parametrize("checkpointer", ["postgres"], indirect=True)

globals().update(checkpoints_tests(test_mining_graph_edges))
