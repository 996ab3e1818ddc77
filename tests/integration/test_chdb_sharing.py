"""The embedded ClickHouse shared by two processes on one DOXA_HOME, as `doxa serve` and the CLI share it.

chdb lets one process open a data path at a time. The engine is opened per use and released when idle
(core/clickhouse.py), so a CLI command succeeds while another process (the server) has used ClickHouse;
and while the other one really holds it, the command waits, then fails in one line, never a traceback.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.load import service_environment

REPO = Path(__file__).resolve().parents[2]
# Another process using the engine the way `doxa serve` does: a query (as /readyz makes), then serving on.
HOLDER = """
import sys, time
from core.clickhouse import open_clickhouse
from core.settings import Settings
engine = open_clickhouse(Settings())
engine.command("CREATE DATABASE IF NOT EXISTS ticketing")
print(engine.query("SELECT 1 AS ok")[0]["ok"], flush=True)
time.sleep(float(sys.argv[1]))
"""


def doxa(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from cli.main import run; run()", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)


def start_holder(env: dict[str, str], seconds: float) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(seconds)], cwd=REPO, env=env, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "1"
    return holder


def test_cli_commands_work_while_another_process_has_used_clickhouse(tmp_path: Path) -> None:
    env = service_environment(tmp_path / "home", chdb_idle_release_s="0.2")
    export = tmp_path / "tickets.jsonl"
    export.write_text(
        json.dumps({"id": "T-1", "body": "The VPN drops.", "status": "Closed", "closed_at": "2026-01-05T10:00:00Z"})
        + "\n"
    )
    holder = start_holder(env, seconds=60)
    try:
        time.sleep(0.5)  # past the holder's idle release: it still runs, but no longer holds the engine
        imported = doxa(env, tmp_path, "tickets", "import", str(export), "--json")
        assert imported.returncode == 0, imported.stderr
        assert json.loads(imported.stdout)["imported"] == 1
        stats = doxa(env, tmp_path, "tickets", "stats", "--json")
        assert stats.returncode == 0, stats.stderr
        assert "Closed" in stats.stdout
    finally:
        holder.kill()
        holder.wait()


def test_an_engine_held_longer_than_the_wait_gives_one_line_saying_what_to_do(tmp_path: Path) -> None:
    holding = service_environment(tmp_path / "home", chdb_idle_release_s="120")
    holder = start_holder(holding, seconds=60)
    try:
        waiting = service_environment(tmp_path / "home", chdb_lock_wait_s="1")
        refused = doxa(waiting, tmp_path, "tickets", "stats")
        assert refused.returncode != 0
        assert "Traceback" not in refused.stderr
        message = [line for line in refused.stderr.splitlines() if line.strip()]
        assert len(message) == 1, refused.stderr
        assert f"in use by process {holder.pid}" in message[0] and "DOXA_CLICKHOUSE_URL" in message[0]
    finally:
        holder.kill()
        holder.wait()
