"""`doxa studio`: LangGraph Studio as a debugging bench over Doxa's real threads, never over its customers.

- `doxa studio [--port] [--no-browser]` runs `langgraph dev` on Doxa's Postgres checkpointer with the config
  written under DOXA_HOME/studio (cli/studio_server.py), in the sandbox unless DOXA_STUDIO_SANDBOX is off.
- `doxa studio open TICKET_ID|RUN_ID [--json]` copies that thread to a new UUID thread the running server
  knows (core/graph_runtime/thread_copy.py) and prints where Studio shows it.

A fix found on a copy reaches the real ticket only through Doxa's own paths (`doxa ticket feedback`, ...).

Exit codes: 0 done; 1 the server could not start or be reached, or the thread is running; 2 an unknown id.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from urllib.parse import quote

import typer
from dotenv import dotenv_values
from rich.console import Console

from cli.output import EXIT_USAGE, fail
from core.errors import ConflictError, NotFoundError
from core.settings import Settings, get_settings

if TYPE_CHECKING:
    # LangGraph's Postgres saver (cli.studio_server), psycopg and httpx load in the commands, not for `--help`.
    from core.database import Database
    from core.graph_runtime.thread_copy import ThreadCopy

app = typer.Typer(
    help="LangGraph Studio on Doxa's threads: a local server (sandboxed) and copies of real threads to debug.",
    invoke_without_command=True,
)
_console = Console()
STUDIO_ORIGIN = "https://smith.langchain.com"


def base_url(port: int) -> str:
    """The local server's address."""
    return f"http://127.0.0.1:{port}"


def studio_url(port: int, thread_id: str | None = None) -> str:
    """Studio's page for the local server, or for one of its threads."""
    page = f"/studio/thread/{thread_id}" if thread_id else "/studio/"
    return f"{STUDIO_ORIGIN}{page}?baseUrl={quote(base_url(port), safe=':/')}"


def langgraph_executable() -> str | None:
    """The checkout's .venv-studio langgraph (scripts/studio-venv.sh), else one on PATH."""
    from cli.studio_server import CHECKOUT

    local = CHECKOUT / ".venv-studio" / "bin" / "langgraph"
    return str(local) if local.exists() else shutil.which("langgraph")


def server_environment(settings: Settings) -> dict[str, str]:
    """The environment, plus the working directory's .env and DOXA_HOME (the server runs from DOXA_HOME/studio)."""
    from_dotenv = {key: value for key, value in dotenv_values(Path(".env")).items() if value is not None}
    return from_dotenv | dict(os.environ) | {"DOXA_HOME": str(settings.home)}


@app.callback()
def studio(
    ctx: typer.Context,
    port: Annotated[
        int | None, typer.Option("--port", min=1, max=65_535, help="Port (default DOXA_STUDIO_PORT).")
    ] = None,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Do not open Studio in a browser.")] = False,
) -> None:
    """Run the Studio server (until Ctrl+C), sandboxed unless DOXA_STUDIO_SANDBOX=false."""
    if ctx.invoked_subcommand is not None:
        return
    from cli.studio_server import studio_dir, write_server_config

    settings = get_settings()
    executable = langgraph_executable()
    if executable is None:
        fail("langgraph-cli is not installed: run scripts/studio-venv.sh (it creates .venv-studio)")
    config = write_server_config(settings)
    port = port or settings.studio_port
    if settings.studio_sandbox:
        _console.print("Studio sandbox on: no e-mail, escalation, KB gap, watermark or FAQ reaches production.")
    else:
        _console.print(
            "[bold red]WARNING: DOXA_STUDIO_SANDBOX is off. Studio runs act FOR REAL: e-mails are queued to "
            "customers, escalations opened, watermarks moved, FAQs promoted.[/bold red]"
        )
    _console.print(f"Studio: {studio_url(port)}", soft_wrap=True)
    command = [executable, "dev", "--config", str(config), "--host", "127.0.0.1", "--port", str(port), "--no-reload"]
    if no_browser:
        command.append("--no-browser")
    try:
        done = subprocess.run(command, cwd=studio_dir(settings), env=server_environment(settings), check=False)
    except KeyboardInterrupt:
        return
    if done.returncode not in (0, -2, 130):
        fail(f"langgraph dev exited with {done.returncode}")


def graph_of(db: Database, thread_id: str) -> str:
    """Which graph a thread id belongs to: a ticket's, or a mining run's (by its staged candidates or its name)."""
    with db.connection() as conn:
        if conn.execute("SELECT 1 FROM ticket WHERE id = %s", (thread_id,)).fetchone():
            return "ticket"
        if conn.execute("SELECT 1 FROM faq_staging WHERE run_id = %s LIMIT 1", (thread_id,)).fetchone():
            return "faq_mining"
        conn.rollback()
    if thread_id.startswith("mine-"):
        return "faq_mining"
    raise NotFoundError(f"{thread_id} is neither a ticket nor a mining run Doxa knows")


def register(copy: ThreadCopy, port: int) -> None:
    """Tell the Studio server about the copy (its own registry needs the thread before Studio can list it)."""
    from langgraph_sdk import get_sync_client

    client = get_sync_client(url=base_url(port))
    client.threads.create(
        thread_id=copy.thread_id,
        graph_id=copy.graph,
        if_exists="raise",
        metadata={
            "graph_id": copy.graph,
            "doxa_copy_of": copy.source_thread_id,
            "doxa_source_checkpoint": copy.source_checkpoint_id,
        },
    )


@app.command("open")
def open_thread(
    thread_id: Annotated[str, typer.Argument(help="A ticket id or a mining run id.")],
    port: Annotated[
        int | None, typer.Option("--port", help="The Studio server's port (default DOXA_STUDIO_PORT).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print {thread_id, url} as JSON.")] = False,
) -> None:
    """Copy a thread's checkpoints to a new Studio thread; the real ticket or run is left as it is."""
    import httpx

    from core.database import Database
    from core.graph_runtime.thread_copy import copy_thread, delete_copy

    settings = get_settings()
    port = port or settings.studio_port
    with Database.open(settings) as db:
        try:
            copy = copy_thread(db, thread_id, graph_of(db, thread_id))
        except NotFoundError as exc:
            fail(str(exc), EXIT_USAGE)
        except ConflictError as exc:
            fail(str(exc))
        try:
            register(copy, port)
        except httpx.HTTPError as exc:  # refused or unreachable: leave no unregistered copy behind
            delete_copy(db, copy.thread_id)
            fail(f"the Studio server at {base_url(port)} did not take the copy ({exc}); is `doxa studio` running?")
    url = studio_url(port, copy.thread_id)
    if as_json:
        typer.echo(json.dumps({"thread_id": copy.thread_id, "url": url}))
        return
    _console.print(
        f"{thread_id} copied to Studio thread {copy.thread_id} (from checkpoint {copy.source_checkpoint_id})"
    )
    _console.print(url, soft_wrap=True)
    _console.print("Fixes found there reach the ticket only through Doxa (`doxa ticket feedback`, ...).")
