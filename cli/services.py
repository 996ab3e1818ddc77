"""The services a command works on, opened from the configured settings.

`core.services` is imported when a command runs, not when the CLI starts: `doxa --help` must not load the
model, the database driver or chdb. Tests point a command module's `open_services` at their own services
(tests/cli_services.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from core.settings import get_settings

if TYPE_CHECKING:
    from core.services import Services


@contextmanager
def open_services() -> Iterator[Services]:
    """The configured services, closed when the command is done."""
    from core.services import Services

    with Services.open(get_settings()) as services:
        yield services
