"""How every `doxa` command reports an error and exits.

Exit codes, the same in every command:
- 0: done.
- 1 (`EXIT_FAILED`): the operation ran and failed — nothing was ingested, no e-mail could be sent, a dump or
  restore failed, the thread is not in a state that allows this (already decided, not waiting, taken id).
- 2 (`EXIT_USAGE`): the input is wrong — an unknown option value, an unreadable or invalid file, a duration
  or date that does not parse, a path that does not exist, an existing dump file. The `doxa faq` review
  commands answer 2 to every refusal of the review operations (an unknown or already decided candidate),
  which scripts already read; `doxa ticket` and `doxa improve resolve` answer 1 to an unknown or
  already-closed record.

Messages go to stderr as `error: …`, with rich markup escaped: a message quoting user text (a file name, a
ticket subject with `[brackets]`) prints as written instead of being read as markup. So do the notices of a
slow first call (loading the embedding model, starting the embedded PostgreSQL), one dim line each, so that
stdout stays the result (`--json` prints nothing else).
"""

from __future__ import annotations

import logging
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from core.logging import first_use_log

EXIT_FAILED = 1
EXIT_USAGE = 2

_errors = Console(stderr=True)


def error(message: str) -> None:
    """Print `error: message` to stderr (markup escaped, never wrapped)."""
    _errors.print(f"[red]error:[/red] {escape(message)}", markup=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """Print `error: message` to stderr and exit with `code` (EXIT_FAILED or EXIT_USAGE)."""
    error(message)
    raise typer.Exit(code)


class _DimLine(logging.Handler):
    """Prints a record's message alone, dimmed, on stderr: a notice for the person waiting, not a log line."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            _errors.print(record.getMessage(), style="dim", markup=False, highlight=False, soft_wrap=True)
        except Exception:  # logging's contract: a handler reports its own failure and never raises
            self.handleError(record)


def show_first_use_notices() -> None:
    """Print core.logging's first-use notices as dim stderr lines, whatever DOXA_LOG_LEVEL says."""
    first_use_log.handlers[:] = [_DimLine()]
    first_use_log.setLevel(logging.INFO)
    first_use_log.propagate = False
