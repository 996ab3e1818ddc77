"""`doxa --help`, every command's `--help` and `doxa config` do not import the heavy stacks the commands need.

The figure itself (seconds) is measured in BENCHMARKS.md, not asserted: this checks which modules load, in a
fresh interpreter, since a test process has long imported all of them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
# Each costs from a tenth of a second to seconds; the commands that use them import them in their bodies.
HEAVY = (
    "torch",
    "sentence_transformers",
    "onnxruntime",
    "sklearn",
    "scipy",
    "langgraph",
    "langchain_core",
    "psycopg",
    "chdb",
    "qdrant_client",
    "fastapi",
)
# Walks the command tree and asks each group and command for its help, the way a shell user would.
HELP_PROBE = """
import json, sys
from typer.main import get_command
from typer.testing import CliRunner
import cli.main

def paths(command, prefix):
    yield prefix
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from paths(sub, [*prefix, name])

runner = CliRunner()
codes = {}
for path in paths(get_command(cli.main.app), []):
    result = runner.invoke(cli.main.app, [*path, "--help"])
    codes[" ".join(["doxa", *path])] = [result.exit_code, result.output[-300:]]
print(json.dumps({"codes": codes, "loaded": [m for m in HEAVY if m in sys.modules]}))
"""


def _probe(code: str, home: Path | None = None) -> Any:
    """Run `code` in a fresh interpreter (HEAVY defined) and return the JSON of its last line."""
    script = f"HEAVY = {list(HEAVY)!r}\n{code}"
    env = os.environ | ({"DOXA_HOME": str(home)} if home else {})
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_the_cli_leaves_the_heavy_stacks_unloaded() -> None:
    probe = _probe("import json, sys, cli.main\nprint(json.dumps([m for m in HEAVY if m in sys.modules]))")
    assert probe == []


def test_every_help_exits_0_without_loading_the_heavy_stacks() -> None:
    probe = _probe(HELP_PROBE)
    codes = probe["codes"]
    # The root, every sub-app (kb, faq, outbox, ...) and the commands under them, e.g. `doxa outbox list`.
    assert {"doxa", "doxa config", "doxa outbox", "doxa outbox list", "doxa faq approve"} <= codes.keys()
    assert {path: output for path, (code, output) in codes.items() if code != 0} == {}
    assert probe["loaded"] == []


def test_doxa_config_prints_json_without_loading_the_heavy_stacks(tmp_path: Path) -> None:
    probe = _probe(
        "import json, sys\n"
        "from typer.testing import CliRunner\n"
        "import cli.main\n"
        "result = CliRunner().invoke(cli.main.app, ['config', '--json'])\n"
        "print(json.dumps({'code': result.exit_code, 'settings': json.loads(result.stdout),"
        " 'loaded': [m for m in HEAVY if m in sys.modules]}))",
        home=tmp_path,
    )
    assert probe["code"] == 0
    assert probe["settings"]["DOXA_HOME"] == str(tmp_path.resolve())
    assert probe["loaded"] == []
