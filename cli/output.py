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
ticket subject with `[brackets]`) prints as written instead of being read as markup.
"""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

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
