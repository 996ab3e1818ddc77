"""`doxa --help` and the light commands do not import the heavy stacks that only some commands need.

The figure itself (seconds) is measured, not asserted: this checks which modules a bare `import cli.main`
loads, in a fresh interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Loaded on first use by the commands that need them (classify evaluate, a Qdrant server, faq mine).
LAZY = ("sklearn", "qdrant_client")


def test_importing_the_cli_leaves_scikit_learn_and_qdrant_unloaded() -> None:
    probe = f"import json, sys, cli.main; print(json.dumps([m for m in {list(LAZY)!r} if m in sys.modules]))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
