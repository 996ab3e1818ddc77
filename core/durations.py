"""Human durations for operations commands and settings: `30d`, `12h`, `90m`, `45s`, `2w`.

One reader for them all: `parse_duration` (retention, schedules) and `ops.improvement.parse_since` (a report
window's `7d`) both match through `match_duration`.
"""

from __future__ import annotations

import re
from datetime import timedelta

from core.errors import InvalidInputError

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


def match_duration(text: str, units: str = "smhdw") -> timedelta | None:
    """`text` as a duration when it is one whole number and one of `units` (lower case), else None; 0 allowed.

    Example:
        >>> match_duration("12h", units="hdw")
        datetime.timedelta(seconds=43200)
    """
    match = re.fullmatch(rf"\s*(\d+)\s*([{re.escape(units)}])\s*", text)
    return None if match is None else timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def parse_duration(text: str) -> timedelta:
    """`30d` -> 30 days. One whole number and one unit (s, m, h, d, w); anything else is InvalidInputError.

    Example:
        >>> parse_duration("90m")
        datetime.timedelta(seconds=5400)
    """
    duration = match_duration(text)
    if duration is None:
        raise InvalidInputError(
            f"invalid duration {text!r}: expected a whole number and a unit, such as 30d, 12h, 90m, 45s or 2w"
        )
    if not duration:
        raise InvalidInputError(f"invalid duration {text!r}: it must be longer than zero")
    return duration


def format_duration(duration: timedelta) -> str:
    """The shortest exact form `parse_duration` reads back (`timedelta(days=30)` -> `30d`)."""
    seconds = int(duration.total_seconds())
    for unit in ("w", "d", "h", "m"):
        if seconds and seconds % _UNIT_SECONDS[unit] == 0:
            return f"{seconds // _UNIT_SECONDS[unit]}{unit}"
    return f"{seconds}s"
