"""What a benchmark ran on: the commit, and the uncommitted files that the figures include."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def code_commit() -> str:
    """The commit measured, followed by the tracked files changed in the working tree (if any)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True, cwd=REPO
        )
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True, cwd=REPO
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown commit"
    files = [line[3:] for line in changed.stdout.splitlines()]
    return head.stdout.strip() + (f" (+ uncommitted: {', '.join(files)})" if files else "")
