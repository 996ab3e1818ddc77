"""Timestamps in JSON as the stores have always written them: `datetime.isoformat()`.

Pydantic's own form differs (`Z` for UTC, microseconds always shown); records that the API answers with
directly annotate their timestamps with `IsoTimestamp`, so their JSON stays what clients already read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import PlainSerializer, WithJsonSchema

IsoTimestamp = Annotated[
    datetime,
    PlainSerializer(lambda value: value.isoformat(), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
