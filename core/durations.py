"""Human durations for operations commands and settings: `30d`, `12h`, `90m`, `45s`, `2w`."""

from __future__ import annotations

import re
from datetime import timedelta

from core.errors import InvalidInputError

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


def parse_duration(text: str) -> timedelta:
    """`30d` -> 30 days. One whole number and one unit (s, m, h, d, w); anything else is InvalidInputError.

    Example:
        >>> parse_duration("90m")
        datetime.timedelta(seconds=5400)
    """
    match = _DURATION.match(text)
    if not match:
        raise InvalidInputError(
            f"invalid duration {text!r}: expected a whole number and a unit, such as 30d, 12h, 90m, 45s or 2w"
        )
    amount, unit = int(match.group(1)), match.group(2)
    if amount == 0:
        raise InvalidInputError(f"invalid duration {text!r}: it must be longer than zero")
    return timedelta(seconds=amount * _UNIT_SECONDS[unit])


def format_duration(duration: timedelta) -> str:
    """The shortest exact form `parse_duration` reads back (`timedelta(days=30)` -> `30d`)."""
    seconds = int(duration.total_seconds())
    for unit in ("w", "d", "h", "m"):
        if seconds and seconds % _UNIT_SECONDS[unit] == 0:
            return f"{seconds // _UNIT_SECONDS[unit]}{unit}"
    return f"{seconds}s"
