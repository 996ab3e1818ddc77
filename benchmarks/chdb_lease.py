"""What sharing the embedded ClickHouse between processes costs: opening chdb per burst of queries.

`ChdbClickHouse` (core/clickhouse.py) opens the engine when a query comes and releases it after
DOXA_CHDB_IDLE_RELEASE_S without one, so `doxa serve` and the CLI take turns on one data path. This prints
the seconds of a first open, of a query on an open engine, and of a query that has to open it again
(release 0: every query pays the open), as p50 / max over `--rounds`.

    python -m benchmarks.chdb_lease --rounds 20
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from core.clickhouse import ChdbClickHouse


def timed(action: object) -> float:
    """Seconds `action()` took."""
    started = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - started


def main() -> None:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20, help="Queries measured per case.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="doxa-bench-chdb-") as scratch:
        held = ChdbClickHouse(Path(scratch) / "clickhouse", idle_release_s=3600)
        first = timed(lambda: held.command("CREATE TABLE t (a Int64) ENGINE = MergeTree ORDER BY a"))
        held.command("INSERT INTO t SELECT number FROM numbers(1000)")
        warm = [timed(lambda: held.query("SELECT count() AS n FROM t")) for _ in range(args.rounds)]
        held.close()
        reopening = ChdbClickHouse(Path(scratch) / "clickhouse", idle_release_s=0)
        cold = [timed(lambda: reopening.query("SELECT count() AS n FROM t")) for _ in range(args.rounds)]
    print(f"first open + CREATE TABLE   {first * 1000:7.1f} ms")
    for name, figures in (("query, engine open", warm), ("query that reopens it", cold)):
        print(f"{name:<27} {statistics.median(figures) * 1000:7.1f} ms p50, {max(figures) * 1000:7.1f} ms max")


if __name__ == "__main__":
    main()
