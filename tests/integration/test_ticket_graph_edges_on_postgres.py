"""The ticket-graph edge tests whose checkpoints matter, again on the product's Postgres saver.

Each of them interrupts and resumes, so the resumed run reads back what the saver wrote (through the
allow-listed serializer, from a fresh database); the others gain nothing from a database and stay in the
unit tier (tests/unit/test_ticket_graph_edges.py, where these are marked `checkpoints`).
"""

from __future__ import annotations

import pytest

from tests.integration.rerun_on_postgres import checkpoints_tests
from tests.unit import test_ticket_graph_edges

pytestmark = pytest.mark.parametrize("checkpointer", ["postgres"], indirect=True)

globals().update(checkpoints_tests(test_ticket_graph_edges))
