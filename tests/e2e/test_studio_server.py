"""Each graph of langgraph.json, run through a real `langgraph dev` server with langgraph-sdk, as Studio runs it.

One server for the module (it starts in about a minute): plain JSON input and resume values, both graphs to
their interrupts and resumed, bad values refused with a message naming the field, the schemas Studio renders,
the sandbox leaving production tables as they were, and `doxa studio open` putting a copy of a real ticket in
front of Studio while the ticket itself is untouched.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from langgraph_sdk import get_sync_client
from langgraph_sdk.client import SyncLangGraphClient

from tests.databases import fresh_database
from tests.e2e.studio_server import (
    REPO,
    StudioServer,
    StudioUnavailable,
    doxa,
    ensure_studio_venv,
    start_studio_server,
)

pytestmark = pytest.mark.slow

GRAPHS = json.loads((REPO / "langgraph.json").read_text(encoding="utf-8"))["graphs"]
TICKET = json.loads((REPO / "examples" / "tickets" / "proxy-refusing.json").read_text(encoding="utf-8"))
# What a Studio run must leave as it was: what reaches customers, teams, calibration and the FAQ pipeline.
PRODUCTION_TABLES = ("outbox", "escalation", "kb_gap", "answer_feedback", "mining_watermark", "faq", "faq_staging")


@pytest.fixture(scope="module")
def studio(
    pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory, fitted_classifier: Path
) -> Iterator[StudioServer]:
    """The module's server on a fresh database and home."""
    try:
        langgraph = ensure_studio_venv()
    except StudioUnavailable as exc:
        pytest.skip(f"langgraph-cli[inmem] cannot be installed here: {exc}")
    with fresh_database(pg_admin_url, "studio") as database_url:
        home = tmp_path_factory.mktemp("studio") / "home"
        server = start_studio_server(langgraph, home, database_url, fitted_classifier)
        yield server
        server.stop()


@pytest.fixture(scope="module")
def client(studio: StudioServer) -> SyncLangGraphClient:
    """A langgraph-sdk client of the server (what Studio's browser page speaks)."""
    return get_sync_client(url=studio.url, timeout=300)


def production_rows(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the production tables a Studio run must not touch."""
    with psycopg.connect(database_url, options="-c search_path=agent,public") as conn:
        return {
            table: sorted(tuple(str(value) for value in row) for row in conn.execute(f"SELECT * FROM {table}"))
            for table in PRODUCTION_TABLES
        }


def refusal(client: SyncLangGraphClient, thread: str, graph: str, **run: Any) -> str:
    """What the server answered to a run that must fail (the SDK raises the run's error, or returns it)."""
    try:
        return json.dumps(client.runs.wait(thread, graph, raise_error=False, **run))
    except Exception as exc:  # the SDK's own Exception("ValidationError: ...")
        return str(exc)


def interrupts(state: Any) -> list[dict[str, Any]]:
    """The interrupts a thread's state waits at (the last one of each waiting task)."""
    return [task["interrupts"][-1] for task in state["tasks"] if task["interrupts"]]


def new_thread(client: SyncLangGraphClient, graph: str) -> str:
    """A Studio-made thread of `graph`."""
    return str(client.threads.create(metadata={"graph_id": graph})["thread_id"])


def test_doxa_studio_writes_its_config_under_doxa_home_on_doxas_checkpointer(studio: StudioServer) -> None:
    config = json.loads((studio.home / "studio" / "langgraph.json").read_text(encoding="utf-8"))
    assert set(config["graphs"]) == set(GRAPHS)
    assert config["checkpointer"]["path"].endswith("cli/studio_server.py:checkpointer")
    assert ["state", "agents", "Email"] in config["checkpointer"]["serde"]["allowed_json_modules"]
    assert "Studio sandbox on" in studio.log_path.read_text(errors="replace"), "doxa studio says it is sandboxed"


def test_every_graph_in_langgraph_json_has_the_schemas_studio_renders(client: SyncLangGraphClient) -> None:
    assistants = {assistant["graph_id"]: assistant for assistant in client.assistants.search()}
    assert set(assistants) == set(GRAPHS)
    for graph, assistant in assistants.items():
        schemas = client.assistants.get_schemas(assistant["assistant_id"])
        for kind in ("input_schema", "output_schema", "context_schema"):
            assert schemas[kind] and schemas[kind].get("properties"), f"{graph} has no {kind}"
        # Only what a run's JSON can set: the dependencies come from the settings, not from Studio.
        assert set(schemas["context_schema"]["properties"]) == {"llm_max_attempts", "llm_backoff_s"}, graph
    mining = client.assistants.get_schemas(assistants["faq_mining"]["assistant_id"])
    assert "tickets" not in mining["output_schema"]["properties"], "untracked channels stay out of the output"
    assert mining["input_schema"].get("required", []) == [], "the run id comes from the thread, not the input"


def test_the_ticket_graph_runs_to_its_interrupt_and_resumes_to_closed(
    client: SyncLangGraphClient, studio: StudioServer
) -> None:
    before = production_rows(studio.database_url)
    thread = new_thread(client, "ticket")
    client.runs.wait(thread, "ticket", input={"ticket": TICKET | {"id": None}})
    waiting = client.threads.get_state(thread)
    assert waiting["next"] == ["await_feedback"], waiting["values"].get("path")
    assert waiting["values"]["email"]["body"], "the e-mail the customer would get is in the thread's state"

    client.runs.wait(thread, "ticket", command={"resume": {"satisfied": "perhaps"}})
    again = client.threads.get_state(thread)
    assert again["next"] == ["await_feedback"], "a refused value leaves the ticket waiting"
    assert "satisfied" in interrupts(again)[0]["value"]["refused"], "and says which field was wrong"

    client.runs.wait(thread, "ticket", command={"resume": {"satisfied": True}})
    assert client.threads.get_state(thread)["values"]["status"] == "closed"
    assert production_rows(studio.database_url) == before, "the sandbox let a write reach production"


def test_faq_mining_on_imported_tickets_stops_at_its_reviews_and_resumes_by_a_decision(
    client: SyncLangGraphClient, studio: StudioServer
) -> None:
    before = production_rows(studio.database_url)
    thread = new_thread(client, "faq_mining")
    client.runs.wait(thread, "faq_mining", input={"request": {"lookback_days": 3650}})
    state = client.threads.get_state(thread)
    assert state["values"]["run_id"] == thread, "the run's id is its thread's"
    assert state["values"]["watermark_advanced"] is True, "a real run would have moved the watermark"
    reviews = interrupts(state)
    assert reviews and all(review["value"]["staging_id"] < 0 for review in reviews), "sandbox candidates only"

    decisions = {review["id"]: {"decision": "approve", "reviewer": "studio-test"} for review in reviews}
    client.runs.wait(thread, "faq_mining", command={"resume": decisions})
    done = client.threads.get_state(thread)
    assert done["next"] == []
    assert {record["status"] for record in done["values"]["reviews"]} == {"APPROVED"}
    assert len(done["values"]["reviews"]) == len(reviews)
    assert production_rows(studio.database_url) == before, "no watermark, candidate or FAQ reached production"


def test_a_bad_mining_request_fails_the_run_with_the_field_named(client: SyncLangGraphClient) -> None:
    thread = new_thread(client, "faq_mining")
    failed = refusal(client, thread, "faq_mining", input={"request": {"lookback_days": "soon"}})
    assert "lookback_days" in failed and "valid MiningRequest" in failed, failed


def test_studio_open_copies_a_real_ticket_that_studio_then_resumes_while_the_ticket_waits(
    client: SyncLangGraphClient, studio: StudioServer, tmp_path: Path
) -> None:
    ticket_file = tmp_path / "ticket.json"
    ticket_file.write_text(json.dumps(TICKET | {"id": "STUDIO-1"}), encoding="utf-8")
    assert json.loads(doxa(studio.env, studio.home, "ticket", "run", str(ticket_file), "--json"))[
        "waiting_for_feedback"
    ]
    opened = json.loads(
        doxa(studio.env, studio.home, "studio", "open", "STUDIO-1", "--port", str(studio.port), "--json")
    )
    copy = opened["thread_id"]
    assert uuid.UUID(copy) and copy in opened["url"]
    thread = client.threads.get(copy)
    assert thread["metadata"]["doxa_copy_of"] == "STUDIO-1"
    assert client.threads.get_state(copy)["next"] == ["await_feedback"]
    assert len(client.threads.get_history(copy, limit=100)) > 5, "Studio sees the ticket's whole history"

    client.runs.wait(copy, "ticket", command={"resume": {"satisfied": True}})
    assert client.threads.get_state(copy)["values"]["status"] == "closed"
    shown = json.loads(doxa(studio.env, studio.home, "ticket", "show", "STUDIO-1", "--json"))
    assert shown["waiting_for_feedback"] and shown["status"] == "answered", "the copy's resume never reached it"

    # `doxa maintenance prune` deletes copies by age, whether or not they wait at an interrupt.
    time.sleep(1.1)
    report = json.loads(doxa(studio.env, studio.home, "maintenance", "prune", "--closed-older-than", "1s", "--json"))
    assert report["studio_copies"] == 1
    with psycopg.connect(studio.database_url, options="-c search_path=agent,public") as conn:
        assert conn.execute("SELECT count(*) FROM studio_thread").fetchone() == (0,)
        left = conn.execute("SELECT count(*) FROM checkpoints WHERE thread_id = %s", (copy,)).fetchone()
    assert left == (0,)


def test_studio_open_refuses_an_unknown_id(studio: StudioServer) -> None:
    with pytest.raises(RuntimeError, match="neither a ticket nor a mining run"):
        doxa(studio.env, studio.home, "studio", "open", "NO-SUCH-TICKET", "--port", str(studio.port))


def test_every_checkpoint_the_runs_wrote_was_read_back_through_the_allow_list(studio: StudioServer) -> None:
    """Runs of the tests above: no state type fell outside the serde allow-list (a run once logged 11 such warnings)."""
    log = studio.log_path.read_text(errors="replace")
    assert "Background run succeeded" in log, "the module's runs went through this server"
    assert "Deserializing unregistered type" not in log
