"""Every benchmark command the docs give runs as written: `python -m benchmarks.<module>`, a module that exists."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", REPO / "BENCHMARKS.md", REPO / "RELIABILITY.md", REPO / "Makefile"]
SOURCES = [*DOCS, *sorted((REPO / "benchmarks").glob("*.py")), *sorted((REPO / "tests").rglob("*.py"))]
MODULE_COMMAND = re.compile(r"python -m benchmarks\.(\w+)")
# A file under benchmarks/ run as a script fails ("No module named 'benchmarks'"): it imports itself absolutely.
SCRIPT_COMMAND = re.compile(r"python3? benchmarks/\w+\.py")


def test_no_doc_runs_a_benchmark_as_a_script() -> None:
    found = [f"{path.name}: {m.group(0)}" for path in SOURCES for m in SCRIPT_COMMAND.finditer(path.read_text())]
    assert found == []


def test_every_documented_benchmark_module_exists_and_runs_as_main() -> None:
    named = {m.group(1) for path in SOURCES for m in MODULE_COMMAND.finditer(path.read_text())}
    assert {"retrieval", "graph", "embedding"} <= named  # the scan reads the docs at all
    for module in sorted(named):
        source = REPO / "benchmarks" / f"{module}.py"
        assert source.is_file(), f"python -m benchmarks.{module}: no such module"
        assert 'if __name__ == "__main__":' in source.read_text(), f"benchmarks/{module}.py has no main guard"
