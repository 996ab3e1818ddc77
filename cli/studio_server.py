"""The LangGraph dev server behind `doxa studio`: its config under DOXA_HOME, and the checkpointer it loads.

The server runs on Doxa's own Postgres checkpoint tables (`"checkpointer": {"path": ...}` in its
langgraph.json, read by langgraph-api >= 0.16), so a copy of a production thread (`doxa studio open`) is
readable in Studio and what Studio writes is readable by Doxa. The checkpointer deserializes only both graphs'
own state types (the serde allow-list), the same list the service's savers use.

The config is written to DOXA_HOME/studio/langgraph.json rather than the checkout: it names this checkout's
graph files by absolute path, and the server keeps its own thread registry (`.langgraph_api/`) beside it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from psycopg import AsyncConnection
from psycopg.rows import DictRow
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel

from core.database import connection_kwargs, resolve_database_url
from core.graph_runtime.checkpoints import checkpoint_serializer
from core.settings import Settings, get_settings

CHECKOUT = Path(__file__).resolve().parents[1]


def allowed_types() -> list[type[BaseModel]]:
    """Every pydantic type either graph checkpoints (imported late: the graphs' modules are heavy)."""
    from faq_mining.state import CHECKPOINT_TYPES as MINING_TYPES
    from graph.ticket_service import CHECKPOINT_TYPES as TICKET_TYPES

    return [*TICKET_TYPES, *MINING_TYPES]


def studio_dir(settings: Settings) -> Path:
    """Where the server's config and its thread registry live."""
    return settings.home / "studio"


def server_config(checkout: Path = CHECKOUT) -> dict[str, Any]:
    """The langgraph.json of the Studio server: the checkout's graphs on Doxa's checkpointer, with the allow-list."""
    spec = json.loads((checkout / "langgraph.json").read_text(encoding="utf-8"))
    graphs = {name: str(checkout / path.removeprefix("./")) for name, path in spec["graphs"].items()}
    return {
        "$schema": spec.get("$schema", "https://langgra.ph/schema.json"),
        "python_version": spec.get("python_version", "3.11"),
        "dependencies": [str(checkout)],
        "graphs": graphs,
        "checkpointer": {
            "path": f"{checkout / 'cli' / 'studio_server.py'}:checkpointer",
            "serde": {
                "allowed_json_modules": [[*t.__module__.split("."), t.__name__] for t in allowed_types()],
                "pickle_fallback": False,
            },
        },
    }


def write_server_config(settings: Settings, checkout: Path = CHECKOUT) -> Path:
    """Write the config under DOXA_HOME/studio and return its path."""
    folder = studio_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "langgraph.json"
    path.write_text(json.dumps(server_config(checkout), indent=2) + "\n", encoding="utf-8")
    return path


@asynccontextmanager
async def checkpointer() -> AsyncIterator[AsyncPostgresSaver]:
    """The Studio server's checkpointer: Doxa's checkpoint tables, through the settings' database.

    The database URL is resolved in a worker thread: starting the embedded PostgreSQL blocks, and the server
    refuses blocking calls on its event loop.
    """
    settings = get_settings()
    url = await asyncio.to_thread(resolve_database_url, settings)
    kwargs = connection_kwargs(settings) | {"autocommit": True}
    async with AsyncConnectionPool[AsyncConnection[DictRow]](
        url, kwargs=kwargs, min_size=1, max_size=settings.db_pool_max, open=False
    ) as pool:
        saver = AsyncPostgresSaver(pool, serde=checkpoint_serializer(allowed_types()))
        await saver.setup()
        yield saver
