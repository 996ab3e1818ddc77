"""`doxa config`: every setting, its current value and what it means."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

from core.settings import Settings, get_settings


def _shown(value: object) -> str:
    if isinstance(value, SecretStr):
        return "********" if value.get_secret_value() else ""
    return "" if value is None else str(value)


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
