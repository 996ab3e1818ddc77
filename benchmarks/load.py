"""The HTTP service under load: N concurrent ticket submissions against a real `uvicorn` child on loopback.

    python -m benchmarks.load [--tickets 200] [--concurrency 200] [--async-share 0.2] [--workers 4]
                              [--max-pending 256] [--poll-s 1.0] [--home DIR] [--json]

A temporary DOXA_HOME (embedded PostgreSQL, offline LLM backend), the help-centre articles ingested with
`doxa kb ingest`, then `uvicorn api.main:app` in a child process on a free loopback port with an HS256 secret
made for the run. N tickets (Endava IT tickets, Banking77 questions, help-centre questions, French questions
and examples/tickets) are fired at once from one `httpx.AsyncClient`, at most --concurrency in flight: most as
a synchronous `POST /tickets` (the answer comes when the run ends or waits for feedback), every
1/--async-share-th as `POST /tickets?async=true` (202) followed by `GET /tickets/{id}` polls until it stops
running. A 503 (the service's run pool holds --max-pending runs) is retried after its Retry-After and counted.

At the end every ticket must be answered, awaiting_feedback, escalated, rejected or closed, in the responses
and in `GET /tickets`, with no error: otherwise the script exits 1 and says what went wrong. It prints the
throughput (tickets/s from the first request to the last answer), p50/p95/p99 of the synchronous submissions
(seen by the client: queueing, 503 waits and the run), the async tickets' time to their end, the 503 retries
and the status mix; --json prints the same as one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt

from benchmarks.graph import load_tickets
from benchmarks.retrieval_quality import machine
from core.database import embedded_server
from core.settings import Settings

REPO = Path(__file__).resolve().parents[1]
ARTICLES = REPO / "examples" / "helpcentre" / "articles"
EXAMPLE_TICKETS = REPO / "examples" / "tickets"
KEEPALIVE_EXPIRY_S = 2.0
ENDED = frozenset({"answered", "awaiting_feedback", "escalated", "rejected", "closed"})

# French customers ask the help centre's questions in their own words.
FRENCH_TICKETS = [
    ("Tor est bloqué dans mon pays", "Tor Browser ne se connecte pas ici. Quel pont ou transport dois-je utiliser ?"),
    (
        "Vérifier le téléchargement",
        "J'ai téléchargé Tor Browser : comment vérifier sa signature avant de l'installer ?",
    ),
    ("Tor sur Android", "Existe-t-il un Tor Browser officiel pour mon téléphone Android ? Où le télécharger ?"),
    ("Réglages du proxy", "Mon réseau d'entreprise impose un proxy. Où le configurer dans Tor Browser ?"),
    ("Navigation très lente", "Depuis ce matin Tor Browser est très lent, les pages mettent une minute à charger."),
    ("Carte débitée deux fois", "Ma carte a été débitée deux fois pour le même don, merci de me rembourser."),
    ("Mot de passe oublié", "J'ai oublié mon mot de passe et le lien de réinitialisation n'arrive jamais."),
    ("Captchas partout", "Beaucoup de sites m'affichent des captchas quand j'utilise Tor. Pourquoi ?"),
]


def ticket_bodies(count: int) -> list[dict[str, str]]:
    """`count` request bodies: the graph benchmark's mix, one in six French, one in ten from examples/tickets."""
    examples = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(EXAMPLE_TICKETS.glob("*.json"))]
    bodies: list[dict[str, str]] = []
    for number, (subject, body) in enumerate(load_tickets(count)):
        if number % 6 == 5:
            subject, body = FRENCH_TICKETS[(number // 6) % len(FRENCH_TICKETS)]
        elif number % 10 == 9 and examples:
            example = examples[(number // 10) % len(examples)]
            subject, body = example["subject"], example["body"]
        bodies.append({"subject": subject[:200], "body": body, "customer_email": f"customer{number}@example.com"})
    return bodies


@dataclass
class LoadReport:
    """What the client saw: per-ticket outcomes, latencies, retries and errors."""

    tickets: int
    concurrency: int
    wall_s: float = 0.0
    sync_latencies_s: list[float] = field(default_factory=list)
    async_latencies_s: list[float] = field(default_factory=list)
    statuses: dict[str, str] = field(default_factory=dict)
    listed_statuses: dict[str, str] = field(default_factory=dict)
    retries_503: int = 0
    errors: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """Why the run does not count as a success (empty when every ticket ended without an error)."""
        problems = list(self.errors)
        if len(self.statuses) != self.tickets:
            problems.append(f"{self.tickets - len(self.statuses)} of {self.tickets} tickets got no final status")
        problems += [f"{thread}: status {status!r}" for thread, status in self.statuses.items() if status not in ENDED]
        for thread, status in self.statuses.items():
            if self.listed_statuses.get(thread) != status:
                problems.append(
                    f"{thread}: answered {status!r} but GET /tickets lists {self.listed_statuses.get(thread)!r}"
                )
        return problems

    def as_dict(self) -> dict[str, Any]:
        """The figures, JSON-ready (milliseconds rounded to 1 decimal)."""
        return {
            "tickets": self.tickets,
            "concurrency": self.concurrency,
            "synchronous": len(self.sync_latencies_s),
            "asynchronous": len(self.async_latencies_s),
            "wall_s": round(self.wall_s, 2),
            "tickets_per_s": round(self.tickets / self.wall_s, 2) if self.wall_s else None,
            "sync_ms": {f"p{q}": percentile_ms(self.sync_latencies_s, q) for q in (50, 95, 99)},
            "async_to_end_ms": {f"p{q}": percentile_ms(self.async_latencies_s, q) for q in (50, 95)},
            "retries_503": self.retries_503,
            "errors": len(self.errors),
            "status_mix": dict(sorted(Counter(self.statuses.values()).items())),
            "problems": self.problems(),
        }


def percentile_ms(values: list[float], q: int) -> float | None:
    """The q-th percentile in milliseconds (nearest rank), None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return round(1000 * ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))], 1)


def describe(error: httpx.HTTPError) -> str:
    """The failed request (when httpx knows it) and the error."""
    try:
        request = error.request
    except RuntimeError:  # raised when the error carries no request
        return f"{error.__class__.__name__}: {error}"
    return f"{request.method} {request.url.path}: {error.__class__.__name__}: {error}"


class LoadClient:
    """Submits tickets as a support tool would: retries 503s after Retry-After, polls async tickets to their end."""

    def __init__(
        self, http: httpx.AsyncClient, report: LoadReport, *, retry_after_cap_s: float | None, poll_s: float
    ) -> None:
        self.http = http
        self.report = report
        self.retry_after_cap_s = retry_after_cap_s
        self.poll_s = poll_s

    async def submit(self, thread_id: str, body: dict[str, str], *, run_async: bool) -> None:
        """One ticket to its end; its status, latency or error land in the report."""
        started = time.perf_counter()
        try:
            params = {"async": "true"} if run_async else {}
            response = await self._post_until_accepted({"id": thread_id, **body}, params)
            expected = 202 if run_async else 201
            if response.status_code != expected:
                self.report.errors.append(f"{thread_id}: POST answered {response.status_code}: {response.text[:300]}")
                return
            if run_async:
                status = await self._poll_until_ended(thread_id)
                self.report.async_latencies_s.append(time.perf_counter() - started)
            else:
                status = response.json()["status"]
                self.report.sync_latencies_s.append(time.perf_counter() - started)
            self.report.statuses[thread_id] = status
        except httpx.HTTPError as exc:  # counted as an error of the run, which then fails
            self.report.errors.append(f"{thread_id}: {describe(exc)}")

    async def _post_until_accepted(self, ticket: dict[str, str], params: dict[str, str]) -> httpx.Response:
        while True:
            response = await self.http.post("/tickets", json=ticket, params=params)
            if response.status_code != 503 or "Retry-After" not in response.headers:
                return response
            self.report.retries_503 += 1
            wait_s = float(response.headers["Retry-After"])
            if self.retry_after_cap_s is not None:
                wait_s = min(wait_s, self.retry_after_cap_s)
            await asyncio.sleep(wait_s)

    async def _poll_until_ended(self, thread_id: str) -> str:
        while True:
            response = await self.http.get(f"/tickets/{thread_id}")
            response.raise_for_status()
            shown = response.json()
            if shown["status"] != "running" and not shown["running"]:
                return str(shown["status"])
            await asyncio.sleep(self.poll_s)


async def fire(
    base_url: str,
    headers: dict[str, str],
    bodies: list[dict[str, str]],
    *,
    concurrency: int,
    async_share: float,
    tag: str = "L",
    retry_after_cap_s: float | None = None,
    poll_s: float = 1.0,
    timeout_s: float = 600.0,
) -> LoadReport:
    """Submit every body at once (at most `concurrency` in flight) and wait for each ticket's end."""
    report = LoadReport(tickets=len(bodies), concurrency=concurrency)
    async_every = round(1 / async_share) if async_share > 0 else 0
    gate = asyncio.Semaphore(concurrency)
    # uvicorn closes a connection idle for 5 s; httpx also keeps one 5 s by default, so a request could go out
    # on a connection the server is closing (a ReadError). Idle connections are dropped well before that.
    limits = httpx.Limits(
        max_connections=concurrency, max_keepalive_connections=concurrency, keepalive_expiry=KEEPALIVE_EXPIRY_S
    )
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=timeout_s, limits=limits) as http:
        client = LoadClient(http, report, retry_after_cap_s=retry_after_cap_s, poll_s=poll_s)

        async def one(number: int, body: dict[str, str]) -> None:
            async with gate:
                run_async = bool(async_every) and number % async_every == async_every - 1
                await client.submit(f"{tag}-{number}", body, run_async=run_async)

        started = time.perf_counter()
        await asyncio.gather(*(one(number, body) for number, body in enumerate(bodies)))
        report.wall_s = time.perf_counter() - started
        report.listed_statuses = await listed_statuses(http, f"{tag}-")
    return report


async def listed_statuses(http: httpx.AsyncClient, prefix: str, page: int = 1000) -> dict[str, str]:
    """Every thread `GET /tickets` lists whose id starts with `prefix`, with its status (all pages)."""
    statuses: dict[str, str] = {}
    offset = 0
    while True:
        response = await http.get("/tickets", params={"limit": page, "offset": offset})
        response.raise_for_status()
        items = response.json()["items"]
        statuses |= {item["id"]: item["status"] for item in items if item["id"].startswith(prefix)}
        if len(items) < page:
            return statuses
        offset += page


def bearer(secret: str, roles: list[str], subject: str = "load-test") -> dict[str, str]:
    """An Authorization header with an HS256 token valid for an hour."""
    payload = {"sub": subject, "roles": roles, "exp": int(time.time()) + 3600}
    return {"Authorization": f"Bearer {jwt.encode(payload, secret, algorithm='HS256')}"}


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def service_environment(home: Path, **settings: str) -> dict[str, str]:
    """This process's environment without Doxa settings or an LLM key, plus DOXA_HOME and the given DOXA_* values."""
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("DOXA_")}
    inherited.pop("MISTRAL_API_KEY", None)
    return (
        inherited
        | {"DOXA_HOME": str(home), "PYTHONPATH": str(REPO)}
        | {f"DOXA_{name.upper()}": value for name, value in settings.items()}
    )


class ServiceChild:
    """`uvicorn api.main:app` in a child process on a free loopback port; its log goes to `log_path`."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 240.0) -> None:
        """Start the server and wait until /healthz answers (the lifespan, model included, has run)."""
        command = [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port", str(self.port)]
        with self.log_path.open("ab") as log:
            # cwd away from the checkout, whose .env could configure the child.
            self.process = subprocess.Popen(
                command, cwd=self.log_path.parent, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the service exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"the service did not answer /healthz in {timeout_s} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM (the lifespan lets running tickets finish), then SIGKILL after a minute."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_tail(self) -> str:
        """The end of the service's log."""
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def __enter__(self) -> ServiceChild:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def ingest_help_centre(env: dict[str, str], cwd: Path) -> None:
    """`doxa kb ingest examples/helpcentre/articles` in the service's home (its own process, as an operator would)."""
    command = [sys.executable, "-c", "from cli.main import run; run()", "kb", "ingest", str(ARTICLES)]
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"doxa kb ingest failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")


def print_report(figures: dict[str, Any], settings: dict[str, Any]) -> None:
    """The figures as Markdown lines for BENCHMARKS.md."""
    sync, to_end = figures["sync_ms"], figures["async_to_end_ms"]
    print(f"\n{settings}\n")
    print(
        "| tickets | concurrency | tickets/s | sync p50 / p95 / p99 ms | async to end p50 / p95 ms | 503 retries "
        "| errors | status mix |\n|---|---|---|---|---|---|---|---|"
    )
    mix = ", ".join(f"{status} {count}" for status, count in figures["status_mix"].items())
    print(
        f"| {figures['tickets']} | {figures['concurrency']} | {figures['tickets_per_s']} "
        f"| {sync['p50']} / {sync['p95']} / {sync['p99']} | {to_end['p50']} / {to_end['p95']} "
        f"| {figures['retries_503']} | {figures['errors']} | {mix} |"
    )
    for problem in figures["problems"][:20]:
        print(f"PROBLEM: {problem}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=200, help="Tickets to submit.")
    parser.add_argument("--concurrency", type=int, default=200, help="Requests in flight at once.")
    parser.add_argument("--async-share", type=float, default=0.2, help="Share submitted with ?async=true, polled.")
    parser.add_argument("--poll-s", type=float, default=1.0, help="Seconds between GET polls of an async ticket.")
    parser.add_argument("--workers", type=int, default=4, help="The service's DOXA_API_RUN_WORKERS.")
    parser.add_argument("--max-pending", type=int, default=256, help="The service's DOXA_API_MAX_PENDING_RUNS.")
    parser.add_argument("--home", type=Path, help="DOXA_HOME to use (default: a temporary one, deleted afterwards).")
    parser.add_argument("--json", action="store_true", help="Print the figures as one JSON object.")
    args = parser.parse_args()
    if args.tickets < 1 or args.concurrency < 1 or not 0 <= args.async_share <= 1 or args.poll_s <= 0:
        parser.error("--tickets and --concurrency must be >= 1, --async-share within [0, 1], --poll-s > 0")

    with tempfile.TemporaryDirectory(prefix="doxa-bench-load-") as scratch:
        home = (args.home or Path(scratch) / "home").resolve()
        home.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(32)
        # This process owns the embedded Postgres and the children connect to it: uvicorn re-raises the SIGTERM
        # that stops it, so the child's exit handlers (which would stop the server) never run.
        server = embedded_server(Settings(home=home, mistral_api_key=None))
        env = service_environment(
            home,
            database_url=str(server.get_uri()),
            jwt_secret=secret,
            api_run_workers=str(args.workers),
            api_max_pending_runs=str(args.max_pending),
            scheduler_enabled="false",
        )
        try:
            ingest_help_centre(env, home)
            load_before = os.getloadavg()[0]
            with ServiceChild(env, home / "service.log") as service:
                report = asyncio.run(
                    fire(
                        service.url,
                        bearer(secret, ["agent"]),
                        ticket_bodies(args.tickets),
                        concurrency=args.concurrency,
                        async_share=args.async_share,
                        poll_s=args.poll_s,
                    )
                )
        finally:
            server.cleanup()
        figures = report.as_dict()
        run = {
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": machine(),
            "workers": args.workers,
            "max_pending": args.max_pending,
            "poll_s": args.poll_s,
            "load_before": round(load_before, 1),
            "load_after": round(os.getloadavg()[0], 1),
        }
    if args.json:
        print(json.dumps(figures | {"run": run}, indent=2))
    else:
        print_report(figures, run)
    if figures["problems"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
