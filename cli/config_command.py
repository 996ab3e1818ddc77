"""`doxa config`: every setting, its current value and what it means."""

from __future__ import annotations

import json
import re
from typing import Annotated

import typer
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

from core.settings import Settings, get_settings

# "scheme://user:password@host": the userinfo of any URL-shaped value, wherever it sits in the string.
_URL_USERINFO = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.-]*://)(?P<userinfo>[^\s/@]+)@", re.IGNORECASE)


def _shown(value: object) -> str:
    """A setting as printed: secrets masked, and the user and password of every URL setting too."""
    if isinstance(value, SecretStr):
        return "********" if value.get_secret_value() else ""
    return "" if value is None else mask_url_userinfo(str(value))


def mask_url_userinfo(text: str) -> str:
    """`smtp://bob:hunter2@mail:587` -> `smtp://********@mail:587` (DOXA_SMTP_URL, DATABASE_URL, CLICKHOUSE_URL...)."""
    return _URL_USERINFO.sub(lambda match: f"{match['scheme']}********@", text)


def show_config(json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False) -> None:
    """Show the effective configuration (secrets masked) and the variable that sets each value."""
    settings = get_settings()
    rows = []
    for name, field in Settings.model_fields.items():
        variable = field.validation_alias if isinstance(field.validation_alias, str) else f"DOXA_{name.upper()}"
        rows.append((variable, _shown(getattr(settings, name)), field.description or ""))
    if json_output:
        typer.echo(json.dumps({variable: value for variable, value, _ in rows}, indent=2))
        return
    table = Table("variable", "value", "meaning", show_lines=False)
    for row in rows:
        table.add_row(*row)
    Console().print(table)
