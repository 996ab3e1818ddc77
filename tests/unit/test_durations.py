from datetime import timedelta

import pytest

from core.durations import format_duration, parse_duration
from core.errors import InvalidInputError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", timedelta(days=30)),
        ("12h", timedelta(hours=12)),
        ("90m", timedelta(minutes=90)),
        ("45s", timedelta(seconds=45)),
        ("2w", timedelta(weeks=2)),
        (" 7d ", timedelta(days=7)),
    ],
)
def test_durations_are_read(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "30", "d", "30x", "1.5h", "-3d", "0d", "30 days", "3d12h"])
def test_bad_durations_say_what_is_expected(text: str) -> None:
    with pytest.raises(InvalidInputError, match="invalid duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    "duration", [timedelta(days=30), timedelta(minutes=90), timedelta(seconds=61), timedelta(weeks=3)]
)
def test_formatted_durations_read_back(duration: timedelta) -> None:
    assert parse_duration(format_duration(duration)) == duration
    assert format_duration(timedelta(days=30)) == "30d"
